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
//! # Accounts
//!
//! [`AbstractStorage::log_out_everywhere`] ends every session a user logged in to (a handle's
//! `login`), in every process that shares the store, with the user's epoch (see
//! [`accounts`]): a session attached to the user costs one more fetch on load. A
//! backend that keeps an index of each user's sessions ([`UserIndex`])
//! also lists them ([`devices`](ServerSideStorage::devices)) and ends them one by one
//! ([`end_device`](ServerSideStorage::end_device)).

mod entries;
mod ids;
mod lanes;
mod merge;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

pub use crate::backend::{CasOutcome, CompareAndSet, Condition, DEFAULT_TIMEOUT, KeyValueBackend, Versioned};
pub use ids::{KeyFactory, RandomHexIds};

use crate::accounts::{self, Device, DeviceId, Devices, Epochs};
use crate::backend::UserIndex;
use crate::deadline::Deadline;
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
/// - Every entry expires: after the session's idle limit (its remembered lifetime, the shortest limit
///   of the expiry policy, or the default lifetime of two weeks), or at the absolute timeout.
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
        config.warn_if_unbounded(self.backend.name());
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
        if session.holds_nothing() || session.max_age_seconds() == Some(0) {
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

impl<B: KeyValueBackend> ServerSideStorage<B> {
    /// The epochs of this storage's users, in its own store.
    fn epochs(&self) -> Epochs<'_, B> {
        self.entries.epochs(&self.backend)
    }

    /// The live sessions among `user`'s indexed ids, each with its id; the index loses the others.
    async fn indexed(
        &self,
        index: &dyn UserIndex,
        user: &str,
        deadline: &Deadline,
    ) -> Result<Vec<(String, SessionState)>, Error> {
        let key = accounts::user_index_key(&self.epochs().user_key(user));
        let mut live = Vec::new();
        for id in deadline.run(index.index_members(&key)).await? {
            let bytes = match self.key_of_cookie(&id) {
                Some(entry) => deadline.run(self.backend.load(&entry)).await?,
                None => None,
            };
            let session = bytes.map(|bytes| self.entries.open(&id, &bytes));
            let alive = match &session {
                Some(session) if !session.is_new() && !session.has_ended() && session.user() == Some(user) => {
                    !self.epochs().ended(session, deadline).await?
                }
                _ => false,
            };
            match session {
                Some(session) if alive => live.push((id, session)),
                _ => deadline.run(index.index_remove(&key, &id)).await?,
            }
        }
        Ok(live)
    }
}

/// A user's devices, on a backend that indexes each user's sessions.
impl<B: KeyValueBackend + UserIndex> ServerSideStorage<B> {
    /// The sessions `user` is logged in to, one per device: when each logged in, when it was last
    /// seen, the label the app gave it. Sessions that ended are left out (and out of the index).
    ///
    /// ```
    /// use session_core::accounts::{DeviceId, UserIndex};
    /// use session_core::server_side::{KeyValueBackend, ServerSideStorage};
    ///
    /// /// A "your devices" page: one line per device, the one asking marked.
    /// async fn devices_page<B: KeyValueBackend + UserIndex>(
    ///     storage: &ServerSideStorage<B>,
    ///     user: &str,
    ///     current: &DeviceId,
    /// ) -> Result<String, session_core::Error> {
    ///     let mut page = String::new();
    ///     for device in storage.devices(user).await? {
    ///         let here = if device.id == *current { " (this device)" } else { "" };
    ///         let label = device.label.as_deref().unwrap_or("unknown");
    ///         page.push_str(&format!("{} {label}, last seen {}{here}\n", device.id, device.last_seen));
    ///     }
    ///     Ok(page)
    /// }
    /// ```
    pub async fn devices(&self, user: &str) -> Result<Vec<Device>, Error> {
        let deadline = self.deadline(Duration::ZERO);
        let live = self.indexed(&self.backend, user, &deadline).await?;
        Ok(live.iter().map(|(id, session)| accounts::device_of(id, session)).collect())
    }

    /// Ends the session of `user` that `device` names (from [`devices`](Self::devices)): its entry
    /// goes, its cookie finds nothing. `false` when `user` has no such session.
    pub async fn end_device(&self, user: &str, device: &DeviceId) -> Result<bool, Error> {
        let deadline = self.deadline(Duration::ZERO);
        let live = self.indexed(&self.backend, user, &deadline).await?;
        let Some((id, _)) = live.into_iter().find(|(id, _)| DeviceId::of(id) == *device) else {
            return Ok(false);
        };
        let key = accounts::user_index_key(&self.epochs().user_key(user));
        deadline.run(self.backend.delete(&self.entries.key(&id))).await?;
        deadline.run(UserIndex::index_remove(&self.backend, &key, &id)).await?;
        Ok(true)
    }
}

#[async_trait]
impl<B: KeyValueBackend + UserIndex> Devices for ServerSideStorage<B> {
    async fn devices(&self, user: &str) -> Result<Vec<Device>, Error> {
        ServerSideStorage::devices(self, user).await
    }

    async fn end_device(&self, user: &str, device: &DeviceId) -> Result<bool, Error> {
        ServerSideStorage::end_device(self, user, device).await
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
        if session.has_ended() || self.epochs().ended(&session, &deadline).await? {
            // Over: the entry goes now, and the visitor gets a new id.
            deadline.run(self.backend.delete(&key)).await?;
            return Ok(self.new_state().into());
        }
        Ok(Loaded { session, origin: Origin::new(Found { version, spent: deadline.spent() }) })
    }

    async fn save_session(&self, session: &mut SessionState, origin: Origin) -> Result<CookieAction, Error> {
        let found = origin.take::<Found<B::Token>>();
        let deadline = self.deadline(found.as_ref().map_or(Duration::ZERO, |found| found.spent));
        let epochs = self.epochs();
        epochs.record_login(session, &deadline).await?;
        let action = self.store(session, found.and_then(|found| found.version), &deadline).await?;
        // A login is a device of its user, on a store that lists them.
        if let (true, Some(user), Some(index), CookieAction::Set(id)) =
            (session.logged_in(), session.user(), self.backend.user_index(), &action)
        {
            let key = accounts::user_index_key(&epochs.user_key(user));
            deadline.run(index.index_add(&key, id, epochs.ttl())).await?;
        }
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
        let deadline = self.deadline(Duration::ZERO);
        self.epochs().renew(user, &deadline).await
    }
}
