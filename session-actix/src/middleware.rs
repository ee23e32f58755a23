//! The actix-web middleware: puts the request's session in place, runs the handler, saves afterwards.

use std::borrow::Cow;
use std::fmt;
use std::future::{self, Future, Ready};
use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Service, ServiceRequest, ServiceResponse, Transform};
use actix_web::http::header::{CACHE_CONTROL, HeaderMap, HeaderValue, SET_COOKIE, VARY};
use actix_web::{HttpMessage, HttpResponse};
use pin_project_lite::pin_project;
use session_core::Error;
use session_core::middleware::{
    CookieClaims, HandlerFailure, PendingSave, RequestSession, private_cache_control, vary_cookie,
};
use session_core::storage::IntoStorage;

use crate::handle::Session;
use crate::shared::{Shared, internal_server_error};

/// The session middleware: aiohttp-session's `setup(app, storage)`.
///
/// Wrap the app (or a scope) with one per storage. Each request gets a session that a handler loads
/// on demand through the [`Session`] extractor; after the handler, a changed session is saved and its
/// `Set-Cookie` added to any response below 500. A store failure becomes a 500, or the response you
/// give to [`on_error`](Self::on_error).
///
/// The type parameter is a tag that tells several middlewares of one app apart:
/// `SessionMiddleware::new` pairs with `Session`, [`tagged::<T>()`](Self::tagged) with `Session<T>`.
/// Two middlewares of one route with the same cookie name (or the same tag) would overwrite each
/// other's cookie: such a route answers 500 and logs an error naming the cookie, from its first
/// request.
///
/// The middleware holds the storage as `Arc<dyn AbstractStorage>` and is `Send + Sync` and cheap to
/// clone, so one value can be built before `HttpServer::new` and cloned into each worker's app.
///
/// ```
/// use actix_web::{App, web};
/// use session_actix::{Session, SessionError, SessionMiddleware};
/// use session_cookie::EncryptedCookieStorage;
///
/// async fn index(session: Session) -> Result<String, SessionError> {
///     let visits = session.get::<u64>("visits")?.unwrap_or(0) + 1;
///     session.insert("visits", visits)?;
///     Ok(format!("visit {visits}"))
/// }
///
/// let storage = EncryptedCookieStorage::new(EncryptedCookieStorage::generate_key())?;
/// let sessions = SessionMiddleware::new(storage);
/// let app = move || App::new().wrap(sessions.clone()).route("/", web::get().to(index));
/// # let _ = app;
/// # Ok::<(), session_cookie::KeyError>(())
/// ```
#[doc(alias = "setup", alias = "session_middleware")]
pub struct SessionMiddleware<T = ()> {
    shared: Arc<Shared>,
    tag: PhantomData<fn() -> T>,
}

impl<T> Clone for SessionMiddleware<T> {
    fn clone(&self) -> Self {
        SessionMiddleware { shared: Arc::clone(&self.shared), tag: PhantomData }
    }
}

impl<T> fmt::Debug for SessionMiddleware<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionMiddleware").field("cookie", &self.shared.cookie_name()).finish_non_exhaustive()
    }
}

impl SessionMiddleware {
    /// Sessions from `storage` (any storage, or an `Arc<dyn AbstractStorage>` chosen at run time),
    /// reached through the `Session` extractor.
    pub fn new(storage: impl IntoStorage) -> Self {
        let shared = Shared::new(storage, |_: &Error| internal_server_error());
        SessionMiddleware { shared: Arc::new(shared), tag: PhantomData }
    }
}

impl<T: 'static> SessionMiddleware<T> {
    /// The same middleware, reached through `Session<U>`: for a second storage in the same app (with
    /// its own cookie name).
    ///
    /// ```
    /// use actix_web::{App, web};
    /// use session_actix::{Session, SessionMiddleware};
    /// use session_cookie::{EncryptedCookieStorage, SimpleCookieStorage};
    /// use session_core::{CookieConfig, StorageConfig};
    ///
    /// /// Tag of the middleware that keeps display preferences.
    /// struct Prefs;
    ///
    /// let login = SessionMiddleware::new(EncryptedCookieStorage::new(EncryptedCookieStorage::generate_key())?);
    /// let prefs_cookie = CookieConfig::builder().name("PREFS").build()?;
    /// let prefs =
    ///     SessionMiddleware::new(SimpleCookieStorage::new().with_config(StorageConfig::new().with_cookie(prefs_cookie)))
    ///         .tagged::<Prefs>();
    /// async fn handler(login: Session, prefs: Session<Prefs>) -> &'static str {
    ///     "..."
    /// }
    /// let app = App::new().wrap(login).wrap(prefs).route("/", web::get().to(handler));
    /// # let _ = app;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn tagged<U: 'static>(self) -> SessionMiddleware<U> {
        SessionMiddleware { shared: Arc::new(self.shared.tagged::<U>()), tag: PhantomData }
    }

    /// The response to send when the store fails (on load or save), or a handler returns a session
    /// error with `?`, instead of a bare 500. The error is logged either way; keep its details out of
    /// the response.
    ///
    /// ```
    /// use actix_web::HttpResponse;
    /// # let storage = session_cookie::SimpleCookieStorage::new();
    /// let sessions = session_actix::SessionMiddleware::new(storage)
    ///     .on_error(|_error| HttpResponse::ServiceUnavailable().body("Sessions are down; try again in a minute."));
    /// ```
    pub fn on_error<F>(self, handler: F) -> Self
    where
        F: Fn(&Error) -> HttpResponse + Send + Sync + 'static,
    {
        SessionMiddleware { shared: Arc::new(self.shared.on_error(handler)), tag: PhantomData }
    }

    /// The same middleware, adding neither `Vary: Cookie` to the responses whose handler used the
    /// session nor `Cache-Control: private` to those that set its cookie: for an app that sets its
    /// own caching headers there (no shared cache in front, or one configured per route).
    pub fn without_cache_headers(self) -> Self {
        SessionMiddleware { shared: Arc::new(self.shared.without_cache_headers()), tag: PhantomData }
    }
}

impl<S, B, T> Transform<S, ServiceRequest> for SessionMiddleware<T>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody + 'static,
    T: 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = actix_web::Error;
    type Transform = SessionService<S, T>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        future::ready(Ok(SessionService { service, shared: Arc::clone(&self.shared), tag: PhantomData }))
    }
}

/// The service [`SessionMiddleware`] wraps around the app.
pub struct SessionService<S, T = ()> {
    service: S,
    shared: Arc<Shared>,
    tag: PhantomData<fn() -> T>,
}

impl<S: fmt::Debug, T> fmt::Debug for SessionService<S, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionService").field("service", &self.service).finish_non_exhaustive()
    }
}

impl<S, B, T> Service<ServiceRequest> for SessionService<S, T>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody + 'static,
    T: 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = actix_web::Error;
    type Future = ResponseFuture<S::Future, B>;

    fn poll_ready(&self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.service.poll_ready(cx)
    }

    fn call(&self, request: ServiceRequest) -> Self::Future {
        let begun = self.shared.begin(request.extensions_mut().get_or_insert_with(CookieClaims::default));
        let Some(session) = begun else {
            let refused = request.into_response(internal_server_error()).map_into_right_body();
            return ResponseFuture { state: State::Refused { response: Some(refused) }, session: None };
        };
        // The session goes in with the request; nothing is parsed or loaded until a handler asks.
        request.extensions_mut().insert(Session::<T>::new(Arc::clone(&session)));
        ResponseFuture {
            state: State::Handler { future: self.service.call(request) },
            session: Some((session, Arc::clone(&self.shared))),
        }
    }
}

type Saving<B> = Pin<Box<dyn Future<Output = ServiceResponse<EitherBody<B>>>>>;

pin_project! {
    /// The response of a [`SessionService`]: the handler's, then (only when the session changed) the
    /// save that adds the cookie.
    pub struct ResponseFuture<F, B> {
        #[pin]
        state: State<F, B>,
        session: Option<(Arc<RequestSession>, Arc<Shared>)>,
    }
}

pin_project! {
    #[project = StateProjection]
    enum State<F, B> {
        Handler { #[pin] future: F },
        Saving { future: Saving<B> },
        Refused { response: Option<ServiceResponse<EitherBody<B>>> },
    }
}

impl<F, B> Future for ResponseFuture<F, B>
where
    F: Future<Output = Result<ServiceResponse<B>, actix_web::Error>>,
    B: MessageBody + 'static,
{
    type Output = Result<ServiceResponse<EitherBody<B>>, actix_web::Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        loop {
            match this.state.as_mut().project() {
                StateProjection::Handler { future } => {
                    let response = ready!(future.poll(cx))?;
                    let Some((session, shared)) = this.session.take() else {
                        return Poll::Ready(Ok(response.map_into_left_body()));
                    };
                    // A session error the handler returned: this middleware's error response in its
                    // place, and nothing saved of a handler that failed.
                    let failure = response.response().extensions().get::<HandlerFailure>().cloned();
                    if let Some(failure) = failure.filter(|failure| failure.is_for(shared.tag())) {
                        let (request, _) = response.into_parts();
                        let replaced = ServiceResponse::new(request, shared.error_response(failure.error()));
                        return Poll::Ready(Ok(replaced.map_into_right_body()));
                    }
                    let cache_headers = shared.cache_headers() && session.is_loaded();
                    // The common case (no session, or an unchanged one) answers without another step.
                    let Some(pending) = session.finish(response.status().as_u16()) else {
                        let mut response = response;
                        if cache_headers {
                            mark_for_caches(response.headers_mut(), false);
                        }
                        return Poll::Ready(Ok(response.map_into_left_body()));
                    };
                    this.state.set(State::Saving { future: Box::pin(save(pending, shared, response)) });
                }
                StateProjection::Saving { future } => return future.as_mut().poll(cx).map(Ok),
                StateProjection::Refused { response } => {
                    let response = response.take().expect("a refused response is answered once");
                    return Poll::Ready(Ok(response));
                }
            }
        }
    }
}

/// Saves the session and adds its `Set-Cookie` to `response` (if the save sends one); a store failure
/// replaces the response with the error response.
fn save<B: MessageBody + 'static>(
    pending: PendingSave,
    shared: Arc<Shared>,
    mut response: ServiceResponse<B>,
) -> impl Future<Output = ServiceResponse<EitherBody<B>>> {
    let cache_headers = shared.cache_headers();
    shared.save::<HeaderValue, _>(pending, move |saved| match saved {
        Ok(set_cookie) => {
            if cache_headers {
                mark_for_caches(response.headers_mut(), set_cookie.is_some());
            }
            if let Some(set_cookie) = set_cookie {
                response.headers_mut().append(SET_COOKIE, set_cookie);
            }
            response.map_into_left_body()
        }
        Err(error_response) => {
            let (request, _) = response.into_parts();
            ServiceResponse::new(request, error_response).map_into_right_body()
        }
    })
}

/// What caches must know of a response whose handler used the session: `Vary: Cookie`, and
/// `Cache-Control: private` when it sets or removes the session cookie, merged with what the app set.
fn mark_for_caches(headers: &mut HeaderMap, sets_cookie: bool) {
    if let Some(vary) = vary_cookie(headers.get_all(VARY).filter_map(|value| value.to_str().ok())) {
        headers.append(VARY, HeaderValue::from_static(vary));
    }
    if sets_cookie {
        let directives = private_cache_control(headers.get_all(CACHE_CONTROL).filter_map(|v| v.to_str().ok()));
        let value = directives.and_then(|directives| match directives {
            Cow::Borrowed(directives) => Some(HeaderValue::from_static(directives)),
            Cow::Owned(directives) => HeaderValue::try_from(directives).ok(),
        });
        if let Some(value) = value {
            headers.insert(CACHE_CONTROL, value);
        }
    }
}

#[cfg(test)]
mod tests {
    use actix_web::body::BoxBody;

    use super::*;

    /// The save a changed session boxes on every such request stays under the 1 KiB that glibc
    /// serves from its per-thread cache (see `PendingSave::save_then`): at 1.6 KiB it cost every
    /// fresh visitor a large allocation.
    #[test]
    fn the_boxed_save_stays_under_a_kibibyte() {
        fn output_size<F: Fn(PendingSave, Arc<Shared>, ServiceResponse<BoxBody>) -> R, R>(_: &F) -> usize {
            std::mem::size_of::<R>()
        }
        let size = output_size(&save::<BoxBody>);
        assert!(size <= 1024, "{size} bytes");
    }
}
