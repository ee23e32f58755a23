//! The tower layer: puts the request's session in place, runs the handler, saves afterwards.

use std::borrow::Cow;
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use http::header::{CACHE_CONTROL, SET_COOKIE, VARY};
use http::{HeaderMap, HeaderValue, Request, Response};
use pin_project_lite::pin_project;
use session_core::Error;
use session_core::middleware::{
    CookieClaims, HandlerFailure, PendingSave, RequestSession, private_cache_control, vary_cookie,
};
use session_core::storage::IntoStorage;
use tower_layer::Layer;
use tower_service::Service;

use crate::handle::Session;
use crate::shared::{Shared, internal_server_error};

/// The session middleware: aiohttp-session's `setup(app, storage)`.
///
/// Add one layer per storage. Each request gets a session that a handler loads on demand through the
/// [`Session`] extractor; after the handler, a changed session is saved and its `Set-Cookie` added to
/// any response below 500. A store failure becomes a 500, or the response you give to
/// [`on_error`](Self::on_error).
///
/// The type parameter is a tag that tells several layers of one app apart: `SessionLayer::new` pairs
/// with `Session`, [`tagged::<T>()`](Self::tagged) with `Session<T>`. Two layers of one route with the
/// same cookie name (or the same tag) would overwrite each other's cookie: such a route answers 500
/// and logs an error naming the cookie, from its first request.
///
/// The layer holds the storage as `Arc<dyn AbstractStorage>`: one virtual call per load or save is
/// nothing next to a crypto or network round trip, and in exchange the storage can be chosen at run
/// time and the layer's type stays `SessionLayer<Tag>`.
///
/// ```
/// use axum::{Router, routing::get};
/// use session_cookie::EncryptedCookieStorage;
/// use session_tower::{Session, SessionError, SessionLayer};
///
/// async fn index(session: Session) -> Result<String, SessionError> {
///     let visits = session.get::<u64>("visits")?.unwrap_or(0) + 1;
///     session.insert("visits", visits)?;
///     Ok(format!("visit {visits}"))
/// }
///
/// let storage = EncryptedCookieStorage::new(EncryptedCookieStorage::generate_key())?;
/// let app: Router = Router::new().route("/", get(index)).layer(SessionLayer::new(storage));
/// # Ok::<(), session_cookie::KeyError>(())
/// ```
#[doc(alias = "setup", alias = "session_middleware")]
pub struct SessionLayer<T = ()> {
    shared: Arc<Shared>,
    tag: PhantomData<fn() -> T>,
}

impl<T> Clone for SessionLayer<T> {
    fn clone(&self) -> Self {
        SessionLayer { shared: Arc::clone(&self.shared), tag: PhantomData }
    }
}

impl<T> fmt::Debug for SessionLayer<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionLayer").field("cookie", &self.shared.cookie_name()).finish_non_exhaustive()
    }
}

impl SessionLayer {
    /// Sessions from `storage` (any storage, or an `Arc<dyn AbstractStorage>` chosen at run time),
    /// reached through the `Session` extractor.
    pub fn new(storage: impl IntoStorage) -> Self {
        let shared = Shared::new(storage, |_: &Error| internal_server_error());
        SessionLayer { shared: Arc::new(shared), tag: PhantomData }
    }
}

impl<T: 'static> SessionLayer<T> {
    /// The same layer, reached through `Session<U>`: for a second storage in the same app (with its own
    /// cookie name).
    ///
    /// ```
    /// use session_cookie::{EncryptedCookieStorage, SimpleCookieStorage};
    /// use session_core::{CookieConfig, StorageConfig};
    /// use session_tower::{Session, SessionLayer};
    ///
    /// /// Tag of the layer that keeps display preferences.
    /// struct Prefs;
    ///
    /// let login = SessionLayer::new(EncryptedCookieStorage::new(EncryptedCookieStorage::generate_key())?);
    /// let prefs_cookie = CookieConfig::builder().name("PREFS").build()?;
    /// let prefs = SessionLayer::new(SimpleCookieStorage::new().with_config(StorageConfig::new().with_cookie(prefs_cookie)))
    ///     .tagged::<Prefs>();
    /// async fn handler(login: Session, prefs: Session<Prefs>) { /* ... */ }
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn tagged<U: 'static>(self) -> SessionLayer<U> {
        SessionLayer { shared: Arc::new(self.shared.tagged::<U>()), tag: PhantomData }
    }

    /// The response to send when the store fails (on load or save), or a handler returns a session
    /// error with `?`, instead of a bare 500. The error is logged either way; keep its details out of
    /// the response.
    ///
    /// ```
    /// use http::{Response, StatusCode};
    /// # let storage = session_cookie::SimpleCookieStorage::new();
    /// let layer = session_tower::SessionLayer::new(storage).on_error(|_error| {
    ///     let mut response = Response::new("Sessions are down; try again in a minute.".to_owned());
    ///     *response.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
    ///     response
    /// });
    /// ```
    pub fn on_error<F>(self, handler: F) -> Self
    where
        F: Fn(&Error) -> Response<String> + Send + Sync + 'static,
    {
        SessionLayer { shared: Arc::new(self.shared.on_error(handler)), tag: PhantomData }
    }

    /// The same layer, adding neither `Vary: Cookie` to the responses whose handler used the session
    /// nor `Cache-Control: private` to those that set its cookie: for an app that sets its own
    /// caching headers there (no shared cache in front, or one configured per route).
    pub fn without_cache_headers(self) -> Self {
        SessionLayer { shared: Arc::new(self.shared.without_cache_headers()), tag: PhantomData }
    }
}

impl<S, T> Layer<S> for SessionLayer<T> {
    type Service = SessionService<S, T>;

    fn layer(&self, inner: S) -> Self::Service {
        SessionService { inner, shared: Arc::clone(&self.shared), tag: PhantomData }
    }
}

/// The service [`SessionLayer`] wraps around the app.
pub struct SessionService<S, T = ()> {
    inner: S,
    shared: Arc<Shared>,
    tag: PhantomData<fn() -> T>,
}

impl<S: Clone, T> Clone for SessionService<S, T> {
    fn clone(&self) -> Self {
        SessionService { inner: self.inner.clone(), shared: Arc::clone(&self.shared), tag: PhantomData }
    }
}

impl<S: fmt::Debug, T> fmt::Debug for SessionService<S, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionService").field("inner", &self.inner).finish_non_exhaustive()
    }
}

impl<S, T, ReqBody, ResBody> Service<Request<ReqBody>> for SessionService<S, T>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
    S::Future: Send + 'static,
    ReqBody: Send + 'static,
    ResBody: From<String> + Send + 'static,
    T: 'static,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future, ResBody>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<ReqBody>) -> Self::Future {
        let claims = request.extensions_mut().get_or_insert_default::<CookieClaims>();
        let Some(session) = self.shared.begin(claims) else {
            return ResponseFuture { state: State::Refused { response: Some(internal_server_error()) }, session: None };
        };
        // The session goes in with the request; nothing is parsed or loaded until a handler asks.
        request.extensions_mut().insert(Session::<T>::new(Arc::clone(&session)));
        // The service polled ready is called here and now, not from the future, so it needs no clone
        // (tower's clone-and-swap is for calls made later; the clone would cost an allocation a request
        // when the inner service is boxed, as axum's routes are).
        ResponseFuture {
            state: State::Handler { future: self.inner.call(request) },
            session: Some((session, Arc::clone(&self.shared))),
        }
    }
}

type Saving<B> = Pin<Box<dyn Future<Output = Response<B>> + Send>>;

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
        Refused { response: Option<Response<B>> },
    }
}

impl<F, B, E> Future for ResponseFuture<F, B>
where
    F: Future<Output = Result<Response<B>, E>>,
    B: From<String> + Send + 'static,
{
    type Output = Result<Response<B>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        loop {
            match this.state.as_mut().project() {
                StateProjection::Handler { future } => {
                    let response = ready!(future.poll(cx))?;
                    let Some((session, shared)) = this.session.take() else {
                        return Poll::Ready(Ok(response));
                    };
                    // A session error the handler returned: this layer's error response in its place,
                    // and nothing saved of a handler that failed.
                    let failure = response.extensions().get::<HandlerFailure>().filter(|f| f.is_for(shared.tag()));
                    if let Some(failure) = failure {
                        return Poll::Ready(Ok(shared.error_response(failure.error()).map(B::from)));
                    }
                    let cache_headers = shared.cache_headers() && session.is_loaded();
                    // The common case (no session, or an unchanged one) answers without another step.
                    let Some(pending) = session.finish(response.status().as_u16()) else {
                        let mut response = response;
                        if cache_headers {
                            mark_for_caches(response.headers_mut(), false);
                        }
                        return Poll::Ready(Ok(response));
                    };
                    this.state.set(State::Saving { future: Box::pin(save(pending, shared, response)) });
                }
                StateProjection::Saving { future } => return future.as_mut().poll(cx).map(Ok),
                StateProjection::Refused { response } => {
                    return Poll::Ready(Ok(response.take().unwrap_or_else(internal_server_error)));
                }
            }
        }
    }
}

/// Saves the session and adds its `Set-Cookie` to `response` (if the save sends one); a store failure
/// replaces the response with the error response.
fn save<B: From<String>>(
    pending: PendingSave,
    shared: Arc<Shared>,
    mut response: Response<B>,
) -> impl Future<Output = Response<B>> {
    let cache_headers = shared.cache_headers();
    shared.save::<HeaderValue, _>(pending, move |saved| match saved {
        Ok(set_cookie) => {
            if cache_headers {
                mark_for_caches(response.headers_mut(), set_cookie.is_some());
            }
            if let Some(set_cookie) = set_cookie {
                response.headers_mut().append(SET_COOKIE, set_cookie);
            }
            response
        }
        Err(error_response) => error_response.map(B::from),
    })
}

/// What caches must know of a response whose handler used the session: `Vary: Cookie`, and
/// `Cache-Control: private` when it sets or removes the session cookie, merged with what the app set.
fn mark_for_caches(headers: &mut HeaderMap, sets_cookie: bool) {
    if let Some(vary) = vary_cookie(headers.get_all(VARY).iter().filter_map(|value| value.to_str().ok())) {
        headers.append(VARY, HeaderValue::from_static(vary));
    }
    if sets_cookie {
        let directives = private_cache_control(headers.get_all(CACHE_CONTROL).iter().filter_map(|v| v.to_str().ok()));
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
    use super::*;

    /// The save a changed session boxes on every such request stays under the 1 KiB that glibc
    /// serves from its per-thread cache (see `PendingSave::save_then`): at 1.6 KiB it cost every
    /// fresh visitor a large allocation.
    #[test]
    fn the_boxed_save_stays_under_a_kibibyte() {
        fn output_size<F: Fn(PendingSave, Arc<Shared>, Response<String>) -> R, R>(_: &F) -> usize {
            std::mem::size_of::<R>()
        }
        let size = output_size(&save::<String>);
        assert!(size <= 1024, "{size} bytes");
    }
}
