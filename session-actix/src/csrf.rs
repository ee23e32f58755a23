//! The CSRF guard for actix-web: a middleware, inside the [`SessionMiddleware`](crate::SessionMiddleware),
//! that answers 403 to an unsafe request without one of its session's tokens, and passes the rest on
//! untouched.

use std::future::{self, Future, Ready};
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;
use std::task::{Context, Poll};

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Payload, Service, ServiceRequest, ServiceResponse, Transform};
use actix_web::http::header::CONTENT_TYPE;
use actix_web::{HttpResponse, web};
pub use session_core::middleware::CsrfConfig;

use crate::handle::Session;

/// Checks the session's CSRF token on every unsafe request (`POST`, `PUT`, `PATCH`, `DELETE`, …):
/// from the `X-CSRF-Token` header, or the `csrf_token` field of an
/// `application/x-www-form-urlencoded` form (whose body it reads, up to the form limit, and hands on
/// whole). A request without a valid token is answered `403 Forbidden`; the handler never runs.
/// Names, exempt paths and the limit are [`CsrfConfig`]'s.
///
/// The tokens are those of the untagged session (`Session`, the middleware built with `new`): the one an
/// app's login lives in.
///
/// Wrap it inside the session middleware (`wrap` it first), so it finds the session:
///
/// ```
/// use actix_web::{App, web};
/// use session_actix::{CsrfMiddleware, Session, SessionError, SessionMiddleware};
/// use session_cookie::EncryptedCookieStorage;
///
/// async fn form(session: Session) -> Result<String, SessionError> {
///     let token = session.csrf_token()?;
///     Ok(format!(r#"<form method="post"><input type="hidden" name="csrf_token" value="{token}">…"#))
/// }
///
/// async fn submit() -> &'static str {
///     "only with the token"
/// }
///
/// let storage = EncryptedCookieStorage::new(EncryptedCookieStorage::generate_key())?;
/// let app = App::new()
///     .route("/", web::get().to(form))
///     .route("/", web::post().to(submit))
///     .wrap(CsrfMiddleware::new())
///     .wrap(SessionMiddleware::new(storage));
/// # let _ = app;
/// # Ok::<(), session_cookie::KeyError>(())
/// ```
#[derive(Clone, Debug, Default)]
pub struct CsrfMiddleware {
    config: Arc<CsrfConfig>,
}

impl CsrfMiddleware {
    /// The guard with [`CsrfConfig`]'s defaults.
    pub fn new() -> Self {
        Self::default()
    }

    /// The guard with `config`'s names, exempt paths and form limit.
    pub fn with_config(config: CsrfConfig) -> Self {
        CsrfMiddleware { config: Arc::new(config) }
    }
}

impl<S, B> Transform<S, ServiceRequest> for CsrfMiddleware
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = actix_web::Error;
    type Transform = CsrfService<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        future::ready(Ok(CsrfService { service: Rc::new(service), config: Arc::clone(&self.config) }))
    }
}

/// The service [`CsrfMiddleware`] wraps around the app.
#[derive(Debug)]
pub struct CsrfService<S> {
    service: Rc<S>,
    config: Arc<CsrfConfig>,
}

impl<S, B> Service<ServiceRequest> for CsrfService<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>>>>;

    fn poll_ready(&self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.service.poll_ready(cx)
    }

    fn call(&self, request: ServiceRequest) -> Self::Future {
        let service = Rc::clone(&self.service);
        if !self.config.checks(request.method().as_str(), request.path()) {
            return Box::pin(async move { Ok(service.call(request).await?.map_into_left_body()) });
        }
        let config = Arc::clone(&self.config);
        Box::pin(async move {
            let mut request = request;
            let session = match Session::<()>::load(request.request()).await {
                Ok(session) => session,
                Err(error) => return Ok(request.into_response(error.response()).map_into_right_body()),
            };
            let valid = match submitted_token(&mut request, &config).await.map(|token| session.verify_csrf(&token)) {
                Some(Ok(valid)) => valid,
                Some(Err(error)) => return Ok(request.into_response(error.response()).map_into_right_body()),
                None => false,
            };
            if !valid {
                let forbidden = HttpResponse::Forbidden().body("missing or invalid CSRF token");
                return Ok(request.into_response(forbidden).map_into_right_body());
            }
            Ok(service.call(request).await?.map_into_left_body())
        })
    }
}

/// The token the request carries, from the header or else a form body (read whole, then put back).
async fn submitted_token(request: &mut ServiceRequest, config: &CsrfConfig) -> Option<String> {
    if let Some(token) = request.headers().get(config.header()).and_then(|value| value.to_str().ok()) {
        return Some(token.to_owned());
    }
    if !CsrfConfig::is_form(request.headers().get(CONTENT_TYPE).map(|value| value.as_bytes())) {
        return None;
    }
    let payload = request.extract::<web::Payload>().await.ok()?;
    match payload.to_bytes_limited(config.form_limit()).await {
        Ok(Ok(bytes)) => {
            let token = config.token_in_form(&bytes);
            request.set_payload(Payload::from(bytes));
            token
        }
        // Too long, or the client went away: no token (and the request is refused).
        _ => None,
    }
}
