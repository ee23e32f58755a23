//! How a handler reaches its session: the [`Session`] handle, aiohttp's `get_session` and
//! `new_session` (here [`reset_session`]), and the error a session call returns.

use std::any::TypeId;
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::sync::Arc;

use http::header::{COOKIE, HeaderValue};
use http::{Extensions, HeaderMap, Request, Response};
use session_core::Error;
use session_core::middleware::{HandleError, HandlerFailure, RequestSession};

use crate::shared::internal_server_error;

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
///     // Check the credentials, then log in: a fresh session under a new id (an id planted before
///     // is worth nothing) with the user attached, which log_out_everywhere("alice") ends.
///     session.login("alice")?;
///     Ok("Welcome")
/// }
///
/// async fn whoami(session: Session) -> Result<String, SessionError> {
///     Ok(session.user()?.unwrap_or_else(|| "nobody".to_owned()))
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
    tag: PhantomData<fn() -> T>,
}

impl<T> Clone for Session<T> {
    fn clone(&self) -> Self {
        Session { request: Arc::clone(&self.request), tag: PhantomData }
    }
}

/// Never waits: a session in use shows as such.
impl<T> fmt::Debug for Session<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.request.fmt(f)
    }
}

impl<T: 'static> Session<T> {
    pub(crate) fn new(request: Arc<RequestSession>) -> Self {
        Session { request, tag: PhantomData }
    }

    /// Loads the session of a request that went through the layer tagged `T`: the building block of
    /// the extractor, for plain tower and hyper services.
    pub async fn load(extensions: &Extensions, headers: &HeaderMap) -> Result<Self, SessionError> {
        let session = extensions.get::<Session<T>>().ok_or(SessionError(HandleError::MissingLayer))?.clone();
        let cookies = headers.get_all(COOKIE).iter().map(HeaderValue::as_bytes);
        session.request.load(cookies).await.map_err(|error| session.session_error(error))?;
        Ok(session)
    }

    session_core::middleware::handle_methods!(SessionError);

    fn request_session(&self) -> &RequestSession {
        &self.request
    }

    fn session_error(&self, error: Error) -> SessionError {
        SessionError(HandleError::Failed(HandlerFailure::new(error, Some(TypeId::of::<T>()))))
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
        let cookies = cookies.iter().map(HeaderValue::as_bytes);
        session.request.load(cookies).await.map_err(|error| session.session_error(error))?;
        Ok(session)
    }
}

/// aiohttp-session's `new_session(request)` for services that are not axum handlers: the request's
/// session, started over (see [`Session::reset`]).
#[doc(alias = "new_session")]
pub fn reset_session<B>(request: &Request<B>) -> impl Future<Output = Result<Session, SessionError>> + Send + 'static {
    let session = get_session(request);
    async move {
        let session = session.await?;
        session.reset()?;
        Ok(session)
    }
}

/// Why a session call failed: the store, a value of another type than asked for, a value that is not
/// JSON, or no layer on the route. Any error of this library converts into it, so `?` works on a
/// store's, a key's or the session's error in a handler that returns `Result<_, SessionError>`.
///
/// As a response (axum's `IntoResponse`, or [`into_http_response`](Self::into_http_response)) it is
/// the layer's error response, a 500 by default: the response it makes carries the error to the
/// layer, which logs it (never sending it to the client) and answers with its own.
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct SessionError(HandleError);

impl<E: Into<Error>> From<E> for SessionError {
    fn from(error: E) -> Self {
        SessionError(HandleError::from(error))
    }
}

impl SessionError {
    /// The session's error; `None` when no layer wraps the route.
    pub fn error(&self) -> Option<&Error> {
        self.0.error()
    }

    /// The response for it: a 500 that carries the error to the session layer, which answers with
    /// its error response; a plain 500 (and an error in the log) when no layer wraps the route.
    pub fn into_http_response<B: From<String>>(self) -> Response<B> {
        let mut response = internal_server_error();
        match self.0 {
            HandleError::MissingLayer => {
                tracing::error!("a handler asked for a session but no SessionLayer with its tag wraps the route");
            }
            HandleError::Failed(failure) => {
                response.extensions_mut().insert(failure);
            }
        }
        response
    }
}
