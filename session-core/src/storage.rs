//! The storage trait every backend implements, and the one save path every caller uses.

use async_trait::async_trait;

use crate::error::Error;
use crate::session::Session;
use crate::storage_config::StorageConfig;

/// What the response must do with the session cookie after a save.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CookieAction {
    /// Send this (unquoted) value; quoting and attributes are added by [`save_if_changed`].
    Set(String),
    /// Delete the cookie.
    Remove,
}

/// Where sessions live: aiohttp-session's `AbstractStorage`, framework-neutral.
///
/// A storage sees cookie values, not requests: [`load_session`](Self::load_session) takes the value of
/// the request's session cookie, [`save_session`](Self::save_session) says what to do with the cookie.
/// The middleware (`session-tower`) does the HTTP around it.
///
/// Contract for implementors (the `session-testkit` conformance suite checks every point):
/// - Anything a client sends is input, not an error: a missing, tampered, expired, truncated or garbage
///   cookie loads as a fresh session (use [`StorageConfig::open`] and [`StorageConfig::reject`]).
///   [`Error`] is for the store failing.
/// - `save_session` is called only for changed sessions. An empty session removes the cookie (or, for
///   a plain cookie, writes `{}`) and, server-side, the stored entry.
/// - Time comes from [`StorageConfig::clock`], never from the system directly.
///
/// ```
/// use async_trait::async_trait;
/// use session_core::{AbstractStorage, CookieAction, Error, Session, StorageConfig};
///
/// /// The cookie holds the JSON payload itself (what `SimpleCookieStorage` does).
/// struct PlainCookie(StorageConfig);
///
/// #[async_trait]
/// impl AbstractStorage for PlainCookie {
///     fn config(&self) -> &StorageConfig {
///         &self.0
///     }
///     async fn load_session(&self, cookie: Option<&str>) -> Result<Session, Error> {
///         Ok(match cookie {
///             Some(text) => self.0.open("plain", None, text),
///             None => self.new_session(),
///         })
///     }
///     async fn save_session(&self, session: &mut Session) -> Result<CookieAction, Error> {
///         Ok(CookieAction::Set(self.0.encode(session)?))
///     }
/// }
/// ```
#[async_trait]
pub trait AbstractStorage: Send + Sync {
    /// The cookie, codec and clock of this storage.
    fn config(&self) -> &StorageConfig;

    /// A fresh session: what a request gets when it asks for a new one (aiohttp's
    /// `storage.new_session()`).
    fn new_session(&self) -> Session {
        self.config().new_session()
    }

    /// The session the cookie value points at (`None`: the request had no session cookie).
    async fn load_session(&self, cookie: Option<&str>) -> Result<Session, Error>;

    /// Stores a changed session and says what to do with the cookie.
    async fn save_session(&self, session: &mut Session) -> Result<CookieAction, Error>;

    /// Deletes the stored entry of a session that `new_session` replaced, once its successor is saved.
    /// Storages that keep nothing server-side keep this default, which does nothing.
    async fn remove_session(&self, identity: &str) -> Result<(), Error> {
        let _ = identity;
        Ok(())
    }
}

/// A shared storage is a storage: one instance can serve a layer and the rest of the app.
#[async_trait]
impl<S: AbstractStorage + ?Sized> AbstractStorage for std::sync::Arc<S> {
    fn config(&self) -> &StorageConfig {
        (**self).config()
    }

    fn new_session(&self) -> Session {
        (**self).new_session()
    }

    async fn load_session(&self, cookie: Option<&str>) -> Result<Session, Error> {
        (**self).load_session(cookie).await
    }

    async fn save_session(&self, session: &mut Session) -> Result<CookieAction, Error> {
        (**self).save_session(session).await
    }

    async fn remove_session(&self, identity: &str) -> Result<(), Error> {
        (**self).remove_session(identity).await
    }
}

/// Ends a request's use of `session` the way aiohttp-session's middleware does: nothing when it did
/// not change; otherwise save it and return the `Set-Cookie` header value to send.
///
/// The middleware and the test kit both call this, so the rules live in one place: the 4096-byte
/// guard, `Max-Age`/`Expires` from the session's own `max_age`, the removal cookie.
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// # use async_trait::async_trait;
/// # use session_core::{AbstractStorage, CookieAction, Error, Session, StorageConfig};
/// # struct PlainCookie(StorageConfig);
/// # #[async_trait]
/// # impl AbstractStorage for PlainCookie {
/// #     fn config(&self) -> &StorageConfig { &self.0 }
/// #     async fn load_session(&self, _: Option<&str>) -> Result<Session, Error> { Ok(self.new_session()) }
/// #     async fn save_session(&self, s: &mut Session) -> Result<CookieAction, Error> { Ok(CookieAction::Set(self.0.encode(s)?)) }
/// # }
/// let storage = PlainCookie(StorageConfig::default());
/// let mut session = storage.load_session(None).await?;
/// assert_eq!(session_core::save_if_changed(&storage, &mut session).await?, None);
///
/// session.insert("user", "alice")?;
/// let header = session_core::save_if_changed(&storage, &mut session).await?.expect("changed");
/// assert!(header.starts_with(r#"AIOHTTP_SESSION="{\"created\": "#));
/// # Ok::<(), Error>(())
/// # }).unwrap();
/// ```
pub async fn save_if_changed<S>(storage: &S, session: &mut Session) -> Result<Option<String>, Error>
where
    S: AbstractStorage + ?Sized,
{
    if !session.is_changed() {
        return Ok(None);
    }
    let config = storage.config();
    let header = match storage.save_session(session).await? {
        CookieAction::Set(value) => config.cookie().set_cookie(&value, session.max_age(), config.now())?,
        CookieAction::Remove => config.cookie().removal_cookie(),
    };
    Ok(Some(header))
}
