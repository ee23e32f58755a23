//! Server-side storages: the cookie carries an id, a key-value store keeps the payload under
//! `<cookie_name>_<id>`. Redis and memcached differ only in how they move bytes ([`KeyValueBackend`]);
//! the rules are here, once.

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;

use crate::error::{BoxError, Error};
use crate::quoting::is_legal;
use crate::session::Session;
use crate::storage::{AbstractStorage, CookieAction};
use crate::storage_config::StorageConfig;

/// Makes the ids of new sessions (the cookie value) and recognises ids in cookies, so that a value
/// that could never be an id is a fresh session without a trip to the store. aiohttp-session's
/// `key_factory`.
///
/// Any `Fn() -> String` is a key factory (as in Python); it then accepts cookie values of 1 to 128
/// characters that a cookie carries unquoted (letters, digits, ``!#$%&'*+-.^_`|~:``). Implement the
/// trait for a tighter check.
pub trait KeyFactory: Send + Sync + 'static {
    /// The id of a new session.
    fn new_id(&self) -> Result<String, BoxError>;

    /// Whether `id`, read from a cookie, can be an id this factory made.
    fn accepts(&self, id: &str) -> bool;
}

/// The default ids: 32 lowercase hex characters of 128 bits from the operating system's CSPRNG.
///
/// Same shape as aiohttp-session's `uuid.uuid4().hex`, so Python peers take them as they are, but all
/// 128 bits are random (a UUIDv4 has 122). Only ids of exactly this shape are accepted.
///
/// ```
/// use session_core::{KeyFactory, RandomHexIds};
///
/// let id = RandomHexIds.new_id()?;
/// assert_eq!(id.len(), 32);
/// assert!(RandomHexIds.accepts(&id));
/// assert!(!RandomHexIds.accepts("0123456789ABCDEF0123456789ABCDEF"));
/// # Ok::<(), session_core::BoxError>(())
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct RandomHexIds;

impl KeyFactory for RandomHexIds {
    fn new_id(&self) -> Result<String, BoxError> {
        let mut bytes = [0u8; 16];
        getrandom::fill(&mut bytes).map_err(|e| format!("the operating system's random source failed: {e}"))?;
        Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
    }

    fn accepts(&self, id: &str) -> bool {
        id.len() == 32 && id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    }
}

impl<F> KeyFactory for F
where
    F: Fn() -> String + Send + Sync + 'static,
{
    fn new_id(&self) -> Result<String, BoxError> {
        Ok(self())
    }

    fn accepts(&self, id: &str) -> bool {
        (1..=128).contains(&id.len()) && id.bytes().all(is_legal)
    }
}

/// The byte-moving half of a server-side storage: fetch, store and delete one entry. Implement it to
/// put sessions in another key-value store; [`ServerSideStorage`] adds every session rule.
#[async_trait]
pub trait KeyValueBackend: Send + Sync + 'static {
    /// A short name for logs (`"redis"`, `"memcached"`).
    fn name(&self) -> &'static str;

    /// Whether `key` can be stored at all (memcached's key rules). A cookie that cannot form a valid
    /// key is a fresh session, and the store is not asked.
    fn accepts_key(&self, key: &str) -> bool {
        let _ = key;
        true
    }

    /// The bytes under `key`, or `None` when there is no entry (never written, expired, deleted).
    async fn load(&self, key: &str) -> Result<Option<Vec<u8>>, Error>;

    /// Stores `payload` under `key`, to expire `max_age` seconds from `now` (never when `None`).
    async fn store(&self, key: &str, payload: &[u8], max_age: Option<u64>, now: i64) -> Result<(), Error>;

    /// Deletes the entry under `key`; a missing entry is not an error.
    async fn delete(&self, key: &str) -> Result<(), Error>;
}

/// A storage that keeps sessions in a key-value store and only their id in the cookie, with
/// aiohttp-session's layout: the entry `<cookie_name>_<id>` holds the JSON payload, the cookie holds
/// the id.
///
/// - Load: one fetch. No cookie, a missing entry or `{}` is a new session; a cookie that is not an
///   id is a fresh session without asking the store; a stored value that does not decode is a fresh
///   session (with a new id once saved).
/// - Save: one store, with the session's `max_age` as the entry's expiry. An empty session (after
///   `invalidate`) deletes the entry and the cookie, so a replayed id finds nothing.
/// - `new_session` rotation deletes the replaced entry after the new one is saved.
pub struct ServerSideStorage<B> {
    config: StorageConfig,
    backend: B,
    ids: Arc<dyn KeyFactory>,
    prefix: String,
}

impl<B: Clone> Clone for ServerSideStorage<B> {
    fn clone(&self) -> Self {
        ServerSideStorage {
            config: self.config.clone(),
            backend: self.backend.clone(),
            ids: Arc::clone(&self.ids),
            prefix: self.prefix.clone(),
        }
    }
}

impl<B: fmt::Debug> fmt::Debug for ServerSideStorage<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerSideStorage")
            .field("config", &self.config)
            .field("backend", &self.backend)
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

impl<B: KeyValueBackend> ServerSideStorage<B> {
    /// Sessions in `backend`, with the default cookie settings and [`RandomHexIds`].
    pub fn new(backend: impl Into<B>) -> Self {
        ServerSideStorage {
            config: StorageConfig::default(),
            backend: backend.into(),
            ids: Arc::new(RandomHexIds),
            prefix: String::new(),
        }
    }

    /// Replaces the cookie settings (pass a `CookieConfig`) or the whole configuration (a
    /// `StorageConfig`, which also carries the codec and the clock).
    pub fn with_config(mut self, config: impl Into<StorageConfig>) -> Self {
        self.config = config.into();
        self
    }

    /// Replaces how ids are made and recognised (aiohttp-session's `key_factory`).
    #[doc(alias = "key_factory")]
    pub fn with_key_factory(mut self, ids: impl KeyFactory) -> Self {
        self.ids = Arc::new(ids);
        self
    }

    /// Puts `prefix` before every key: `<prefix><cookie_name>_<id>`. Python peers use no prefix, so
    /// set it only when no Python service shares the store.
    pub fn with_key_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// The backend.
    pub fn backend(&self) -> &B {
        &self.backend
    }

    /// The store key of the session `id`: `<prefix><cookie_name>_<id>`.
    pub fn key(&self, id: &str) -> String {
        let name = self.config.cookie().get_name();
        let mut key = String::with_capacity(self.prefix.len() + name.len() + 1 + id.len());
        key.push_str(&self.prefix);
        key.push_str(name);
        key.push('_');
        key.push_str(id);
        key
    }

    /// The key of a cookie value, if it can be one.
    fn key_of_cookie(&self, id: &str) -> Option<String> {
        if !self.ids.accepts(id) {
            return None;
        }
        let key = self.key(id);
        self.backend.accepts_key(&key).then_some(key)
    }
}

#[async_trait]
impl<B: KeyValueBackend> AbstractStorage for ServerSideStorage<B> {
    fn config(&self) -> &StorageConfig {
        &self.config
    }

    async fn load_session(&self, cookie: Option<&str>) -> Result<Session, Error> {
        let name = self.backend.name();
        let Some(id) = cookie else {
            return Ok(self.new_session());
        };
        let Some(key) = self.key_of_cookie(id) else {
            return Ok(self.config.reject(name, &"cookie is not a session id"));
        };
        let Some(stored) = self.backend.load(&key).await? else {
            // Expired or deleted: aiohttp-session starts a new session, silently.
            return Ok(self.new_session());
        };
        Ok(match String::from_utf8(stored) {
            Ok(payload) => self.config.open(name, Some(id.to_owned()), &payload),
            Err(_) => self.config.reject(name, &"stored payload is not UTF-8"),
        })
    }

    async fn save_session(&self, session: &mut Session) -> Result<CookieAction, Error> {
        // An empty session, or one whose lifetime is over, has nothing left to keep.
        if session.is_empty() || session.max_age() == Some(0) {
            if let Some(key) = session.identity().and_then(|id| self.key_of_cookie(id)) {
                self.backend.delete(&key).await?;
            }
            return Ok(CookieAction::Remove);
        }
        if session.identity().is_none() {
            session.set_new_identity(self.ids.new_id().map_err(Error::Backend)?)?;
        }
        let id = session.identity().unwrap_or_default().to_owned();
        let payload = self.config.encode(session)?;
        self.backend.store(&self.key(&id), payload.as_bytes(), session.max_age(), self.config.now()).await?;
        Ok(CookieAction::Set(id))
    }

    async fn remove_session(&self, identity: &str) -> Result<(), Error> {
        match self.key_of_cookie(identity) {
            Some(key) => self.backend.delete(&key).await,
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_ids_are_distinct_lowercase_hex() {
        let ids: std::collections::HashSet<String> = (0..100).map(|_| RandomHexIds.new_id().unwrap()).collect();
        assert_eq!(ids.len(), 100);
        assert!(ids.iter().all(|id| RandomHexIds.accepts(id)));
    }

    #[test]
    fn random_ids_accept_only_their_shape() {
        assert!(RandomHexIds.accepts("0123456789abcdef0123456789abcdef"));
        for id in ["", "0123456789abcdef", "0123456789abcdef0123456789abcdeg", "0123456789abcdef0123456789abcdef0"] {
            assert!(!RandomHexIds.accepts(id), "{id}");
        }
    }

    #[test]
    fn closure_factories_accept_bare_cookie_values() {
        let factory = || "test-key".to_owned();
        assert_eq!(factory.new_id().unwrap(), "test-key");
        assert!(factory.accepts("test-key"));
        assert!(!factory.accepts("has space"));
        assert!(!factory.accepts(""));
        assert!(!factory.accepts(&"a".repeat(129)));
    }
}
