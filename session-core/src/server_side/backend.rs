//! What a key-value store must do for [`ServerSideStorage`](super::ServerSideStorage): move bytes
//! ([`KeyValueBackend`]) and, optionally, store only if nobody wrote meanwhile ([`CompareAndSet`]).

use std::time::Duration;

use async_trait::async_trait;

use crate::error::Error;

/// The default bound on one operation of a backend that does not say otherwise.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(2);

/// The byte-moving half of a server-side storage: fetch, store and delete one entry. Implement it to
/// keep sessions in another store; [`ServerSideStorage`](super::ServerSideStorage) adds every session
/// rule. Implement [`CompareAndSet`] too and concurrent requests on one session keep each other's
/// writes.
///
/// A store in a `HashMap`, with compare-and-set on a version counter (the shape of a SQL table with a
/// `version` column), and entries that expire:
///
/// ```
/// use std::collections::HashMap;
/// use std::sync::Mutex;
/// use std::time::{Duration, Instant};
/// use async_trait::async_trait;
/// use session_core::Error;
/// use session_core::server_side::{CasOutcome, CompareAndSet, KeyValueBackend, ServerSideStorage, Versioned};
///
/// #[derive(Default)]
/// struct MemoryStore(Mutex<HashMap<String, Entry>>);
///
/// struct Entry {
///     bytes: Vec<u8>,
///     version: u64,
///     expires: Option<Instant>,
/// }
///
/// impl MemoryStore {
///     fn live(&self, key: &str) -> Option<(Vec<u8>, u64)> {
///         let mut entries = self.0.lock().unwrap();
///         match entries.get(key) {
///             Some(entry) if entry.expires.is_some_and(|at| at <= Instant::now()) => {
///                 entries.remove(key);
///                 None
///             }
///             Some(entry) => Some((entry.bytes.clone(), entry.version)),
///             None => None,
///         }
///     }
///
///     fn put(&self, key: &str, payload: &[u8], ttl: Option<Duration>, version: u64) {
///         let entry = Entry { bytes: payload.to_vec(), version, expires: ttl.map(|ttl| Instant::now() + ttl) };
///         self.0.lock().unwrap().insert(key.to_owned(), entry);
///     }
/// }
///
/// #[async_trait]
/// impl KeyValueBackend for MemoryStore {
///     fn name(&self) -> &'static str {
///         "memory"
///     }
///     async fn load(&self, key: &str) -> Result<Option<Vec<u8>>, Error> {
///         Ok(self.live(key).map(|(bytes, _)| bytes))
///     }
///     async fn store(&self, key: &str, payload: &[u8], ttl: Option<Duration>) -> Result<(), Error> {
///         let version = self.live(key).map_or(0, |(_, version)| version + 1);
///         self.put(key, payload, ttl, version);
///         Ok(())
///     }
///     async fn delete(&self, key: &str) -> Result<(), Error> {
///         self.0.lock().unwrap().remove(key);
///         Ok(())
///     }
/// }
///
/// #[async_trait]
/// impl CompareAndSet for MemoryStore {
///     type Token = u64;
///
///     async fn load_versioned(&self, key: &str) -> Result<Option<Versioned<u64>>, Error> {
///         Ok(self.live(key).map(|(bytes, token)| Versioned { bytes, token }))
///     }
///     async fn store_if(
///         &self,
///         key: &str,
///         payload: &[u8],
///         ttl: Option<Duration>,
///         expected: Option<&Versioned<u64>>,
///     ) -> Result<CasOutcome<u64>, Error> {
///         // One lock around the check and the write: that is what makes it compare-and-set.
///         let mut entries = self.0.lock().unwrap();
///         let current = entries.get(key).filter(|e| e.expires.is_none_or(|at| at > Instant::now()));
///         if current.map(|entry| entry.version) != expected.map(|expected| expected.token) {
///             return Ok(CasOutcome::Conflict);
///         }
///         let version = expected.map_or(0, |expected| expected.token + 1);
///         let entry = Entry { bytes: payload.to_vec(), version, expires: ttl.map(|ttl| Instant::now() + ttl) };
///         entries.insert(key.to_owned(), entry);
///         Ok(CasOutcome::Stored(version))
///     }
/// }
///
/// let storage = ServerSideStorage::new(MemoryStore::default());
/// assert!(storage.merges());
/// ```
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

    /// How long one operation may take. A save that keeps losing compare-and-set to other processes
    /// gives up after this long.
    fn timeout(&self) -> Duration {
        DEFAULT_TIMEOUT
    }

    /// The bytes under `key`, or `None` when there is no entry (never written, expired, deleted).
    async fn load(&self, key: &str) -> Result<Option<Vec<u8>>, Error>;

    /// Stores `payload` under `key`, to expire `ttl` from now (never when `None`).
    async fn store(&self, key: &str, payload: &[u8], ttl: Option<Duration>) -> Result<(), Error>;

    /// Deletes the entry under `key`; a missing entry is not an error.
    async fn delete(&self, key: &str) -> Result<(), Error>;
}

/// Stored bytes with the token a later [`CompareAndSet::store_if`] compares against.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Versioned<T> {
    /// The stored bytes.
    pub bytes: Vec<u8>,
    /// What identifies this version of the entry (memcached's CAS value, a row version); `()` for a
    /// store that compares the bytes themselves.
    pub token: T,
}

/// What a conditional store did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CasOutcome<T> {
    /// The entry was as expected and now holds the new payload, at this token.
    Stored(T),
    /// Another writer changed (or created, or deleted) the entry since it was loaded; nothing was
    /// written.
    Conflict,
}

/// A store that can write an entry only if it is still what a request loaded: the base of
/// [`Concurrency::Merge`](super::Concurrency::Merge), where concurrent requests on one session keep
/// each other's writes. A backend without it is last-writer-wins
/// ([`ServerSideStorage::last_writer_wins`](super::ServerSideStorage::last_writer_wins)).
#[async_trait]
pub trait CompareAndSet: KeyValueBackend {
    /// What identifies a version of an entry.
    type Token: Clone + PartialEq + Send + Sync + 'static;

    /// The bytes under `key` with their token.
    async fn load_versioned(&self, key: &str) -> Result<Option<Versioned<Self::Token>>, Error>;

    /// Stores `payload` only if the entry is still `expected` (`None`: only if there is no entry),
    /// atomically, and answers the new token.
    async fn store_if(
        &self,
        key: &str,
        payload: &[u8],
        ttl: Option<Duration>,
        expected: Option<&Versioned<Self::Token>>,
    ) -> Result<CasOutcome<Self::Token>, Error>;
}
