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

/// What a compare-and-set compares: whatever identifies the stored bytes a request loaded, such as a
/// digest of them (Redis) or the store's CAS token (memcached). Opaque to everything but its backend.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Version(String);

impl Version {
    /// A version as the backend writes it.
    pub fn new(version: impl Into<String>) -> Self {
        Version(version.into())
    }

    /// The version as the backend wrote it.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// What a conditional store did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CasOutcome {
    /// The entry was as expected and now holds the new payload.
    Stored,
    /// Another request changed (or created, or deleted) the entry since it was loaded; nothing was
    /// written.
    Conflict,
}

/// How concurrent requests on one session combine when they both save it.
///
/// Merging needs a backend that can compare-and-set ([`KeyValueBackend::supports_cas`]); with any other
/// backend, and for cookie storages (the browser holds the state), it is always last-writer-wins.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Concurrency {
    /// Each save applies only what its request changed on top of what is stored: writes to different
    /// keys all survive, on one key the later writer wins, an invalidation wins over writes. One round
    /// trip per save while there is no conflict; a conflict costs a reload and a retry.
    #[default]
    Merge,
    /// Each save overwrites the whole session (aiohttp-session's behaviour): of two concurrent requests,
    /// the one that saves last erases the other's writes.
    LastWriterWins,
}

/// How often a save re-applies its changes after a conflict before it gives up.
const MAX_ATTEMPTS: usize = 128;

/// The byte-moving half of a server-side storage: fetch, store and delete one entry. Implement it to
/// put sessions in another key-value store; [`ServerSideStorage`] adds every session rule.
///
/// The compare-and-set methods are optional: their defaults mean "no CAS", and the storage is then
/// last-writer-wins. A backend that implements them (and says so in
/// [`supports_cas`](Self::supports_cas)) gets the merge of [`Concurrency::Merge`].
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

    /// Whether [`load_versioned`](Self::load_versioned) and [`store_if`](Self::store_if) really
    /// compare-and-set. The default says no.
    fn supports_cas(&self) -> bool {
        false
    }

    /// The bytes under `key` with the version a later [`store_if`](Self::store_if) compares against.
    /// The default (no CAS) loads without a version.
    async fn load_versioned(&self, key: &str) -> Result<Option<(Vec<u8>, Version)>, Error> {
        Ok(self.load(key).await?.map(|bytes| (bytes, Version::new(""))))
    }

    /// Stores `payload` only if the entry is still at `expected` (`None`: only if there is no entry).
    /// The default (no CAS) stores unconditionally.
    async fn store_if(
        &self,
        key: &str,
        payload: &[u8],
        max_age: Option<u64>,
        now: i64,
        expected: Option<&Version>,
    ) -> Result<CasOutcome, Error> {
        let _ = expected;
        self.store(key, payload, max_age, now).await.map(|()| CasOutcome::Stored)
    }
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
    concurrency: Concurrency,
}

impl<B: Clone> Clone for ServerSideStorage<B> {
    fn clone(&self) -> Self {
        ServerSideStorage {
            config: self.config.clone(),
            backend: self.backend.clone(),
            ids: Arc::clone(&self.ids),
            prefix: self.prefix.clone(),
            concurrency: self.concurrency,
        }
    }
}

impl<B: fmt::Debug> fmt::Debug for ServerSideStorage<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerSideStorage")
            .field("config", &self.config)
            .field("backend", &self.backend)
            .field("prefix", &self.prefix)
            .field("concurrency", &self.concurrency)
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
            concurrency: Concurrency::default(),
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

    /// How concurrent saves of one session combine; [`Concurrency::Merge`] by default, which takes
    /// effect when the backend can compare-and-set.
    pub fn with_concurrency(mut self, concurrency: Concurrency) -> Self {
        self.concurrency = concurrency;
        self
    }

    /// Whether saves merge (the policy asks for it and the backend can compare-and-set).
    pub fn merges(&self) -> bool {
        self.concurrency == Concurrency::Merge && self.backend.supports_cas()
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

    /// The session stored under `id` as `bytes` at `version`.
    fn open(&self, id: &str, bytes: Vec<u8>, version: Version) -> Session {
        let name = self.backend.name();
        let mut session = match String::from_utf8(bytes) {
            Ok(payload) => self.config.open(name, Some(id.to_owned()), &payload),
            Err(_) => self.config.reject(name, &"stored payload is not UTF-8"),
        };
        session.set_version(Some(version));
        session
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
        let stored = if self.merges() {
            self.backend.load_versioned(&key).await?
        } else {
            self.backend.load(&key).await?.map(|bytes| (bytes, Version::new("")))
        };
        // Expired or deleted: aiohttp-session starts a new session, silently.
        Ok(stored.map_or_else(|| self.new_session(), |(bytes, version)| self.open(id, bytes, version)))
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
            // A new id has no entry yet, whatever this session was loaded from.
            session.set_version(None);
        }
        let id = session.identity().unwrap_or_default().to_owned();
        let key = self.key(&id);
        if !self.merges() {
            let payload = self.config.encode(session)?;
            self.backend.store(&key, payload.as_bytes(), session.max_age(), self.config.now()).await?;
            return Ok(CookieAction::Set(id));
        }
        for _ in 0..MAX_ATTEMPTS {
            let payload = self.config.encode(session)?;
            let (max_age, now) = (session.max_age(), self.config.now());
            if self.backend.store_if(&key, payload.as_bytes(), max_age, now, session.version()).await?
                == CasOutcome::Stored
            {
                return Ok(CookieAction::Set(id));
            }
            // Another request saved this session since we loaded it: take what it stored and re-apply
            // only our own changes on top.
            let stored =
                self.backend.load_versioned(&key).await?.map(|(bytes, version)| self.open(&id, bytes, version));
            match stored {
                // It was created meanwhile under our brand-new id, or deleted and recreated: try again.
                None if session.version().is_none() => continue,
                // Deleted or invalidated meanwhile (or expired): an invalidation wins over our writes,
                // unless we invalidated too and start afresh.
                None if session.is_invalidation() => session.set_version(None),
                Some(stored) if stored.is_new() && !session.is_invalidation() => return Ok(CookieAction::Remove),
                None => return Ok(CookieAction::Remove),
                Some(stored) => session.rebase(stored),
            }
        }
        Err(Error::Conflict { attempts: MAX_ATTEMPTS })
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
    use crate::storage::save_if_changed;
    use std::collections::HashMap;
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicU64, Ordering};

    /// An in-process store with compare-and-set on a version counter; `conflicts` makes every
    /// conditional store lose.
    #[derive(Default)]
    struct Memory {
        entries: Mutex<HashMap<String, (Vec<u8>, u64)>>,
        counter: AtomicU64,
        conflicts: bool,
    }

    impl Memory {
        fn put(&self, key: &str, payload: &str) {
            let version = self.counter.fetch_add(1, Ordering::SeqCst);
            self.entries.lock().unwrap().insert(key.to_owned(), (payload.as_bytes().to_vec(), version));
        }
    }

    #[async_trait]
    impl KeyValueBackend for Memory {
        fn name(&self) -> &'static str {
            "memory"
        }
        async fn load(&self, key: &str) -> Result<Option<Vec<u8>>, Error> {
            Ok(self.entries.lock().unwrap().get(key).map(|(bytes, _)| bytes.clone()))
        }
        async fn store(&self, key: &str, payload: &[u8], _: Option<u64>, _: i64) -> Result<(), Error> {
            self.put(key, std::str::from_utf8(payload).unwrap());
            Ok(())
        }
        async fn delete(&self, key: &str) -> Result<(), Error> {
            self.entries.lock().unwrap().remove(key);
            Ok(())
        }
        fn supports_cas(&self) -> bool {
            true
        }
        async fn load_versioned(&self, key: &str) -> Result<Option<(Vec<u8>, Version)>, Error> {
            let entries = self.entries.lock().unwrap();
            Ok(entries.get(key).map(|(bytes, version)| (bytes.clone(), Version::new(version.to_string()))))
        }
        async fn store_if(
            &self,
            key: &str,
            payload: &[u8],
            _: Option<u64>,
            _: i64,
            expected: Option<&Version>,
        ) -> Result<CasOutcome, Error> {
            let current = self.entries.lock().unwrap().get(key).map(|(_, version)| version.to_string());
            if self.conflicts || current.as_deref() != expected.map(Version::as_str) {
                return Ok(CasOutcome::Conflict);
            }
            self.put(key, std::str::from_utf8(payload).unwrap());
            Ok(CasOutcome::Stored)
        }
    }

    const ID: &str = "0123456789abcdef0123456789abcdef";
    const KEY: &str = "AIOHTTP_SESSION_0123456789abcdef0123456789abcdef";

    fn storage(memory: Memory) -> ServerSideStorage<Memory> {
        memory.put(KEY, r#"{"created": 1, "session": {"user": "alice"}}"#);
        ServerSideStorage::new(memory)
    }

    #[tokio::test]
    async fn a_write_after_a_concurrent_delete_does_not_revive_the_session() {
        let storage = storage(Memory::default());
        let mut late = storage.load_session(Some(ID)).await.unwrap();
        storage.backend().delete(KEY).await.unwrap();
        late.insert("late", true).unwrap();
        assert_eq!(storage.save_session(&mut late).await.unwrap(), CookieAction::Remove);
        assert!(storage.backend().load(KEY).await.unwrap().is_none());
    }

    #[tokio::test]
    async fn a_python_invalidation_written_meanwhile_wins_too() {
        let storage = storage(Memory::default());
        let mut late = storage.load_session(Some(ID)).await.unwrap();
        storage.backend().put(KEY, "{}");
        late.insert("late", true).unwrap();
        assert_eq!(storage.save_session(&mut late).await.unwrap(), CookieAction::Remove);
    }

    #[tokio::test]
    async fn our_own_invalidation_and_new_writes_survive_a_concurrent_delete() {
        let storage = storage(Memory::default());
        let mut relogin = storage.load_session(Some(ID)).await.unwrap();
        storage.backend().delete(KEY).await.unwrap();
        relogin.invalidate();
        relogin.insert("user", "bob").unwrap();
        assert_eq!(storage.save_session(&mut relogin).await.unwrap(), CookieAction::Set(ID.to_owned()));
        let stored = storage.backend().load(KEY).await.unwrap().unwrap();
        assert!(String::from_utf8(stored).unwrap().ends_with(r#""session": {"user": "bob"}}"#));
    }

    #[tokio::test]
    async fn endless_conflicts_are_a_typed_error() {
        let storage = storage(Memory { conflicts: true, ..Memory::default() });
        let mut session = storage.load_session(Some(ID)).await.unwrap();
        session.insert("k", 1).unwrap();
        assert!(matches!(
            save_if_changed(&storage, &mut session).await,
            Err(Error::Conflict { attempts: MAX_ATTEMPTS })
        ));
    }

    #[tokio::test]
    async fn last_writer_wins_overwrites_a_concurrent_write() {
        let storage = storage(Memory::default()).with_concurrency(Concurrency::LastWriterWins);
        assert!(!storage.merges());
        let (mut first, mut second) =
            (storage.load_session(Some(ID)).await.unwrap(), storage.load_session(Some(ID)).await.unwrap());
        first.insert("first", 1).unwrap();
        second.insert("second", 2).unwrap();
        storage.save_session(&mut first).await.unwrap();
        storage.save_session(&mut second).await.unwrap();
        let last = storage.load_session(Some(ID)).await.unwrap();
        assert_eq!((last.contains_key("first"), last.contains_key("second")), (false, true));
    }

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
