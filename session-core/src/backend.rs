//! What a key-value store must do for [`ServerSideStorage`](crate::server_side::ServerSideStorage) and
//! for the accounts that live beside its sessions: move bytes with writes that say what they expect
//! ([`KeyValueBackend`]) and, optionally, store only if nobody wrote meanwhile ([`CompareAndSet`]) and
//! index each user's sessions ([`UserIndex`]). The bottom layer of both: it knows neither.

use std::time::Duration;

use async_trait::async_trait;

use crate::error::Error;

/// The default bound on everything the store does for one request, when a backend does not say
/// otherwise ([`KeyValueBackend::timeout`]).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(2);

/// What a [`KeyValueBackend::store`] expects to find under its key. Each maps onto one native
/// command of the common stores, so the check and the write are one atomic step.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Condition {
    /// Only if there is no live entry (Redis `SET … NX`, memcached `add`, SQL `INSERT`): the first save
    /// of a new id, so that an id another session holds is never written over.
    IfAbsent,
    /// Only if there is a live entry (Redis `SET … XX`, memcached `replace`, SQL `UPDATE`): the save of
    /// a session that was loaded, so that an entry a logout, `cycle_id`, `new_session` or expiry
    /// removed meanwhile is never written back.
    IfPresent,
    /// Whatever the store holds (Redis `SET`, memcached `set`): the per-user markers of
    /// log-out-everywhere, which belong to no session.
    Always,
}

/// The byte-moving half of a server-side storage: fetch, store and delete one entry. Implement it to
/// keep sessions in another store; [`ServerSideStorage`](crate::server_side::ServerSideStorage) adds every session
/// rule, and bounds every call with the request's deadline ([`timeout`](Self::timeout)), so a call
/// that hangs costs a request an error, never a hang. Implement [`CompareAndSet`] too (and say so in
/// [`compare_and_set`](Self::compare_and_set)) and concurrent requests on one session keep each
/// other's writes.
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
/// use session_core::server_side::{CasOutcome, CompareAndSet, Condition, KeyValueBackend, ServerSideStorage, Versioned};
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
/// impl Entry {
///     fn live(&self) -> bool {
///         self.expires.is_none_or(|at| at > Instant::now())
///     }
/// }
///
/// impl MemoryStore {
///     /// One lock around the check and the write: that is what makes each write atomic.
///     fn write(&self, key: &str, payload: &[u8], ttl: Option<Duration>, may: impl FnOnce(Option<u64>) -> bool) -> Option<u64> {
///         let mut entries = self.0.lock().unwrap();
///         let current = entries.get(key).filter(|entry| entry.live()).map(|entry| entry.version);
///         if !may(current) {
///             return None;
///         }
///         let version = current.map_or(0, |version| version + 1);
///         let entry = Entry { bytes: payload.to_vec(), version, expires: ttl.map(|ttl| Instant::now() + ttl) };
///         entries.insert(key.to_owned(), entry);
///         Some(version)
///     }
/// }
///
/// #[async_trait]
/// impl KeyValueBackend for MemoryStore {
///     type Token = u64;
///
///     fn name(&self) -> &'static str {
///         "memory"
///     }
///     fn compare_and_set(&self) -> Option<&dyn CompareAndSet<Token = u64>> {
///         Some(self)
///     }
///     async fn load(&self, key: &str) -> Result<Option<Vec<u8>>, Error> {
///         Ok(self.load_versioned(key).await?.map(|stored| stored.bytes))
///     }
///     async fn store(&self, key: &str, payload: &[u8], ttl: Option<Duration>, condition: Condition) -> Result<bool, Error> {
///         let stored = self.write(key, payload, ttl, |current| match condition {
///             Condition::IfAbsent => current.is_none(),
///             Condition::IfPresent => current.is_some(),
///             Condition::Always => true,
///         });
///         Ok(stored.is_some())
///     }
///     async fn delete(&self, key: &str) -> Result<(), Error> {
///         self.0.lock().unwrap().remove(key);
///         Ok(())
///     }
/// }
///
/// #[async_trait]
/// impl CompareAndSet for MemoryStore {
///     async fn load_versioned(&self, key: &str) -> Result<Option<Versioned<u64>>, Error> {
///         let entries = self.0.lock().unwrap();
///         let entry = entries.get(key).filter(|entry| entry.live());
///         Ok(entry.map(|entry| Versioned { bytes: entry.bytes.clone(), token: entry.version }))
///     }
///     async fn store_if(
///         &self,
///         key: &str,
///         payload: &[u8],
///         ttl: Option<Duration>,
///         expected: &Versioned<u64>,
///     ) -> Result<CasOutcome<u64>, Error> {
///         let stored = self.write(key, payload, ttl, |current| current == Some(expected.token));
///         Ok(stored.map_or(CasOutcome::Conflict, CasOutcome::Stored))
///     }
/// }
///
/// let storage = ServerSideStorage::new(MemoryStore::default());
/// assert!(storage.merges());
/// ```
#[async_trait]
pub trait KeyValueBackend: Send + Sync + 'static {
    /// What identifies one version of an entry for [`CompareAndSet`] (memcached's CAS value, a row's
    /// version column); `()` for a store that compares the bytes themselves, or that cannot compare.
    type Token: Clone + PartialEq + Send + Sync + 'static;

    /// A short name for logs (`"redis"`, `"memcached"`).
    fn name(&self) -> &'static str;

    /// Whether `key` can be stored at all (memcached's key rules). A cookie that cannot form a valid
    /// key is a fresh session, and the store is not asked.
    fn accepts_key(&self, key: &str) -> bool {
        let _ = key;
        true
    }

    /// How long the store may take for one request, everything included: the load, waiting for the
    /// batch that carries the save, the write and its retries. A call still running then is dropped
    /// and the request answers [`Error::Timeout`].
    fn timeout(&self) -> Duration {
        DEFAULT_TIMEOUT
    }

    /// This store's compare-and-set, if it has one (`Some(self)` in a backend that implements
    /// [`CompareAndSet`]): then concurrent saves of one session merge
    /// ([`Concurrency::Merge`](crate::Concurrency::Merge)).
    fn compare_and_set(&self) -> Option<&dyn CompareAndSet<Token = Self::Token>> {
        None
    }

    /// This store's index of each user's sessions, if it keeps one (`Some(self)` in a backend that
    /// implements [`UserIndex`]): then its storage lists a user's devices and ends them one by one.
    fn user_index(&self) -> Option<&dyn UserIndex> {
        None
    }

    /// The bytes under `key`, or `None` when there is no entry (never written, expired, deleted).
    async fn load(&self, key: &str) -> Result<Option<Vec<u8>>, Error>;

    /// Stores `payload` under `key`, to expire `ttl` from now (never when `None`), if the entry is as
    /// `condition` expects, in one atomic step. `Ok(false)`: it was not, and nothing was written.
    async fn store(
        &self,
        key: &str,
        payload: &[u8],
        ttl: Option<Duration>,
        condition: Condition,
    ) -> Result<bool, Error>;

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
    /// Another writer changed or deleted the entry since it was loaded; nothing was written.
    Conflict,
}

/// A store that can write an entry only if it is still what a request loaded: the base of
/// [`Concurrency::Merge`](crate::Concurrency::Merge), where concurrent requests on one session keep
/// each other's writes. A backend that implements it answers `Some(self)` from
/// [`KeyValueBackend::compare_and_set`].
#[async_trait]
pub trait CompareAndSet: KeyValueBackend {
    /// The bytes under `key` with their token.
    async fn load_versioned(&self, key: &str) -> Result<Option<Versioned<Self::Token>>, Error>;

    /// Stores `payload` only if the entry is still `expected`, atomically, and answers the new token.
    /// An entry deleted or expired since is a [`CasOutcome::Conflict`] too: nothing is created.
    async fn store_if(
        &self,
        key: &str,
        payload: &[u8],
        ttl: Option<Duration>,
        expected: &Versioned<Self::Token>,
    ) -> Result<CasOutcome<Self::Token>, Error>;
}

/// A store that keeps, per user, the ids of the sessions they logged in to: what lists a user's
/// devices. A [`KeyValueBackend`] that implements it answers `Some(self)` from
/// [`user_index`](KeyValueBackend::user_index), and its storage
/// gains [`devices`](crate::server_side::ServerSideStorage::devices) and
/// [`end_device`](crate::server_side::ServerSideStorage::end_device); a store without it has neither,
/// and the compiler says so.
#[async_trait]
pub trait UserIndex: Send + Sync {
    /// Adds `id` to the index under `key`, which then lives `ttl` from now (`None`: forever).
    async fn index_add(&self, key: &str, id: &str, ttl: Option<Duration>) -> Result<(), Error>;

    /// The ids in the index under `key`; some may belong to sessions that have ended since (the
    /// storage prunes them as it finds them).
    async fn index_members(&self, key: &str) -> Result<Vec<String>, Error>;

    /// Removes `id` from the index under `key`; a missing one is not an error.
    async fn index_remove(&self, key: &str, id: &str) -> Result<(), Error>;
}
