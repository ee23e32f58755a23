//! An in-memory store, correct ([`MemoryStore`]) and deliberately broken ([`Broken`]): the suite proves
//! itself by failing every broken one (`tests/zoo.rs` of this crate), and adapters run the HTTP suite
//! on the correct one.

use std::collections::HashMap;
use std::io;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use session_core::Error;
use session_core::accounts::UserIndex;
use session_core::server_side::{CasOutcome, CompareAndSet, Condition, DEFAULT_TIMEOUT, KeyValueBackend, Versioned};

use crate::suite::Entry;

/// A key-value store in memory with expiry and compare-and-set, shared by its clones (two storages on
/// one `MemoryStore` are two processes on one server). [`set_down`](Self::set_down) simulates an
/// outage, [`set_hung`](Self::set_hung) a store that stops answering.
#[derive(Clone, Debug)]
pub struct MemoryStore {
    state: Arc<Mutex<State>>,
    timeout: Duration,
}

impl Default for MemoryStore {
    fn default() -> Self {
        MemoryStore { state: Arc::default(), timeout: DEFAULT_TIMEOUT }
    }
}

#[derive(Debug, Default)]
struct State {
    entries: HashMap<String, Stored>,
    /// Users' session indexes: ids by key, with when each index expires.
    indexes: HashMap<String, (Vec<String>, Option<Instant>)>,
    versions: u64,
    down: bool,
    hung: bool,
}

#[derive(Debug)]
struct Stored {
    bytes: Vec<u8>,
    version: u64,
    expires: Option<Instant>,
}

impl Stored {
    fn live(&self) -> bool {
        self.expires.is_none_or(|at| at > Instant::now())
    }
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// The same store, with `timeout` as the bound of each request's store work.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// While `down`, every operation fails as a store that cannot be reached would.
    pub fn set_down(&self, down: bool) {
        self.lock().down = down;
    }

    /// While `hung`, every operation that starts never answers (a frozen server, a dead connection).
    pub fn set_hung(&self, hung: bool) {
        self.lock().hung = hung;
    }

    /// What the store holds under `key` (the suite's probe).
    pub fn entry(&self, key: &str) -> Option<Entry> {
        let state = self.lock();
        let stored = state.entries.get(key).filter(|stored| stored.live())?;
        Some(Entry { ttl: stored.expires.map(|at| at.saturating_duration_since(Instant::now())) })
    }

    /// The bytes the store holds under `key`, read without the code under test.
    pub fn bytes(&self, key: &str) -> Option<Vec<u8>> {
        self.lock().get(key).map(|stored| stored.bytes.clone())
    }

    /// The keys of its live entries, sorted.
    pub fn keys(&self) -> Vec<String> {
        let state = self.lock();
        let mut keys: Vec<String> =
            state.entries.iter().filter(|(_, stored)| stored.live()).map(|(key, _)| key.clone()).collect();
        keys.sort();
        keys
    }

    /// How many live entries it holds.
    pub fn len(&self) -> usize {
        self.lock().entries.values().filter(|stored| stored.live()).count()
    }

    /// Whether it holds no live entry.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The state, once the store answers at all.
    async fn open(&self) -> Result<MutexGuard<'_, State>, Error> {
        // A real store is a round trip away: other tasks run meanwhile. Without this, the requests of
        // a single-threaded server (actix-web's worker) would each run start to end, never overlapping.
        tokio::task::yield_now().await;
        if self.lock().hung {
            std::future::pending::<()>().await;
        }
        let state = self.lock();
        if state.down {
            return Err(Error::backend(io::Error::new(io::ErrorKind::ConnectionRefused, "the memory store is down")));
        }
        Ok(state)
    }
}

impl State {
    fn get(&self, key: &str) -> Option<&Stored> {
        self.entries.get(key).filter(|stored| stored.live())
    }

    fn put(&mut self, key: &str, bytes: Vec<u8>, ttl: Option<Duration>) -> u64 {
        self.versions += 1;
        let stored = Stored { bytes, version: self.versions, expires: ttl.map(|ttl| Instant::now() + ttl) };
        self.entries.insert(key.to_owned(), stored);
        self.versions
    }
}

#[async_trait]
impl KeyValueBackend for MemoryStore {
    type Token = u64;

    fn name(&self) -> &'static str {
        "memory"
    }

    fn timeout(&self) -> Duration {
        self.timeout
    }

    fn compare_and_set(&self) -> Option<&dyn CompareAndSet<Token = u64>> {
        Some(self)
    }

    fn user_index(&self) -> Option<&dyn UserIndex> {
        Some(self)
    }

    async fn load(&self, key: &str) -> Result<Option<Vec<u8>>, Error> {
        Ok(self.open().await?.get(key).map(|stored| stored.bytes.clone()))
    }

    async fn store(
        &self,
        key: &str,
        payload: &[u8],
        ttl: Option<Duration>,
        condition: Condition,
    ) -> Result<bool, Error> {
        let mut state = self.open().await?;
        let present = state.get(key).is_some();
        let allowed = match condition {
            Condition::IfAbsent => !present,
            Condition::IfPresent => present,
            Condition::Always => true,
        };
        if allowed {
            state.put(key, payload.to_vec(), ttl);
        }
        Ok(allowed)
    }

    async fn delete(&self, key: &str) -> Result<(), Error> {
        self.open().await?.entries.remove(key);
        Ok(())
    }
}

#[async_trait]
impl UserIndex for MemoryStore {
    async fn index_add(&self, key: &str, id: &str, ttl: Option<Duration>) -> Result<(), Error> {
        let mut state = self.open().await?;
        let expires = ttl.map(|ttl| Instant::now() + ttl);
        let (ids, at) = state.indexes.entry(key.to_owned()).or_default();
        if !ids.iter().any(|known| known == id) {
            ids.push(id.to_owned());
        }
        *at = expires;
        Ok(())
    }

    async fn index_members(&self, key: &str) -> Result<Vec<String>, Error> {
        let state = self.open().await?;
        let live = state.indexes.get(key).filter(|(_, at)| at.is_none_or(|at| at > Instant::now()));
        Ok(live.map(|(ids, _)| ids.clone()).unwrap_or_default())
    }

    async fn index_remove(&self, key: &str, id: &str) -> Result<(), Error> {
        if let Some((ids, _)) = self.open().await?.indexes.get_mut(key) {
            ids.retain(|known| known != id);
        }
        Ok(())
    }
}

#[async_trait]
impl CompareAndSet for MemoryStore {
    async fn load_versioned(&self, key: &str) -> Result<Option<Versioned<u64>>, Error> {
        let state = self.open().await?;
        Ok(state.get(key).map(|stored| Versioned { bytes: stored.bytes.clone(), token: stored.version }))
    }

    async fn store_if(
        &self,
        key: &str,
        payload: &[u8],
        ttl: Option<Duration>,
        expected: &Versioned<u64>,
    ) -> Result<CasOutcome<u64>, Error> {
        let mut state = self.open().await?;
        if state.get(key).map(|stored| stored.version) != Some(expected.token) {
            return Ok(CasOutcome::Conflict);
        }
        Ok(CasOutcome::Stored(state.put(key, payload.to_vec(), ttl)))
    }
}

/// One way a store can be wrong. Each loses, leaks, resurrects or mixes up sessions, and some rule of
/// the suite must catch it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Bug {
    /// `delete` does nothing: a logged-out session's entry stays.
    NeverDeletes,
    /// TTLs are ignored: every entry stays forever.
    NeverExpires,
    /// `store` (creates, and last-writer-wins updates) drops the TTL.
    PlainStoreDropsTtl,
    /// `store_if` stores whatever the entry holds: concurrent writes are lost.
    IgnoresCompareAndSet,
    /// Values are cut to 1000 bytes.
    Truncates,
    /// Every key is stored in one slot.
    OneSlot,
    /// Keys are cut to their first 24 characters (`AIOHTTP_SESSION_` and 8 of the id).
    KeysCutToPrefix,
    /// A load answers the value before the last write.
    StaleValue,
    /// Values over 16 KiB are acknowledged but not stored.
    DropsLargeValues,
    /// Ids are stored upper-cased.
    CaseFoldsKeys,
    /// An update ([`Condition::IfPresent`]) of an entry that is gone writes it anyway: a logged-out
    /// session comes back.
    UpdateRecreates,
    /// A create ([`Condition::IfAbsent`]) over a live entry overwrites it: a new id takes over another
    /// session.
    CreateOverwrites,
    /// The index of a user's sessions forgets what it is given: a device never shows in the list.
    IndexForgets,
    /// A user's epoch never changes: log-out-everywhere ends nothing.
    EpochStuck,
    /// `delete` of an entry that is not there is an error: of two tabs logging out at once, one fails.
    DeleteMissingFails,
    /// `store_if` always answers a conflict: no merging save ever stores.
    CompareAndSetNeverStores,
}

impl Bug {
    /// Every bug of the zoo.
    pub const ALL: [Bug; 16] = [
        Bug::NeverDeletes,
        Bug::NeverExpires,
        Bug::PlainStoreDropsTtl,
        Bug::IgnoresCompareAndSet,
        Bug::Truncates,
        Bug::OneSlot,
        Bug::KeysCutToPrefix,
        Bug::StaleValue,
        Bug::DropsLargeValues,
        Bug::CaseFoldsKeys,
        Bug::UpdateRecreates,
        Bug::CreateOverwrites,
        Bug::IndexForgets,
        Bug::EpochStuck,
        Bug::DeleteMissingFails,
        Bug::CompareAndSetNeverStores,
    ];
}

/// A [`MemoryStore`] with one [`Bug`]. The store underneath stays inspectable with
/// [`MemoryStore::entry`], which is how the suite sees leaks the broken backend hides.
#[derive(Clone, Debug)]
pub struct Broken {
    /// The store underneath.
    pub store: MemoryStore,
    /// What is wrong with it.
    pub bug: Bug,
    /// For [`Bug::StaleValue`]: the value before the last write, per key.
    previous: Arc<Mutex<HashMap<String, Vec<u8>>>>,
}

impl Broken {
    /// `store` with `bug`.
    pub fn new(store: MemoryStore, bug: Bug) -> Self {
        Broken { store, bug, previous: Arc::default() }
    }

    /// The key the broken store really uses for `key`.
    pub fn slot(&self, key: &str) -> String {
        match self.bug {
            Bug::OneSlot => "slot".to_owned(),
            Bug::KeysCutToPrefix => key.chars().take(24).collect(),
            Bug::CaseFoldsKeys => key.to_uppercase(),
            _ => key.to_owned(),
        }
    }

    fn payload(&self, payload: &[u8]) -> Option<Vec<u8>> {
        match self.bug {
            Bug::Truncates => Some(payload[..payload.len().min(1000)].to_vec()),
            Bug::DropsLargeValues if payload.len() > 16 * 1024 => None,
            _ => Some(payload.to_vec()),
        }
    }

    fn ttl(&self, ttl: Option<Duration>, plain: bool) -> Option<Duration> {
        match self.bug {
            Bug::NeverExpires => None,
            Bug::PlainStoreDropsTtl if plain => None,
            _ => ttl,
        }
    }

    async fn remember(&self, slot: &str) -> Result<(), Error> {
        if self.bug == Bug::StaleValue
            && let Some(bytes) = self.store.load(slot).await?
        {
            self.previous.lock().unwrap_or_else(PoisonError::into_inner).insert(slot.to_owned(), bytes);
        }
        Ok(())
    }

    fn stale(&self, slot: &str, current: Option<Vec<u8>>) -> Option<Vec<u8>> {
        match self.bug {
            Bug::StaleValue => {
                let previous = self.previous.lock().unwrap_or_else(PoisonError::into_inner).get(slot).cloned();
                previous.or(current)
            }
            _ => current,
        }
    }
}

#[async_trait]
impl KeyValueBackend for Broken {
    type Token = u64;

    fn name(&self) -> &'static str {
        "broken"
    }

    fn compare_and_set(&self) -> Option<&dyn CompareAndSet<Token = u64>> {
        Some(self)
    }

    fn user_index(&self) -> Option<&dyn UserIndex> {
        Some(self)
    }

    async fn load(&self, key: &str) -> Result<Option<Vec<u8>>, Error> {
        let slot = self.slot(key);
        let current = self.store.load(&slot).await?;
        Ok(self.stale(&slot, current))
    }

    async fn store(
        &self,
        key: &str,
        payload: &[u8],
        ttl: Option<Duration>,
        condition: Condition,
    ) -> Result<bool, Error> {
        // A user's epoch lives under `…_user_<hash>`: a stuck one keeps its first value.
        if self.bug == Bug::EpochStuck && key.contains("_user_") && self.store.load(key).await?.is_some() {
            return Ok(true);
        }
        let slot = self.slot(key);
        self.remember(&slot).await?;
        let condition = match (self.bug, condition) {
            (Bug::UpdateRecreates, Condition::IfPresent) | (Bug::CreateOverwrites, Condition::IfAbsent) => {
                Condition::Always
            }
            _ => condition,
        };
        match self.payload(payload) {
            Some(payload) => self.store.store(&slot, &payload, self.ttl(ttl, true), condition).await,
            None => Ok(true),
        }
    }

    async fn delete(&self, key: &str) -> Result<(), Error> {
        if self.bug == Bug::NeverDeletes {
            return Ok(());
        }
        if self.bug == Bug::DeleteMissingFails && self.store.load(&self.slot(key)).await?.is_none() {
            return Err(Error::backend(format!("no entry under {key}")));
        }
        self.store.delete(&self.slot(key)).await
    }
}

#[async_trait]
impl UserIndex for Broken {
    async fn index_add(&self, key: &str, id: &str, ttl: Option<Duration>) -> Result<(), Error> {
        if self.bug == Bug::IndexForgets {
            return Ok(());
        }
        self.store.index_add(key, id, ttl).await
    }

    async fn index_members(&self, key: &str) -> Result<Vec<String>, Error> {
        self.store.index_members(key).await
    }

    async fn index_remove(&self, key: &str, id: &str) -> Result<(), Error> {
        self.store.index_remove(key, id).await
    }
}

#[async_trait]
impl CompareAndSet for Broken {
    async fn load_versioned(&self, key: &str) -> Result<Option<Versioned<u64>>, Error> {
        let slot = self.slot(key);
        let current = self.store.load_versioned(&slot).await?;
        if self.bug == Bug::StaleValue
            && let Some(current) = current
        {
            let bytes = self.stale(&slot, Some(current.bytes)).unwrap_or_default();
            return Ok(Some(Versioned { bytes, token: current.token }));
        }
        Ok(current)
    }

    async fn store_if(
        &self,
        key: &str,
        payload: &[u8],
        ttl: Option<Duration>,
        expected: &Versioned<u64>,
    ) -> Result<CasOutcome<u64>, Error> {
        let slot = self.slot(key);
        self.remember(&slot).await?;
        let Some(payload) = self.payload(payload) else {
            return Ok(CasOutcome::Stored(expected.token));
        };
        let ttl = self.ttl(ttl, false);
        if self.bug == Bug::CompareAndSetNeverStores {
            return Ok(CasOutcome::Conflict);
        }
        if self.bug == Bug::IgnoresCompareAndSet {
            self.store.store(&slot, &payload, ttl, Condition::Always).await?;
            let stored = self.store.load_versioned(&slot).await?;
            return Ok(CasOutcome::Stored(stored.map_or(0, |stored| stored.token)));
        }
        self.store.store_if(&slot, &payload, ttl, expected).await
    }
}
