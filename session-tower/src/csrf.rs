//! The CSRF guard for axum: a layer, inside the [`SessionLayer`](crate::SessionLayer), that answers 403
//! to an unsafe request without one of its session's tokens, and passes the rest on untouched.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum_core::body::Body;
use axum_core::response::{IntoResponse, Response};
use http::header::CONTENT_TYPE;
use http::{Request, StatusCode};
use http_body_util::{BodyExt, Limited};
pub use session_core::middleware::CsrfConfig;
use tower_layer::Layer;
use tower_service::Service;

use crate::handle::Session;

/// Checks the session's CSRF token on every unsafe request (`POST`, `PUT`, `PATCH`, `DELETE`, …):
/// from the `X-CSRF-Token` header, or the `csrf_token` field of an
/// `application/x-www-form-urlencoded` form (whose body it reads, up to the form limit, and hands on
/// whole). A request without a valid token is answered `403 Forbidden`; the handler never runs.
/// Names, exempt paths and the limit are [`CsrfConfig`]'s.
///
/// The tokens are those of the untagged session (`Session`, the layer built with `new`): the one an
/// app's login lives in.
///
/// Put it inside the session layer (added before it), so it finds the session:
///
/// ```
/// use axum::{Form, Router, routing::get};
/// use session_cookie::EncryptedCookieStorage;
/// use session_tower::{CsrfLayer, Session, SessionError, SessionLayer};
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
/// let app: Router = Router::new()
///     .route("/", get(form).post(submit))
///     .layer(CsrfLayer::new())
///     .layer(SessionLayer::new(storage));
/// # Ok::<(), session_cookie::KeyError>(())
/// ```
#[derive(Clone, Debug, Default)]
pub struct CsrfLayer {
    config: Arc<CsrfConfig>,
}

impl CsrfLayer {
    /// The guard with [`CsrfConfig`]'s defaults.
    pub fn new() -> Self {
        Self::default()
    }

    /// The guard with `config`'s names, exempt paths and form limit.
    pub fn with_config(config: CsrfConfig) -> Self {
        CsrfLayer { config: Arc::new(config) }
    }
}

impl<S> Layer<S> for CsrfLayer {
    type Service = CsrfService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        CsrfService { inner, config: Arc::clone(&self.config) }
    }
}

/// The service [`CsrfLayer`] wraps around a route.
#[derive(Clone, Debug)]
pub struct CsrfService<S> {
    inner: S,
    config: Arc<CsrfConfig>,
}

impl<S> Service<Request<Body>> for CsrfService<S>
where
    S: Service<Request<Body>, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<Body>) -> Self::Future {
        if !self.config.checks(request.method().as_str(), request.uri().path()) {
            return Box::pin(self.inner.call(request));
        }
        // The clone that was made ready is the one that serves this request.
        let ready = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, ready);
        let config = Arc::clone(&self.config);
        Box::pin(async move {
            let session = match Session::<()>::load(request.extensions(), request.headers()).await {
                Ok(session) => session,
                Err(error) => return Ok(error.into_response()),
            };
            let (request, submitted) = submitted_token(request, &config).await;
            let valid = match submitted.map(|token| session.verify_csrf(&token)) {
                Some(Ok(valid)) => valid,
                Some(Err(error)) => return Ok(error.into_response()),
                None => false,
            };
            if !valid {
                return Ok((StatusCode::FORBIDDEN, "missing or invalid CSRF token").into_response());
            }
            inner.call(request).await
        })
    }
}

/// The token the request carries, from the header or else a form body (read whole, then handed on).
async fn submitted_token(request: Request<Body>, config: &CsrfConfig) -> (Request<Body>, Option<String>) {
    if let Some(token) = request.headers().get(config.header()).and_then(|value| value.to_str().ok()) {
        let token = token.to_owned();
        return (request, Some(token));
    }
    if !CsrfConfig::is_form(request.headers().get(CONTENT_TYPE).map(|value| value.as_bytes())) {
        return (request, None);
    }
    let (parts, body) = request.into_parts();
    match Limited::new(body, config.form_limit()).collect().await {
        Ok(collected) => {
            let bytes = collected.to_bytes();
            let token = config.token_in_form(&bytes);
            (Request::from_parts(parts, Body::from(bytes)), token)
        }
        // Too long, or the client went away: no token, and no body for the handler either.
        Err(_) => (Request::from_parts(parts, Body::empty()), None),
    }
}
