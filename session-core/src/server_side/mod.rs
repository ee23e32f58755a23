//! For backend authors: storages that keep the payload in a key-value store under
//! `<cookie_name>_<id>` and only the id in the cookie (aiohttp-session's `RedisStorage` and
//! `MemcachedStorage` layout). Redis and memcached differ only in how they move bytes
//! ([`KeyValueBackend`], [`CompareAndSet`]); the rules are here, once.
//!
//! # Logging a user out everywhere
//!
//! [`AbstractStorage::log_out_everywhere`] ends every session the application attached to a user
//! ([`Session::set_user`]), in every process that shares the store. The store keeps one marker per
//! user who was logged out everywhere: the time it happened, in milliseconds, under
//! `<cookie_name>_user_<hex of the user>`. A session attached to the user before that time is over:
//! its load finds the marker, deletes the entry and starts a fresh session. Only sessions with a user
//! pay for the check (one more fetch on load); sessions attached after the marker (a new login) live
//! on. Nothing needs to list a user's sessions, so it works the same on Redis, a Redis Cluster (one key
//! per command) and memcached. The marker lives as long as the longest limit the storage writes
//! entries with (forever if entries have none): a session not loaded within that time has expired by
//! then, so it cannot outlive the marker. A session given its own `set_max_age` beyond every limit of
//! the storage can; keep such lifetimes within the storage's limits.

mod backend;
mod coalesce;
mod ids;
mod merge;
mod users;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

pub use backend::{CasOutcome, CompareAndSet, DEFAULT_TIMEOUT, KeyValueBackend, Versioned};
pub use ids::{KeyFactory, RandomHexIds};

use coalesce::Lanes;
use merge::Merging;

use crate::error::Error;
use crate::session::Session;
use crate::storage::{AbstractStorage, CookieAction, Loaded, Origin, StorageConfig};

/// How long an entry lives when no limit of the expiry policy applies (no `max_age`, idle or
/// absolute timeout): two weeks, so that a visitor who never comes back does not leave an entry
/// forever. Change it with [`ServerSideStorage::with_default_entry_ttl`].
pub const DEFAULT_ENTRY_TTL: Duration = Duration::from_secs(14 * 24 * 3600);

/// How concurrent requests on one session combine when they both save it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Concurrency {
    /// Each save applies only what its request changed on top of what is stored: writes to different
    /// keys all survive, on one key the later writer wins, an invalidation wins over writes. One round
    /// trip per save while there is no conflict.
    #[default]
    Merge,
    /// Each save overwrites the whole session (aiohttp-session's behaviour): of two concurrent requests,
    /// the one that saves last erases the other's writes.
    LastWriterWins,
}

/// A storage that keeps sessions in a key-value store and only their id in the cookie, with
/// aiohttp-session's layout: the entry `<cookie_name>_<id>` holds the JSON payload, the cookie holds
/// the id.
///
/// - Load: one fetch (two for a session attached to a user: its marker). No cookie, a missing entry or `{}` is a new session; a cookie that is not an
///   id is a fresh session without asking the store; a stored value that does not decode is a fresh
///   session (with a new id once saved).
/// - Save: one store, with an expiry: the shortest limit of the expiry policy, or
///   [`DEFAULT_ENTRY_TTL`]. An empty session (after `invalidate`) deletes the entry and the cookie, so
///   a replayed id finds nothing.
/// - A session replaced at login (`new_session`, `cycle_id`) has its entry deleted after the new one
///   is saved.
/// - With a [`CompareAndSet`] backend, concurrent requests on one session keep each other's writes
///   ([`Concurrency::Merge`]).
/// - [`log_out_everywhere`](AbstractStorage::log_out_everywhere) ends every session of one user.
pub struct ServerSideStorage<B> {
    config: StorageConfig,
    backend: B,
    ids: Arc<dyn KeyFactory>,
    prefix: String,
    concurrency: Concurrency,
    default_ttl: Option<Duration>,
    /// The compare-and-set saves, when the backend has them (shared by clones, as their lanes are).
    merging: Option<Arc<dyn Merging<B>>>,
}

impl<B: Clone> Clone for ServerSideStorage<B> {
    fn clone(&self) -> Self {
        ServerSideStorage {
            config: self.config.clone(),
            backend: self.backend.clone(),
            ids: Arc::clone(&self.ids),
            prefix: self.prefix.clone(),
            concurrency: self.concurrency,
            default_ttl: self.default_ttl,
            merging: self.merging.clone(),
        }
    }
}

impl<B: KeyValueBackend + fmt::Debug> fmt::Debug for ServerSideStorage<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerSideStorage")
            .field("config", &self.config)
            .field("backend", &self.backend)
            .field("prefix", &self.prefix)
            .field("merges", &self.merges())
            .field("default_ttl", &self.default_ttl)
            .finish_non_exhaustive()
    }
}

impl<B: CompareAndSet> ServerSideStorage<B> {
    /// Sessions in `backend`, with the default configuration, [`RandomHexIds`] and
    /// [`Concurrency::Merge`].
    pub fn new(backend: B) -> Self {
        ServerSideStorage {
            merging: Some(Arc::new(Lanes::<B::Token>::default())),
            concurrency: Concurrency::Merge,
            ..ServerSideStorage::last_writer_wins(backend)
        }
    }

    /// How concurrent saves of one session combine; [`Concurrency::Merge`] by default.
    pub fn with_concurrency(mut self, concurrency: Concurrency) -> Self {
        self.concurrency = concurrency;
        self
    }
}

impl<B: KeyValueBackend> ServerSideStorage<B> {
    /// Sessions in a backend without compare-and-set: each save overwrites the whole session
    /// ([`Concurrency::LastWriterWins`]).
    pub fn last_writer_wins(backend: B) -> Self {
        ServerSideStorage {
            config: StorageConfig::default(),
            backend,
            ids: Arc::new(RandomHexIds),
            prefix: String::new(),
            concurrency: Concurrency::LastWriterWins,
            default_ttl: Some(DEFAULT_ENTRY_TTL),
            merging: None,
        }
    }

    /// Replaces the configuration (cookie, expiry, codec, clock).
    pub fn with_config(mut self, config: StorageConfig) -> Self {
        self.config = config;
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

    /// How long an entry lives when no limit of the expiry policy applies; [`DEFAULT_ENTRY_TTL`] by
    /// default. `None` asks for entries that never expire: **every visitor who writes a session then
    /// leaves an entry forever**, as in aiohttp-session without `max_age`.
    pub fn with_default_entry_ttl(mut self, ttl: Option<Duration>) -> Self {
        self.default_ttl = ttl;
        self
    }

    /// Whether saves merge (the backend can compare-and-set and the policy asks for it).
    pub fn merges(&self) -> bool {
        self.merging.is_some() && self.concurrency == Concurrency::Merge
    }

    /// The backend.
    pub fn backend(&self) -> &B {
        &self.backend
    }

    /// The store key of the session `id`: `<prefix><cookie_name>_<id>`.
    pub fn key(&self, id: &str) -> String {
        self.key_with(id, "")
    }

    fn key_with(&self, id: &str, infix: &str) -> String {
        let name = self.config.cookie().name();
        let mut key = String::with_capacity(self.prefix.len() + name.len() + 1 + infix.len() + id.len());
        key.push_str(&self.prefix);
        key.push_str(name);
        key.push('_');
        key.push_str(infix);
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

    /// The session stored under `id` as `bytes`.
    fn open(&self, id: &str, bytes: &[u8]) -> Session {
        let name = self.backend.name();
        match std::str::from_utf8(bytes) {
            Ok(payload) => self.config.open(name, Some(id.to_owned()), payload),
            Err(_) => self.config.reject(name, &"stored payload is not UTF-8"),
        }
    }

    /// How long the entry of `session` lives: the shortest limit of the expiry policy, else the
    /// default.
    fn entry_ttl(&self, session: &Session) -> Option<Duration> {
        let expiry = self.config.expiry();
        let seconds = expiry.entry_seconds(self.config.now(), session.max_age_seconds(), session.started());
        // A lifetime under a second would be no expiry at all for Redis (`EX 0` is refused).
        seconds.map(|seconds| Duration::from_secs(seconds.max(1))).or(self.default_ttl)
    }

    async fn save_last_writer_wins(
        &self,
        session: &mut Session,
        id: String,
        key: String,
    ) -> Result<CookieAction, Error> {
        let payload = self.config.encode(session)?;
        self.backend.store(&key, payload.as_bytes(), self.entry_ttl(session)).await?;
        Ok(CookieAction::Set(id))
    }
}

#[async_trait]
impl<B: KeyValueBackend> AbstractStorage for ServerSideStorage<B> {
    fn config(&self) -> &StorageConfig {
        &self.config
    }

    async fn load_session(&self, cookie: Option<&str>) -> Result<Loaded, Error> {
        let Some(id) = cookie else {
            return Ok(self.new_session().into());
        };
        let Some(key) = self.key_of_cookie(id) else {
            return Ok(self.config.reject(self.backend.name(), &"cookie is not a session id").into());
        };
        let loaded = match self.merging.as_ref().filter(|_| self.merges()) {
            Some(merging) => merging.load(self, id, key).await?,
            None => self.backend.load(&key).await?.map(|bytes| Loaded::from(self.open(id, &bytes))),
        };
        // Expired or deleted: aiohttp-session starts a new session, silently.
        let Some(loaded) = loaded else {
            return Ok(self.new_session().into());
        };
        if self.is_revoked(&loaded.session).await? {
            self.backend.delete(&self.key(id)).await?;
            return Ok(self.new_session().into());
        }
        Ok(loaded)
    }

    async fn save_session(&self, session: &mut Session, origin: Origin) -> Result<CookieAction, Error> {
        // An empty session, or one whose lifetime is over, has nothing left to keep.
        if session.is_empty() || session.max_age_seconds() == Some(0) {
            if let Some(key) = session.identity().and_then(|id| self.key_of_cookie(id)) {
                self.backend.delete(&key).await?;
            }
            return Ok(CookieAction::Remove);
        }
        let mut origin = origin;
        if session.identity().is_none() {
            session.set_new_identity(self.ids.new_id().map_err(Error::Backend)?)?;
            // A new id has no entry yet, whatever this session was loaded from.
            origin = Origin::none();
        }
        let id = session.identity().unwrap_or_default().to_owned();
        let key = self.key(&id);
        match self.merging.as_ref().filter(|_| self.merges()) {
            Some(merging) => merging.save(self, session, origin, id, key).await,
            None => self.save_last_writer_wins(session, id, key).await,
        }
    }

    async fn remove_session(&self, identity: &str) -> Result<(), Error> {
        match self.key_of_cookie(identity) {
            Some(key) => self.backend.delete(&key).await,
            None => Ok(()),
        }
    }

    /// A marker per user in the store, checked when a session attached to that user loads (see
    /// [the module docs](self#logging-a-user-out-everywhere)).
    ///
    /// ```no_run
    /// # async fn run(storage: &dyn session_core::AbstractStorage) -> Result<(), session_core::Error> {
    /// // After a password change, or from an admin page:
    /// storage.log_out_everywhere("alice@example.com").await?;
    /// # Ok(()) }
    /// ```
    async fn log_out_everywhere(&self, user: &str) -> Result<(), Error> {
        self.mark_logged_out(user).await
    }
}
