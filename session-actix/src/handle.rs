//! How a handler reaches its session: the [`Session`] handle, aiohttp's `get_session` and
//! `new_session` (here [`reset_session`]), and the error a session call returns.

use std::any::TypeId;
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::sync::Arc;

use actix_web::http::header::COOKIE;
use actix_web::{HttpMessage, HttpRequest, HttpResponse};
use session_core::Error;
use session_core::middleware::{HandleError, HandlerFailure, RequestSession};

use crate::shared::internal_server_error;

/// The request's session: aiohttp-session's `get_session(request)`, as an actix-web extractor.
///
/// Taking it loads the session from the cookie (once per request, however many extractors ask); a
/// route that never takes it costs nothing, its cookie is not even read. Each method does one thing
/// and returns a [`Result`] whose error answers with the middleware's error response, so `?` works in
/// a handler; changes are saved by the middleware after the handler returns. Several operations that
/// must see each other go in one [`update`](Self::update).
///
/// `Session` reaches the middleware built with
/// [`SessionMiddleware::new`](crate::SessionMiddleware::new); `Session<Tag>` the one made
/// [`tagged::<Tag>()`](crate::SessionMiddleware::tagged). The handle is `Send + Sync` and cheap to
/// clone; it works the same in handlers whose futures are not `Send`.
///
/// ```
/// use session_actix::{Session, SessionError};
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

    /// Loads the session of a request that went through the middleware tagged `T`: what the extractor
    /// does, for code that holds an [`HttpRequest`] (a `ServiceRequest` gives one with `request()`).
    /// The future does not borrow `request`.
    pub fn load(request: &HttpRequest) -> impl Future<Output = Result<Self, SessionError>> + 'static {
        let session = request.extensions().get::<Session<T>>().cloned();
        let request = request.clone();
        async move {
            let session = session.ok_or(SessionError(HandleError::MissingLayer))?;
            let cookies = request.headers().get_all(COOKIE).map(|value| value.as_bytes());
            session.request.load(cookies).await.map_err(|error| session.session_error(error))?;
            Ok(session)
        }
    }

    session_core::middleware::handle_methods!(SessionError);

    fn request_session(&self) -> &RequestSession {
        &self.request
    }

    fn session_error(&self, error: Error) -> SessionError {
        SessionError(HandleError::Failed(HandlerFailure::new(error, Some(TypeId::of::<T>()))))
    }
}

/// aiohttp-session's `get_session(request)` for code that is not an extractor (a `ServiceRequest`
/// gives its [`HttpRequest`] with `request()`). The future does not borrow the request.
///
/// ```
/// # async fn handler(request: actix_web::HttpRequest) -> Result<(), session_actix::SessionError> {
/// let session = session_actix::get_session(&request).await?;
/// session.insert("seen", true)?;
/// # Ok(()) }
/// ```
pub fn get_session(request: &HttpRequest) -> impl Future<Output = Result<Session, SessionError>> + 'static {
    Session::load(request)
}

/// aiohttp-session's `new_session(request)` for code that is not an extractor: the request's
/// session, started over (see [`Session::reset`]).
#[doc(alias = "new_session")]
pub fn reset_session(request: &HttpRequest) -> impl Future<Output = Result<Session, SessionError>> + 'static {
    let session = get_session(request);
    async move {
        let session = session.await?;
        session.reset()?;
        Ok(session)
    }
}

/// Why a session call failed: the store, a value of another type than asked for, a value that is not
/// JSON, or no middleware on the route. Any error of this library converts into it, so `?` works on a
/// store's, a key's or the session's error in a handler that returns `Result<_, SessionError>` (or
/// `Result<_, actix_web::Error>`: it is a `ResponseError`).
///
/// Its response is the middleware's error response, a 500 by default: the response it makes carries
/// the error to the middleware, which logs it (never sending it to the client) and answers with its
/// own.
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct SessionError(HandleError);

impl<E: Into<Error>> From<E> for SessionError {
    fn from(error: E) -> Self {
        SessionError(HandleError::from(error))
    }
}

impl SessionError {
    /// The session's error; `None` when no middleware wraps the route.
    pub fn error(&self) -> Option<&Error> {
        self.0.error()
    }

    /// A 500 that carries the error to the session middleware, which answers with its error response;
    /// a plain 500 (and an error in the log) when no middleware wraps the route.
    pub(crate) fn response(&self) -> HttpResponse {
        let mut response = internal_server_error();
        match &self.0 {
            HandleError::MissingLayer => {
                tracing::error!("a handler asked for a session but no SessionMiddleware with this tag wraps the route");
            }
            HandleError::Failed(failure) => {
                response.extensions_mut().insert(failure.clone());
            }
        }
        response
    }
}
