//! How a handler reaches its session: the [`Session`] handle, aiohttp's `get_session` and
//! `new_session`, and the error a session call returns.

use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::sync::Arc;
use std::time::Duration;

use http::header::COOKIE;
use http::{Extensions, HeaderMap, Request, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;
use session_core::middleware::RequestSession;
use session_core::{Error, Value};

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
        let session = extensions.get::<Session<T>>().ok_or(SessionError(Inner::MissingLayer))?.clone();
        let cookies = headers.get_all(COOKIE).iter().filter_map(|value| value.to_str().ok());
        session.request.load(cookies).await.map_err(|error| session.error(error))?;
        Ok(session)
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
    let cookies: Vec<String> =
        request.headers().get_all(COOKIE).iter().filter_map(|value| value.to_str().ok().map(str::to_owned)).collect();
    async move {
        let session = session.ok_or(SessionError(Inner::MissingLayer))?;
        session.request.load(cookies.iter().map(String::as_str)).await.map_err(|error| session.error(error))?;
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
pub struct SessionError(Inner);

enum Inner {
    /// No `SessionLayer` with this tag wraps the route: a bug in the app's wiring.
    MissingLayer,
    /// The store or the session failed.
    Failed { shared: Arc<Shared>, error: Error },
}

impl SessionError {
    /// The session's error; `None` when no layer wraps the route.
    pub fn error(&self) -> Option<&Error> {
        match &self.0 {
            Inner::MissingLayer => None,
            Inner::Failed { error, .. } => Some(error),
        }
    }

    /// The response the layer sends for it: the app's error response, or a 500 for a missing layer.
    pub fn into_http_response<B: From<String>>(self) -> Response<B> {
        match self.0 {
            Inner::MissingLayer => {
                tracing::error!("a handler asked for a session but no SessionLayer with its tag wraps the route");
                internal_server_error()
            }
            Inner::Failed { shared, error } => shared.error_response(&error),
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
            Inner::MissingLayer => f.write_str("no SessionLayer wraps this route"),
            Inner::Failed { error, .. } => error.fmt(f),
        }
    }
}

impl std::error::Error for SessionError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.error().map(|error| error as _)
    }
}
