//! For storage authors: the trait every storage implements, what a load returns, what a save
//! answers, and the configuration every storage holds.
//!
//! Most storages are not written against this trait directly: a cookie storage with a cipher is a
//! [`SealedCookieStorage`](crate::sealed::SealedCookieStorage), a key-value store is a
//! [`ServerSideStorage`](crate::server_side::ServerSideStorage); both hold the session rules once.

mod config;

use std::any::Any;
use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;

pub use config::StorageConfig;

use crate::error::Error;
use crate::session::SessionState;

/// What the response must do with the session cookie after a save.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CookieAction {
    /// Send this (unquoted) value; quoting and attributes are added by the middleware.
    Set(String),
    /// Delete the cookie.
    Remove,
    /// Send no `Set-Cookie`: the browser keeps what it has. A server-side save whose entry was removed
    /// meanwhile (a logout, `cycle_id` or expiry in another request) writes nothing and answers this:
    /// the request that removed it has told the browser already, and a removal cookie here could
    /// clobber the new id a concurrent `cycle_id` sent.
    Keep,
}

/// What a storage remembers between loading a session and saving it (for a server-side storage,
/// the stored bytes and the compare-and-set token). Opaque to everyone but that storage: the
/// middleware carries it from [`load_session`](AbstractStorage::load_session) to
/// [`save_session`](AbstractStorage::save_session) and never looks inside.
#[derive(Default)]
pub struct Origin(Option<Box<dyn Any + Send + Sync>>);

impl Origin {
    /// Nothing to remember (cookie storages, new sessions).
    pub fn none() -> Self {
        Origin(None)
    }

    /// Remembers `value`.
    pub fn new<T: Any + Send + Sync>(value: T) -> Self {
        Origin(Some(Box::new(value)))
    }

    /// The remembered value, if it is a `T`.
    pub fn take<T: Any>(self) -> Option<T> {
        self.0.and_then(|value| (value as Box<dyn Any>).downcast().ok()).map(|value| *value)
    }
}

impl fmt::Debug for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0.is_some() { "Origin(..)" } else { "Origin(none)" })
    }
}

/// A session as its storage loaded it, with what the storage needs back when it saves it.
#[derive(Debug)]
pub struct Loaded {
    /// The session the handler reads and writes.
    pub session: SessionState,
    /// What the storage remembers for the save.
    pub origin: Origin,
}

impl From<SessionState> for Loaded {
    fn from(session: SessionState) -> Self {
        Loaded { session, origin: Origin::none() }
    }
}

/// Where sessions live: aiohttp-session's `AbstractStorage`, framework-neutral.
///
/// A storage sees cookie values, not requests: [`load_session`](Self::load_session) takes the value of
/// the request's session cookie, [`save_session`](Self::save_session) says what to do with the cookie.
/// The middleware does the HTTP around it ([`RequestSession`](crate::middleware::RequestSession)).
///
/// Contract for implementors (the `session-testkit` conformance suite checks every point):
/// - Anything a client sends is input, not an error: a missing, tampered, expired, truncated or garbage
///   cookie loads as a fresh session (use [`StorageConfig::open`] and [`StorageConfig::reject`]).
///   [`Error`] is for the store failing.
/// - `save_session` is called only for changed sessions. An empty session removes the cookie (or, for
///   a plain cookie, writes `{}`) and, server-side, the stored entry. A storage that keeps entries also
///   deletes the one the session replaced ([`SessionState::replaced`]) once the session is stored.
/// - Time comes from [`StorageConfig::clock`], never from the system directly.
///
/// ```
/// use async_trait::async_trait;
/// use session_core::storage::{AbstractStorage, CookieAction, Loaded, Origin};
/// use session_core::{Error, SessionState, StorageConfig};
///
/// /// The cookie holds the JSON payload itself (what `SimpleCookieStorage` does).
/// struct PlainCookie(StorageConfig);
///
/// #[async_trait]
/// impl AbstractStorage for PlainCookie {
///     fn config(&self) -> &StorageConfig {
///         &self.0
///     }
///     async fn load_session(&self, cookie: Option<&str>) -> Result<Loaded, Error> {
///         Ok(match cookie {
///             Some(text) => self.0.open("plain", None, text),
///             None => self.new_state(),
///         }
///         .into())
///     }
///     async fn save_session(&self, session: &mut SessionState, _: Origin) -> Result<CookieAction, Error> {
///         Ok(CookieAction::Set(self.0.encode(session)?))
///     }
/// }
/// ```
#[async_trait]
pub trait AbstractStorage: Send + Sync {
    /// The cookie, expiry policy, codec and clock of this storage.
    fn config(&self) -> &StorageConfig;

    /// A fresh session: what a request gets when it asks for a new one (aiohttp's
    /// `storage.new_state()`).
    fn new_state(&self) -> SessionState {
        self.config().new_state()
    }

    /// The session the cookie value points at (`None`: the request had no session cookie).
    async fn load_session(&self, cookie: Option<&str>) -> Result<Loaded, Error>;

    /// Stores a changed session (with what its load remembered) and says what to do with the cookie.
    async fn save_session(&self, session: &mut SessionState, origin: Origin) -> Result<CookieAction, Error>;

    /// Ends every session attached to `user` ([`SessionState::set_user`], which a login does) in every
    /// process that shares the store; other users' sessions are untouched, and sessions attached to
    /// `user` afterwards (a new login) live on. Server-side storages can, and cookie storages given a
    /// store for it ([`SealedCookieStorage::with_revocation`]); the default answers
    /// [`Error::Unsupported`].
    ///
    /// [`SealedCookieStorage::with_revocation`]: crate::sealed::SealedCookieStorage::with_revocation
    #[doc(alias = "logout_all", alias = "revoke")]
    async fn log_out_everywhere(&self, user: &str) -> Result<(), Error> {
        let _ = user;
        Err(Error::Unsupported { what: "log a user out everywhere: it keeps no sessions server-side" })
    }
}

/// What a middleware layer takes as its storage: any storage, or one already shared as
/// `Arc<dyn AbstractStorage>` (chosen at run time, used elsewhere too), which is kept as it is rather
/// than wrapped again.
pub trait IntoStorage {
    /// The storage, shared.
    fn into_storage(self) -> Arc<dyn AbstractStorage>;

    /// The storage, shared, and as its own type for handlers that reach what only it can do (a user's
    /// devices): [`RequestSession::storage_as`](crate::middleware::RequestSession::storage_as).
    fn into_typed(self) -> (Arc<dyn AbstractStorage>, Arc<dyn Any + Send + Sync>)
    where
        Self: Sized,
    {
        let storage = self.into_storage();
        (Arc::clone(&storage), Arc::new(storage))
    }
}

impl<S: AbstractStorage + 'static> IntoStorage for S {
    fn into_storage(self) -> Arc<dyn AbstractStorage> {
        Arc::new(self)
    }

    fn into_typed(self) -> (Arc<dyn AbstractStorage>, Arc<dyn Any + Send + Sync>) {
        Arc::new(self).into_typed()
    }
}

impl IntoStorage for Arc<dyn AbstractStorage> {
    fn into_storage(self) -> Arc<dyn AbstractStorage> {
        self
    }
}

impl<S: AbstractStorage + 'static> IntoStorage for Arc<S> {
    fn into_storage(self) -> Arc<dyn AbstractStorage> {
        self
    }

    fn into_typed(self) -> (Arc<dyn AbstractStorage>, Arc<dyn Any + Send + Sync>) {
        (Arc::clone(&self) as Arc<dyn AbstractStorage>, self)
    }
}
