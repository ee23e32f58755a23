//! The tower layer: puts the request's session slot in place, runs the handler, saves afterwards.

use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use http::{Request, Response, StatusCode};
use pin_project_lite::pin_project;
use session_core::{AbstractStorage, Error};
use tower_layer::Layer;
use tower_service::Service;

use crate::extract::Slot;
use crate::request_session::RequestSession;

type ErrorHandler = dyn Fn(&Error) -> Response<String> + Send + Sync;

/// What every request of one layer shares.
pub(crate) struct Shared {
    pub(crate) storage: Arc<dyn AbstractStorage>,
    on_error: Box<ErrorHandler>,
}

impl Shared {
    /// The response for a store failure: the app's, or a bare 500. The error (with its source
    /// chain) goes to the log, never to the client.
    pub(crate) fn error_response<B: From<String>>(&self, error: &Error) -> Response<B> {
        tracing::error!(
            cookie = self.storage.config().cookie().get_name(),
            error = %error,
            source = error_chain(error),
            "session store failed"
        );
        (self.on_error)(error).map(B::from)
    }
}

fn error_chain(error: &Error) -> String {
    let mut chain = String::new();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        if !chain.is_empty() {
            chain.push_str(": ");
        }
        chain.push_str(&cause.to_string());
        source = cause.source();
    }
    chain
}

fn internal_server_error(_: &Error) -> Response<String> {
    let mut response = Response::new(String::from("Internal Server Error"));
    *response.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
    response
}

/// The session middleware: aiohttp-session's `setup(app, storage)`.
///
/// Add one layer per storage. Each request gets a session slot that a handler fills on demand through
/// the [`Session`](crate::Session) extractor; after the handler, a changed session is saved and its
/// `Set-Cookie` added to any response below 500. A store failure becomes a 500, or the response you
/// give to [`on_error`](Self::on_error).
///
/// The type parameter is a tag that tells apart several layers in one app: the default `()` pairs
/// with the `Session` extractor, a tag `T` with `Session<T>`.
///
/// The layer holds the storage as `Arc<dyn AbstractStorage>`, not as a type parameter: one
/// virtual call per load or save is nothing next to a crypto or network round trip, and in exchange
/// the storage can be chosen at run time (from a flag or a config file) and the layer's type stays
/// `SessionLayer<Tag>`.
///
/// ```
/// use axum::{Router, routing::get};
/// use session_cookie::EncryptedCookieStorage;
/// use session_tower::{Session, SessionLayer};
///
/// async fn index(session: Session) -> String {
///     let mut session = session.lock();
///     let visits = session.get::<u64>("visits").ok().flatten().unwrap_or(0) + 1;
///     session.insert("visits", visits).ok();
///     format!("visit {visits}")
/// }
///
/// let storage = EncryptedCookieStorage::new(EncryptedCookieStorage::generate_key())?;
/// let app: Router = Router::new().route("/", get(index)).layer(SessionLayer::new(storage));
/// # Ok::<(), session_core::KeyError>(())
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
        f.debug_struct("SessionLayer")
            .field("cookie", &self.shared.storage.config().cookie().get_name())
            .finish_non_exhaustive()
    }
}

impl SessionLayer {
    /// Sessions from `storage`, reached through the `Session` extractor.
    pub fn new(storage: impl AbstractStorage + 'static) -> Self {
        Self::tagged(storage)
    }

    /// Sessions from a storage that is already shared (chosen at run time, or used elsewhere too),
    /// without wrapping it again: `new` would box every load and save twice.
    pub fn shared(storage: Arc<dyn AbstractStorage>) -> Self {
        Self::tagged_shared(storage)
    }
}

impl<T: 'static> SessionLayer<T> {
    /// Sessions from `storage`, reached through `Session<T>`: for a second storage in the same app.
    ///
    /// ```
    /// use session_cookie::{EncryptedCookieStorage, SimpleCookieStorage};
    /// use session_core::CookieConfig;
    /// use session_tower::{Session, SessionLayer};
    ///
    /// /// Tag of the layer that keeps display preferences.
    /// struct Prefs;
    ///
    /// let login = SessionLayer::new(EncryptedCookieStorage::new(EncryptedCookieStorage::generate_key())?);
    /// let prefs = SessionLayer::<Prefs>::tagged(
    ///     SimpleCookieStorage::new().with_config(CookieConfig::new().name("PREFS")),
    /// );
    /// async fn handler(login: Session, prefs: Session<Prefs>) { /* ... */ }
    /// # Ok::<(), session_core::KeyError>(())
    /// ```
    pub fn tagged(storage: impl AbstractStorage + 'static) -> Self {
        Self::tagged_shared(Arc::new(storage))
    }

    /// [`tagged`](Self::tagged) for a storage that is already shared.
    pub fn tagged_shared(storage: Arc<dyn AbstractStorage>) -> Self {
        SessionLayer {
            shared: Arc::new(Shared { storage, on_error: Box::new(internal_server_error) }),
            tag: PhantomData,
        }
    }

    /// The response to send when the store fails (on load or save) instead of a bare 500. The error
    /// is logged either way; keep its details out of the response.
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
        SessionLayer {
            shared: Arc::new(Shared { storage: Arc::clone(&self.shared.storage), on_error: Box::new(handler) }),
            tag: PhantomData,
        }
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
    S: Service<Request<ReqBody>, Response = Response<ResBody>> + Clone + Send + 'static,
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
        // The slot goes in with the request; nothing is parsed or loaded until a handler asks.
        let session = Arc::new(RequestSession::new(Arc::clone(&self.shared)));
        request.extensions_mut().insert(Slot::<T>::new(Arc::clone(&session)));
        // The clone that was polled ready is the one that serves (tower's usual dance).
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        ResponseFuture { state: State::Handler { future: inner.call(request) }, session }
    }
}

type Saving<B> = Pin<Box<dyn Future<Output = Response<B>> + Send>>;

pin_project! {
    /// The response of a [`SessionService`]: the handler's, then (only when the session changed) the
    /// save that adds the cookie.
    pub struct ResponseFuture<F, B> {
        #[pin]
        state: State<F, B>,
        session: Arc<RequestSession>,
    }
}

pin_project! {
    #[project = StateProjection]
    enum State<F, B> {
        Handler { #[pin] future: F },
        Saving { future: Saving<B> },
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
                    // The common case (no session, or an unchanged one) answers without another step.
                    let Some(changed) = this.session.take_changed(response.status()) else {
                        return Poll::Ready(Ok(response));
                    };
                    let session = Arc::clone(this.session);
                    let future = Box::pin(async move { session.save(changed, response).await });
                    this.state.set(State::Saving { future });
                }
                StateProjection::Saving { future } => return future.as_mut().poll(cx).map(Ok),
            }
        }
    }
}
