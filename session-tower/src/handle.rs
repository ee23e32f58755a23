//! How a handler reaches its session: the [`Session`] handle, aiohttp's `get_session` and
//! `new_session`, and the error a session call returns.

use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::sync::Arc;

use http::header::{COOKIE, HeaderValue};
use http::{Extensions, HeaderMap, Request, Response};
use session_core::Error;
use session_core::middleware::{HandleError, RequestSession};

use crate::shared::{Shared, internal_server_error};

/// The request's session: aiohttp-session's `get_session(request)`, as an axum extractor.
///
/// Taking it loads the session from the cookie (once per request, however many extractors ask); a
/// route that never takes it costs nothing, its cookie is not even read. Each method does one thing
/// and returns a [`Result`] whose error answers with the layer's error response, so `?` works in a
/// handler; changes are saved by the layer after the handler returns. Several operations that must
/// see each other go in one [`update`](Self::update).
///
/// `Session` reaches the layer built with [`SessionLayer::new`](crate::SessionLayer::new);
/// `Session<Tag>` the one made [`tagged::<Tag>()`](crate::SessionLayer::tagged).
///
/// ```
/// use session_tower::{Session, SessionError};
///
/// async fn login(session: Session) -> Result<&'static str, SessionError> {
///     // Check the credentials, then start from a fresh session id (session-fixation guard).
///     session.new_session()?;
///     session.insert("user", "alice")?;
///     Ok("Welcome")
/// }
///
/// async fn visits(session: Session) -> Result<String, SessionError> {
///     let n = session.update(|session| {
///         let n = session.get::<u64>("visits")?.unwrap_or(0) + 1;
///         session.insert("visits", n)?;
///         Ok(n)
///     })?;
///     Ok(format!("visit number {n}"))
/// }
///
/// async fn logout(session: Session) -> Result<&'static str, SessionError> {
///     session.invalidate()?;
///     Ok("Logged out")
/// }
/// ```
#[doc(alias = "get_session")]
pub struct Session<T = ()> {
    request: Arc<RequestSession>,
    shared: Arc<Shared>,
    tag: PhantomData<fn() -> T>,
}

impl<T> Clone for Session<T> {
    fn clone(&self) -> Self {
        Session { request: Arc::clone(&self.request), shared: Arc::clone(&self.shared), tag: PhantomData }
    }
}

/// Never waits: a session in use shows as such.
impl<T> fmt::Debug for Session<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.request.fmt(f)
    }
}

impl<T: 'static> Session<T> {
    pub(crate) fn new(request: Arc<RequestSession>, shared: Arc<Shared>) -> Self {
        Session { request, shared, tag: PhantomData }
    }

    /// Loads the session of a request that went through the layer tagged `T`: the building block of
    /// the extractor, for plain tower and hyper services.
    pub async fn load(extensions: &Extensions, headers: &HeaderMap) -> Result<Self, SessionError> {
        let session = extensions.get::<Session<T>>().ok_or(SessionError(HandleError::MissingLayer))?.clone();
        let cookies = headers.get_all(COOKIE).iter().filter_map(|value| value.to_str().ok());
        session.request.load(cookies).await.map_err(|error| session.session_error(error))?;
        Ok(session)
    }

    session_core::handle_methods!(SessionError);

    fn request_session(&self) -> &RequestSession {
        &self.request
    }

    fn session_error(&self, error: Error) -> SessionError {
        SessionError(HandleError::Failed { settings: Arc::clone(&self.shared), error })
    }
}

/// aiohttp-session's `get_session(request)` for services that are not axum handlers. The future does
/// not borrow the request, so it is `Send` whatever the body type.
///
/// ```
/// # async fn service(request: http::Request<()>) -> Result<(), session_tower::SessionError> {
/// let session = session_tower::get_session(&request).await?;
/// session.insert("seen", true)?;
/// # Ok(()) }
/// ```
pub fn get_session<B>(request: &Request<B>) -> impl Future<Output = Result<Session, SessionError>> + Send + 'static {
    let session = request.extensions().get::<Session>().cloned();
    // Header values share their bytes: the future owns them without copying.
    let cookies: Vec<HeaderValue> = request.headers().get_all(COOKIE).iter().cloned().collect();
    async move {
        let session = session.ok_or(SessionError(HandleError::MissingLayer))?;
        let cookies = cookies.iter().filter_map(|value| value.to_str().ok());
        session.request.load(cookies).await.map_err(|error| session.session_error(error))?;
        Ok(session)
    }
}

/// aiohttp-session's `new_session(request)` for services that are not axum handlers: the request's
/// session, replaced by a fresh one (see [`Session::new_session`]).
pub fn new_session<B>(request: &Request<B>) -> impl Future<Output = Result<Session, SessionError>> + Send + 'static {
    let session = get_session(request);
    async move {
        let session = session.await?;
        session.new_session()?;
        Ok(session)
    }
}

/// Why a session call failed: the store, a value of another type than asked for, a value that is not
/// JSON, or no layer on the route. As a response (axum's `IntoResponse`, or
/// [`into_http_response`](Self::into_http_response)) it is the layer's error response, a 500 by
/// default; the cause goes to the log, never to the client.
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct SessionError(HandleError<Response<String>>);

impl SessionError {
    /// The session's error; `None` when no layer wraps the route.
    pub fn error(&self) -> Option<&Error> {
        self.0.error()
    }

    /// The response the layer sends for it: the app's error response, or a 500 for a missing layer.
    pub fn into_http_response<B: From<String>>(self) -> Response<B> {
        match self.0 {
            HandleError::MissingLayer => {
                tracing::error!("a handler asked for a session but no SessionLayer with its tag wraps the route");
                internal_server_error()
            }
            HandleError::Failed { settings, error } => settings.error_response(&error).map(B::from),
        }
    }
}
