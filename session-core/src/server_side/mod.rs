//! For backend authors: storages that keep the payload in a key-value store under
//! `<cookie_name>_<id>` and only the id in the cookie (aiohttp-session's `RedisStorage` and
//! `MemcachedStorage` layout). Redis and memcached differ only in how they move bytes
//! ([`KeyValueBackend`], [`CompareAndSet`]); the rules are here, once.
//!
//! # One load, one save
//!
//! - **Load:** one fetch under the request's deadline. No entry, `{}` (a Python peer logged it out) or
//!   an undecodable payload is a new session. An entry past a limit of the expiry policy, or of a user
//!   logged out everywhere, is deleted there and then, and the visitor starts a new session (a new id
//!   once saved).
//! - **Save:** a write that says what it expects ([`Condition`]). A new session's id is written only if
//!   free; a loaded session's entry is updated only if it still exists, so a session that a logout,
//!   `cycle_id`, `new_session`, log-out-everywhere or expiry removed meanwhile is never written back:
//!   that save writes nothing and sends no cookie ([`CookieAction::Keep`]). With
//!   [`Concurrency::Merge`], the update is a compare-and-set that re-applies this request's changes on
//!   top of a concurrent one's (`merge.rs`), and saves of one session within a process go out together
//!   (`lanes.rs`).
//! - **Deadline:** the backend's [`timeout`](KeyValueBackend::timeout) bounds everything the store
//!   does for one request, load and save together (`deadline.rs`): a store that hangs costs an
//!   [`Error::Timeout`], never a hung request.
//!
//! # Logging a user out everywhere
//!
//! [`AbstractStorage::log_out_everywhere`] ends every session the application attached to a user
//! ([`SessionState::set_user`]), in every process that shares the store. The store keeps one marker per
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
mod deadline;
mod entries;
mod ids;
mod lanes;
mod merge;
mod users;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

pub use backend::{CasOutcome, CompareAndSet, Condition, DEFAULT_TIMEOUT, KeyValueBackend, Versioned};
pub use entries::DEFAULT_ENTRY_TTL;
pub use ids::{KeyFactory, RandomHexIds};

use deadline::Deadline;
use entries::Entries;
use lanes::{Joined, Lanes};
use merge::{BatchFailure, Change, Merged, write_merged};

use crate::error::Error;
use crate::session::SessionState;
use crate::storage::{AbstractStorage, CookieAction, Loaded, Origin, StorageConfig};

/// How many fresh ids a new session tries when the ones it drew are taken (a key factory that
/// repeats itself): 128 random bits never collide, so a second miss means a broken factory.
const FRESH_ID_ATTEMPTS: usize = 3;

/// How concurrent requests on one session combine when they both save it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Concurrency {
    /// Each save applies only what its request changed on top of what is stored: writes to different
    /// keys all survive, on one key the later writer wins, a logout wins over writes. One round trip
    /// per save while there is no conflict. Needs a backend with [`CompareAndSet`]; on one without, the
    /// last writer wins.
    #[default]
    Merge,
    /// Each save overwrites the whole session (aiohttp-session's behaviour): of two concurrent requests,
    /// the one that saves last erases the other's writes. A removed session still never comes back.
    LastWriterWins,
}

/// A storage that keeps sessions in a key-value store and only their id in the cookie, with
/// aiohttp-session's layout: the entry `<cookie_name>_<id>` holds the JSON payload, the cookie holds
/// the id. See [the module docs](self) for one load and one save.
///
/// - Every entry expires: after the shortest limit of the expiry policy, or [`DEFAULT_ENTRY_TTL`].
/// - An empty session (after `invalidate`) deletes the entry and the cookie, so a replayed id finds
///   nothing; what a request writes after `invalidate` is a new session under a new id.
/// - A session replaced at login (`new_session`, `cycle_id`) has its entry deleted after the new one
///   is saved.
/// - With a [`CompareAndSet`] backend, concurrent requests on one session keep each other's writes
///   ([`Concurrency::Merge`]).
/// - [`log_out_everywhere`](AbstractStorage::log_out_everywhere) ends every session of one user.
pub struct ServerSideStorage<B: KeyValueBackend> {
    entries: Entries,
    backend: B,
    concurrency: Concurrency,
    /// Merging saves of one session within this process, batched (shared by clones).
    lanes: Arc<MergeLanes<B::Token>>,
}

/// The lanes of merging saves: changes in, what their batch did out.
type MergeLanes<T> = Lanes<Change<T>, Merged<T>>;

/// What a load remembers for the save: the version it loaded (when saves merge) and the store time
/// the request has spent.
struct Found<T> {
    version: Option<Versioned<T>>,
    spent: Duration,
}

impl<B: KeyValueBackend + Clone> Clone for ServerSideStorage<B> {
    fn clone(&self) -> Self {
        ServerSideStorage {
            entries: self.entries.clone(),
            backend: self.backend.clone(),
            concurrency: self.concurrency,
            lanes: Arc::clone(&self.lanes),
        }
    }
}

impl<B: KeyValueBackend + fmt::Debug> fmt::Debug for ServerSideStorage<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerSideStorage")
            .field("config", &self.entries.config)
            .field("backend", &self.backend)
            .field("prefix", &self.entries.prefix)
            .field("merges", &self.merges())
            .field("default_ttl", &self.entries.default_ttl)
            .finish_non_exhaustive()
    }
}

impl<B: KeyValueBackend> ServerSideStorage<B> {
    /// Sessions in `backend`, with the default configuration and [`RandomHexIds`]; concurrent saves
    /// merge if the backend can compare-and-set ([`Concurrency::Merge`]), else the last writer wins.
    pub fn new(backend: B) -> Self {
        let entries = Entries {
            config: StorageConfig::default(),
            ids: Arc::new(RandomHexIds),
            prefix: String::new(),
            default_ttl: Some(DEFAULT_ENTRY_TTL),
            store: backend.name(),
        };
        ServerSideStorage { entries, backend, concurrency: Concurrency::Merge, lanes: Arc::default() }
    }

    /// How concurrent saves of one session combine; [`Concurrency::Merge`] by default (on a backend
    /// without compare-and-set, the last writer wins either way: [`merges`](Self::merges) tells).
    pub fn with_concurrency(mut self, concurrency: Concurrency) -> Self {
        self.concurrency = concurrency;
        self
    }

    /// Replaces the configuration (cookie, expiry, codec, clock).
    pub fn with_config(mut self, config: StorageConfig) -> Self {
        self.entries.config = config;
        self
    }

    /// Replaces how ids are made and recognised (aiohttp-session's `key_factory`).
    #[doc(alias = "key_factory")]
    pub fn with_key_factory(mut self, ids: impl KeyFactory) -> Self {
        self.entries.ids = Arc::new(ids);
        self
    }

    /// Puts `prefix` before every key: `<prefix><cookie_name>_<id>`. Python peers use no prefix, so
    /// set it only when no Python service shares the store.
    pub fn with_key_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.entries.prefix = prefix.into();
        self
    }

    /// How long an entry lives when no limit of the expiry policy applies; [`DEFAULT_ENTRY_TTL`] by
    /// default. `None` asks for entries that never expire: **every visitor who writes a session then
    /// leaves an entry forever**, as in aiohttp-session without `max_age`.
    pub fn with_default_entry_ttl(mut self, ttl: Option<Duration>) -> Self {
        self.entries.default_ttl = ttl;
        self
    }

    /// Whether saves merge (the backend can compare-and-set and the policy asks for it).
    pub fn merges(&self) -> bool {
        self.merging().is_some()
    }

    /// The backend.
    pub fn backend(&self) -> &B {
        &self.backend
    }

    /// The store key of the session `id`: `<prefix><cookie_name>_<id>`.
    pub fn key(&self, id: &str) -> String {
        self.entries.key(id)
    }

    /// The key of a cookie value, if it can be one.
    fn key_of_cookie(&self, id: &str) -> Option<String> {
        if !self.entries.ids.accepts(id) {
            return None;
        }
        let key = self.entries.key(id);
        self.backend.accepts_key(&key).then_some(key)
    }

    /// The backend's compare-and-set, when saves merge.
    fn merging(&self) -> Option<&dyn CompareAndSet<Token = B::Token>> {
        self.backend.compare_and_set().filter(|_| self.concurrency == Concurrency::Merge)
    }

    /// The deadline of a request that has spent `spent` in the store already.
    fn deadline(&self, spent: Duration) -> Deadline {
        Deadline::after(self.backend.timeout(), spent)
    }

    /// Stores `session`: deleted when nothing is left of it, created under a free id when new, updated
    /// when loaded (and still there).
    async fn store(
        &self,
        session: &mut SessionState,
        version: Option<Versioned<B::Token>>,
        deadline: &Deadline,
    ) -> Result<CookieAction, Error> {
        if session.is_empty() || session.max_age_seconds() == Some(0) {
            if let Some(key) = session.identity().and_then(|id| self.key_of_cookie(id)) {
                deadline.run(self.backend.delete(&key)).await?;
            }
            return Ok(CookieAction::Remove);
        }
        if session.is_invalidated() && !session.is_new() {
            // Written to after a logout: a new session, under a new id; the logged-out entry goes.
            session.rotate();
        }
        match session.identity() {
            Some(id) if !session.is_new() => {
                let (id, key) = (id.to_owned(), self.entries.key(id));
                match (self.merging(), version) {
                    (Some(cas), Some(version)) => self.merge(cas, session, version, id, key, deadline).await,
                    _ => self.update(session, id, key, deadline).await,
                }
            }
            _ => self.create(session, deadline).await,
        }
    }

    /// Writes a new session under its id, only if the id is free: the id given with
    /// `set_new_identity`, else a fresh one (another, should it be taken).
    async fn create(&self, session: &mut SessionState, deadline: &Deadline) -> Result<CookieAction, Error> {
        let chosen = session.identity().is_some();
        for _ in 0..FRESH_ID_ATTEMPTS {
            if !chosen {
                session.set_new_identity(self.entries.new_id()?)?;
            }
            let id = session.identity().unwrap_or_default();
            let key = self.entries.key(id);
            let (payload, ttl) = self.entries.payload(session)?;
            if deadline.run(self.backend.store(&key, payload.as_bytes(), ttl, Condition::IfAbsent)).await? {
                return Ok(CookieAction::Set(id.to_owned()));
            }
            if chosen {
                break;
            }
        }
        Err(Error::IdentityTaken)
    }

    /// Overwrites a loaded session's entry, only if it still exists (the last writer wins).
    async fn update(
        &self,
        session: &SessionState,
        id: String,
        key: String,
        deadline: &Deadline,
    ) -> Result<CookieAction, Error> {
        let (payload, ttl) = self.entries.payload(session)?;
        let stored = deadline.run(self.backend.store(&key, payload.as_bytes(), ttl, Condition::IfPresent)).await?;
        Ok(if stored { CookieAction::Set(id) } else { CookieAction::Keep })
    }

    /// Merges a loaded session's changes into its entry, in a batch with the other saves of the session
    /// in this process: led by this save, or carried by another's.
    async fn merge(
        &self,
        cas: &dyn CompareAndSet<Token = B::Token>,
        session: &mut SessionState,
        origin: Versioned<B::Token>,
        id: String,
        key: String,
        deadline: &Deadline,
    ) -> Result<CookieAction, Error> {
        // The change moves into the lane; what is left of the session keeps its cookie settings.
        let change = Change { session: session.take(), origin };
        let merged = match self.lanes.join(&key, change, deadline).await? {
            Joined::Done(merged) => merged,
            Joined::Lead(lead) => {
                let changes = lead.changes();
                let written = match lead.previous() {
                    // The batch before found it gone: so would this one.
                    Some(Merged::Gone) => Ok(None),
                    // Start from what the batch before stored, with no reload.
                    Some(Merged::Stored(latest)) => {
                        let latest = Versioned::clone(latest);
                        write_merged(cas, &self.entries, &key, &id, &changes, latest, deadline).await
                    }
                    _ => {
                        let start = changes[0].origin.clone();
                        write_merged(cas, &self.entries, &key, &id, &changes, start, deadline).await
                    }
                };
                drop(changes);
                let (merged, own) = match written {
                    Ok(Some(version)) => (Merged::Stored(Arc::new(version)), Ok(())),
                    Ok(None) => (Merged::Gone, Ok(())),
                    Err(error) => (Merged::Failed(BatchFailure::of(&error)), Err(error)),
                };
                lead.finish(merged.clone());
                own?;
                merged
            }
        };
        match merged {
            Merged::Stored(_) => Ok(CookieAction::Set(id)),
            Merged::Gone => Ok(CookieAction::Keep),
            Merged::Failed(failure) => Err(failure.error()),
        }
    }
}

#[async_trait]
impl<B: KeyValueBackend> AbstractStorage for ServerSideStorage<B> {
    fn config(&self) -> &StorageConfig {
        &self.entries.config
    }

    async fn load_session(&self, cookie: Option<&str>) -> Result<Loaded, Error> {
        let Some(id) = cookie else {
            return Ok(self.new_state().into());
        };
        let Some(key) = self.key_of_cookie(id) else {
            return Ok(self.entries.config.reject(self.backend.name(), &"cookie is not a session id").into());
        };
        let deadline = self.deadline(Duration::ZERO);
        let (session, version) = match self.merging() {
            Some(cas) => {
                let version = deadline.run(cas.load_versioned(&key)).await?;
                (version.as_ref().map(|version| self.entries.open(id, &version.bytes)), version)
            }
            None => (deadline.run(self.backend.load(&key)).await?.map(|bytes| self.entries.open(id, &bytes)), None),
        };
        // Never written, expired or deleted, `{}` (logged out by a Python peer), or undecodable: a new
        // session, as aiohttp-session starts one.
        let Some(session) = session.filter(|session| !session.is_new()) else {
            return Ok(self.new_state().into());
        };
        if session.has_ended() || users::is_revoked(&self.backend, &self.entries, &session, &deadline).await? {
            // Over: the entry goes now, and the visitor gets a new id.
            deadline.run(self.backend.delete(&key)).await?;
            return Ok(self.new_state().into());
        }
        Ok(Loaded { session, origin: Origin::new(Found { version, spent: deadline.spent() }) })
    }

    async fn save_session(&self, session: &mut SessionState, origin: Origin) -> Result<CookieAction, Error> {
        let found = origin.take::<Found<B::Token>>();
        let deadline = self.deadline(found.as_ref().map_or(Duration::ZERO, |found| found.spent));
        let action = self.store(session, found.and_then(|found| found.version), &deadline).await?;
        // The entry this session replaced (`new_session`, `cycle_id`) goes once this one is stored. A
        // failure is logged, not returned: the new session is stored and its cookie must go out.
        let replaced = session.replaced().filter(|old| session.identity() != Some(*old));
        if let Some(old) = replaced.and_then(|old| self.key_of_cookie(old))
            && let Err(error) = deadline.run(self.backend.delete(&old)).await
        {
            let cookie = self.entries.config.cookie().name();
            tracing::warn!(cookie, error = %error, "could not remove the session this request replaced");
        }
        Ok(action)
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
        users::mark_logged_out(&self.backend, &self.entries, user, &self.deadline(Duration::ZERO)).await
    }
}
