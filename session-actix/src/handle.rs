//! How a handler reaches its session: the [`Session`] handle, aiohttp's `get_session` and
//! `new_session`, and the error a session call returns.

use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::sync::Arc;
use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::http::header::COOKIE;
use actix_web::{HttpMessage, HttpRequest, HttpResponse};
use serde::Serialize;
use serde::de::DeserializeOwned;
use session_core::middleware::RequestSession;
use session_core::{Error, Value};

use crate::shared::{Shared, internal_server_error};

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

    /// Loads the session of a request that went through the middleware tagged `T`: what the extractor
    /// does, for code that holds an [`HttpRequest`] (a `ServiceRequest` gives one with `request()`).
    /// The future does not borrow `request`.
    pub fn load(request: &HttpRequest) -> impl Future<Output = Result<Self, SessionError>> + 'static {
        let session = request.extensions().get::<Session<T>>().cloned();
        let request = request.clone();
        async move {
            let session = session.ok_or(SessionError(Inner::MissingLayer))?;
            let cookies = request.headers().get_all(COOKIE).filter_map(|value| value.to_str().ok());
            session.request.load(cookies).await.map_err(|error| session.error(error))?;
            Ok(session)
        }
    }

    /// The value under `key` as a `T`: `None` when absent, an error when it is not a `T`.
    pub fn get<V: DeserializeOwned>(&self, key: &str) -> Result<Option<V>, SessionError> {
        self.update(|session| session.get(key))
    }

    /// The raw JSON value under `key`.
    pub fn get_value(&self, key: &str) -> Result<Option<Value>, SessionError> {
        self.update(|session| Ok(session.get_value(key).cloned()))
    }

    /// Stores `value` under `key` (`session[key] = value`): the session is saved after the handler.
    pub fn insert(&self, key: impl Into<String>, value: impl Serialize) -> Result<(), SessionError> {
        self.update(|session| session.insert(key, value))
    }

    /// Takes the value under `key` out as a `T` (`session.pop(key)`).
    pub fn remove<V: DeserializeOwned>(&self, key: &str) -> Result<Option<V>, SessionError> {
        self.update(|session| session.remove(key))
    }

    /// Whether `key` is present.
    pub fn contains_key(&self, key: &str) -> Result<bool, SessionError> {
        self.update(|session| Ok(session.contains_key(key)))
    }

    /// The keys, in insertion order.
    pub fn keys(&self) -> Result<Vec<String>, SessionError> {
        self.update(|session| Ok(session.keys().map(str::to_owned).collect()))
    }

    /// Removes every item (`session.clear()`); prefer [`invalidate`](Self::invalidate) at logout.
    pub fn clear(&self) -> Result<(), SessionError> {
        self.update(|session| {
            session.clear();
            Ok(())
        })
    }

    /// Empties the session and ends it: the cookie is removed (or, server-side, the entry deleted) when
    /// the response goes out.
    pub fn invalidate(&self) -> Result<(), SessionError> {
        self.update(|session| {
            session.invalidate();
            Ok(())
        })
    }

    /// Changes the lifetime written with this session (cookie `Max-Age`, entry TTL).
    pub fn set_max_age(&self, max_age: Option<Duration>) -> Result<(), SessionError> {
        self.update(|session| {
            session.set_max_age(max_age);
            Ok(())
        })
    }

    /// Attaches the session to `user`, so that a server-side storage's `log_out_everywhere(user)` ends
    /// it.
    pub fn set_user(&self, user: impl Into<String>) -> Result<(), SessionError> {
        self.update(|session| {
            session.set_user(user);
            Ok(())
        })
    }

    /// Replaces the session with a fresh, empty one (aiohttp-session's `new_session`): call it at
    /// login. The new session gets a new id when saved, and the stored entry of the one it replaced is
    /// deleted then. Nothing is written if the new session is never changed.
    pub fn new_session(&self) -> Result<(), SessionError> {
        self.request.renew().map_err(|error| self.error(error))
    }

    /// Gives the session a new id and keeps its data (a privilege change); the entry under the old id
    /// is deleted once the session is saved under the new one.
    #[doc(alias = "regenerate", alias = "rotate")]
    pub fn cycle_id(&self) -> Result<(), SessionError> {
        self.request.cycle_id().map_err(|error| self.error(error))
    }

    /// Runs several operations on the session as one: nothing else of this request sees it half-done.
    /// The closure gets the [`session_core::Session`] and cannot `.await`; use that session inside it,
    /// not this handle (which would be [`Error::InUse`]).
    pub fn update<R>(&self, f: impl FnOnce(&mut session_core::Session) -> Result<R, Error>) -> Result<R, SessionError> {
        self.request.with(f).and_then(|result| result).map_err(|error| self.error(error))
    }

    fn error(&self, error: Error) -> SessionError {
        SessionError(Inner::Failed { shared: Arc::clone(&self.shared), error })
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
/// session, replaced by a fresh one (see [`Session::new_session`]).
pub fn new_session(request: &HttpRequest) -> impl Future<Output = Result<Session, SessionError>> + 'static {
    let session = get_session(request);
    async move {
        let session = session.await?;
        session.new_session()?;
        Ok(session)
    }
}

/// Why a session call failed: the store, a value of another type than asked for, a value that is not
/// JSON, or no middleware on the route. As an actix-web error (it is a `ResponseError`, so `?` works
/// in handlers returning `Result<_, SessionError>` or `Result<_, actix_web::Error>`) its response is
/// the middleware's error response, a 500 by default; the cause goes to the log, never to the client.
pub struct SessionError(Inner);

enum Inner {
    /// No `SessionMiddleware` with this tag wraps the route: a bug in the app's wiring.
    MissingLayer,
    /// The store or the session failed.
    Failed { shared: Arc<Shared>, error: Error },
}

impl SessionError {
    /// The session's error; `None` when no middleware wraps the route.
    pub fn error(&self) -> Option<&Error> {
        match &self.0 {
            Inner::MissingLayer => None,
            Inner::Failed { error, .. } => Some(error),
        }
    }

    /// The response the middleware sends for it (logging the error): the app's error response, or a
    /// 500 for a missing middleware.
    pub(crate) fn response(&self) -> HttpResponse {
        match &self.0 {
            Inner::MissingLayer => {
                tracing::error!("a handler asked for a session but no SessionMiddleware with this tag wraps the route");
                internal_server_error()
            }
            Inner::Failed { shared, error } => shared.error_response(error),
        }
    }

    /// The status of that response, without logging.
    pub(crate) fn status(&self) -> StatusCode {
        match &self.0 {
            Inner::MissingLayer => StatusCode::INTERNAL_SERVER_ERROR,
            Inner::Failed { shared, error } => (shared.on_error)(error).status(),
        }
    }
}

impl fmt::Debug for SessionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Inner::MissingLayer => f.write_str("SessionError::MissingLayer"),
            Inner::Failed { error, .. } => f.debug_tuple("SessionError").field(error).finish(),
        }
    }
}

impl fmt::Display for SessionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Inner::MissingLayer => f.write_str("no SessionMiddleware with this tag wraps the route"),
            Inner::Failed { error, .. } => error.fmt(f),
        }
    }
}

impl std::error::Error for SessionError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.error().map(|error| error as _)
    }
}
