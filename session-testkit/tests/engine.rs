//! The server-side engine of session-core, on the zoo's in-memory store: saves of one session batched
//! within a process and merged across processes, a batch whose writer goes away or fails, the one
//! deadline of a request, the marker of log-out-everywhere. (These live here rather than in
//! session-core so that session-core's tests need no crate that depends on it.)

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use session_core::expiry::DEFAULT_LIFETIME;
use session_core::middleware::{PendingSave, RequestSession};
use session_core::server_side::{CasOutcome, CompareAndSet, Condition, KeyValueBackend, ServerSideStorage, Versioned};
use session_core::{AbstractStorage, Error};
use session_testkit::zoo::MemoryStore;
use tokio::sync::watch;

/// How long after its deadline a request may still be answered: the time the runtime takes to wake
/// the task that timed out, on a busy two-core machine.
const MARGIN: Duration = Duration::from_millis(250);

/// A memory store whose calls take time (a round trip), whose conditional writes are counted, and
/// whose writes can be held back at a gate.
#[derive(Clone)]
struct Slow {
    store: MemoryStore,
    writes: Arc<AtomicUsize>,
    loads: Arc<AtomicUsize>,
    load_delay: Duration,
    write_delay: Duration,
    gate: watch::Sender<bool>,
}

impl Default for Slow {
    fn default() -> Self {
        Slow {
            store: MemoryStore::new(),
            writes: Arc::default(),
            loads: Arc::default(),
            load_delay: Duration::ZERO,
            write_delay: Duration::from_millis(1),
            gate: watch::Sender::new(true),
        }
    }
}

impl Slow {
    /// Holds every write that starts from now until `open` (it waits at the gate).
    fn hold(&self) {
        self.gate.send_replace(false);
    }

    fn open(&self) {
        self.gate.send_replace(true);
    }

    async fn write_turn(&self) {
        let mut open = self.gate.subscribe();
        let _ = open.wait_for(|open| *open).await;
        tokio::time::sleep(self.write_delay).await;
    }
}

#[async_trait]
impl KeyValueBackend for Slow {
    type Token = u64;
    fn name(&self) -> &'static str {
        "slow"
    }
    fn timeout(&self) -> Duration {
        self.store.timeout()
    }
    fn compare_and_set(&self) -> Option<&dyn CompareAndSet<Token = u64>> {
        Some(self)
    }
    async fn load(&self, key: &str) -> Result<Option<Vec<u8>>, Error> {
        tokio::time::sleep(self.load_delay).await;
        self.store.load(key).await
    }
    async fn store(
        &self,
        key: &str,
        payload: &[u8],
        ttl: Option<Duration>,
        condition: Condition,
    ) -> Result<bool, Error> {
        self.write_turn().await;
        self.store.store(key, payload, ttl, condition).await
    }
    async fn delete(&self, key: &str) -> Result<(), Error> {
        self.store.delete(key).await
    }
}

#[async_trait]
impl CompareAndSet for Slow {
    async fn load_versioned(&self, key: &str) -> Result<Option<Versioned<u64>>, Error> {
        self.loads.fetch_add(1, Ordering::SeqCst);
        tokio::time::sleep(self.load_delay).await;
        self.store.load_versioned(key).await
    }
    async fn store_if(
        &self,
        key: &str,
        payload: &[u8],
        ttl: Option<Duration>,
        expected: &Versioned<u64>,
    ) -> Result<CasOutcome<u64>, Error> {
        self.writes.fetch_add(1, Ordering::SeqCst);
        self.write_turn().await;
        self.store.store_if(key, payload, ttl, expected).await
    }
}

/// A browser's cookie after a first request that wrote `user`.
async fn logged_in(storage: &Arc<dyn AbstractStorage>) -> String {
    let request = RequestSession::new(Arc::clone(storage));
    request.load(None::<&str>).await.expect("load");
    request.with(|s| s.insert("user", "alice")).expect("loaded").expect("insert");
    let header = request.finish(200).expect("changed").save().await.expect("save").expect("a cookie");
    header.split("; ").next().expect("name=value").to_owned()
}

/// A request of the browser with `cookie` that loaded the session and adds the key `writer<n>`, ready
/// to save.
async fn writer(storage: &Arc<dyn AbstractStorage>, cookie: &str, n: usize) -> PendingSave {
    let request = RequestSession::new(Arc::clone(storage));
    request.load([cookie]).await.expect("load");
    request.with(|s| s.insert(format!("writer{n}"), n)).expect("loaded").expect("insert");
    request.finish(200).expect("changed")
}

/// The keys of the session `cookie` names, as the next request loads it.
async fn keys(storage: &Arc<dyn AbstractStorage>, cookie: &str) -> Vec<String> {
    let check = RequestSession::new(Arc::clone(storage));
    check.load([cookie]).await.expect("load");
    check.with(|s| s.keys().map(str::to_owned).collect()).expect("loaded")
}

/// `writers` requests of that browser at once, on `storages` in turn, each adding its own key; then what
/// the session holds.
async fn concurrent_writers(storages: &[Arc<dyn AbstractStorage>], cookie: &str, writers: usize) -> Vec<String> {
    let mut pending = Vec::new();
    for n in 0..writers {
        pending.push(writer(&storages[n % storages.len()], cookie, n).await);
    }
    let saves: Vec<_> = pending.into_iter().map(|save| tokio::spawn(save.save())).collect();
    for save in saves {
        save.await.expect("a save task").expect("every save succeeds");
    }
    keys(&storages[0], cookie).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn saves_of_one_process_are_written_together() {
    let backend = Slow::default();
    let storage: Arc<dyn AbstractStorage> = Arc::new(ServerSideStorage::new(backend.clone()));
    let cookie = logged_in(&storage).await;
    let before = backend.writes.load(Ordering::SeqCst);
    let keys = concurrent_writers(&[storage], &cookie, 50).await;
    let missing: Vec<usize> = (0..50).filter(|n| !keys.contains(&format!("writer{n}"))).collect();
    assert!(missing.is_empty(), "lost the writes of {missing:?}");
    assert!(keys.contains(&"user".to_owned()));
    let writes = backend.writes.load(Ordering::SeqCst) - before;
    eprintln!("50 concurrent saves of one session: {writes} conditional writes");
    assert!(writes < 25, "saves waiting for a write go into the next one: {writes} writes for 50 saves");
}

/// Each batch after the first starts from what the batch before it stored: no reload, no conflict
/// (one process writes alone). And once a batch found the session gone, the next writes nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_starts_from_what_the_batch_before_stored() {
    let backend = Slow::default();
    let storage: Arc<dyn AbstractStorage> = Arc::new(ServerSideStorage::new(backend.clone()));
    let cookie = logged_in(&storage).await;
    let mut pending = Vec::new();
    for n in 0..30 {
        pending.push(writer(&storage, &cookie, n).await);
    }
    let (loads, writes) = (backend.loads.load(Ordering::SeqCst), backend.writes.load(Ordering::SeqCst));
    backend.hold();
    let saves: Vec<_> = pending.into_iter().map(|save| tokio::spawn(save.save())).collect();
    tokio::time::sleep(Duration::from_millis(20)).await;
    backend.open();
    for save in saves {
        save.await.expect("a save task").expect("save");
    }
    assert_eq!(backend.loads.load(Ordering::SeqCst), loads, "no batch reloads what the batch before stored");
    assert_eq!(backend.writes.load(Ordering::SeqCst) - writes, 2, "two batches: the first save, then the rest");

    // The same after a logout: the first batch finds the session gone, the next one writes nothing.
    let mut pending = Vec::new();
    for n in 0..10 {
        pending.push(writer(&storage, &cookie, n).await);
    }
    backend.store.delete(&cookie_key(&cookie)).await.expect("delete");
    let writes = backend.writes.load(Ordering::SeqCst);
    backend.hold();
    let saves: Vec<_> = pending.into_iter().map(|save| tokio::spawn(save.save())).collect();
    tokio::time::sleep(Duration::from_millis(20)).await;
    backend.open();
    for save in saves {
        assert_eq!(save.await.expect("a save task").expect("save"), None);
    }
    assert_eq!(backend.writes.load(Ordering::SeqCst) - writes, 1, "only the first batch tried to write");
}

/// The store key of the session a `Cookie` header value names.
fn cookie_key(cookie: &str) -> String {
    let (name, id) = cookie.split_once('=').expect("name=value");
    format!("{name}_{id}")
}

/// What an app reads of a storage: its keys, whether it merges, a `Debug` that names the backend and
/// never an id.
#[test]
fn a_storage_tells_its_keys_and_its_mode() {
    let store = MemoryStore::new();
    let merging = ServerSideStorage::new(store.clone());
    assert!(merging.merges());
    assert_eq!(merging.key("0123"), "AIOHTTP_SESSION_0123");
    let prefixed = ServerSideStorage::new(store)
        .with_key_prefix("app:")
        .with_concurrency(session_core::Concurrency::LastWriterWins);
    assert!(!prefixed.merges(), "last writer wins");
    assert_eq!(prefixed.key("0123"), "app:AIOHTTP_SESSION_0123");
    let shown = format!("{prefixed:?}");
    assert!(
        shown.starts_with("ServerSideStorage") && shown.contains("merges: false") && shown.contains("app:"),
        "{shown}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn saves_of_several_processes_merge() {
    let backend = Slow::default();
    let storages: Vec<Arc<dyn AbstractStorage>> =
        (0..3).map(|_| Arc::new(ServerSideStorage::new(backend.clone())) as Arc<dyn AbstractStorage>).collect();
    let cookie = logged_in(&storages[0]).await;
    let keys = concurrent_writers(&storages, &cookie, 60).await;
    let missing: Vec<usize> = (0..60).filter(|n| !keys.contains(&format!("writer{n}"))).collect();
    assert!(missing.is_empty(), "lost the writes of {missing:?}");
}

/// Twenty saves of one session: the first is cancelled while it writes, the others wait in its lane.
/// Every one of them is written by the batches that follow.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_writer_that_goes_away_loses_no_waiting_save() {
    let backend = Slow::default();
    let storage: Arc<dyn AbstractStorage> = Arc::new(ServerSideStorage::new(backend.clone()));
    let cookie = logged_in(&storage).await;
    let mut pending = Vec::new();
    for n in 0..20 {
        pending.push(writer(&storage, &cookie, n).await);
    }
    let mut pending = pending.into_iter();
    backend.hold();
    let first = tokio::spawn(pending.next().expect("a request").save());
    tokio::time::sleep(Duration::from_millis(20)).await;
    let rest: Vec<_> = pending.map(|save| tokio::spawn(save.save())).collect();
    tokio::time::sleep(Duration::from_millis(20)).await;
    first.abort();
    backend.open();
    for save in rest {
        assert!(save.await.expect("a save task").expect("a waiting save succeeds").is_some(), "it sends its cookie");
    }
    let keys = keys(&storage, &cookie).await;
    let missing: Vec<usize> = (1..20).filter(|n| !keys.contains(&format!("writer{n}"))).collect();
    assert!(missing.is_empty(), "lost the writes of {missing:?} when the first writer went away");
}

/// The batch writer is cancelled while a logout of the session goes through: the saves it leaves
/// behind find the session gone and write nothing, send no cookie.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn saves_left_by_a_cancelled_writer_do_not_bring_back_a_logged_out_session() {
    let backend = Slow::default();
    let storage: Arc<dyn AbstractStorage> = Arc::new(ServerSideStorage::new(backend.clone()));
    let cookie = logged_in(&storage).await;
    let mut pending = Vec::new();
    for n in 0..4 {
        pending.push(writer(&storage, &cookie, n).await);
    }
    let logout = RequestSession::new(Arc::clone(&storage));
    logout.load([cookie.as_str()]).await.expect("load");
    logout.with(|s| s.invalidate()).expect("loaded");

    backend.hold();
    let mut pending = pending.into_iter();
    let first = tokio::spawn(pending.next().expect("a request").save());
    tokio::time::sleep(Duration::from_millis(20)).await;
    let rest: Vec<_> = pending.map(|save| tokio::spawn(save.save())).collect();
    tokio::time::sleep(Duration::from_millis(20)).await;
    let removal = logout.finish(200).expect("changed").save().await.expect("logout").expect("a cookie");
    assert!(removal.contains("Max-Age=0"), "{removal}");
    first.abort();
    backend.open();
    for save in rest {
        let cookie = save.await.expect("a save task").expect("a save after the logout succeeds");
        assert_eq!(cookie, None, "no cookie for a session that was logged out");
    }
    assert!(backend.store.is_empty(), "nothing came back: the store holds no entry");
}

/// The store fails under a batch: every save waiting for it fails too, and none writes anything.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_batch_fails_every_save_it_carried() {
    let backend = Slow::default();
    let storage: Arc<dyn AbstractStorage> = Arc::new(ServerSideStorage::new(backend.clone()));
    let cookie = logged_in(&storage).await;
    let mut pending = Vec::new();
    for n in 0..6 {
        pending.push(writer(&storage, &cookie, n).await);
    }
    backend.hold();
    let saves: Vec<_> = pending.into_iter().map(|save| tokio::spawn(save.save())).collect();
    tokio::time::sleep(Duration::from_millis(20)).await;
    backend.store.set_down(true);
    backend.open();
    for save in saves {
        let error = save.await.expect("a save task").expect_err("the store is down");
        assert!(error.is_backend(), "{error}");
        assert!(session_core::middleware::describe(&error).contains("down"), "the cause is told: {error:?}");
    }
    backend.store.set_down(false);
    assert_eq!(keys(&storage, &cookie).await, ["user"], "nothing was written");
}

/// Two requests of one process each remove one of the session's two keys: together they leave it
/// empty, and neither removal may be lost (whether the saves go in one batch or one after the other).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn removals_that_together_empty_the_session_are_kept() {
    for together in [false, true] {
        let storage: Arc<dyn AbstractStorage> = Arc::new(ServerSideStorage::new(Slow::default()));
        let cookie = logged_in(&storage).await;
        let request = RequestSession::new(Arc::clone(&storage));
        request.load([cookie.as_str()]).await.expect("load");
        request.with(|s| s.insert("csrf", "token")).expect("loaded").expect("insert");
        request.finish(200).expect("changed").save().await.expect("save");

        let mut pending = Vec::new();
        for key in ["user", "csrf"] {
            let request = RequestSession::new(Arc::clone(&storage));
            request.load([cookie.as_str()]).await.expect("load");
            request.with(|s| s.remove::<String>(key)).expect("loaded").expect("a string");
            pending.push(request.finish(200).expect("changed"));
        }
        if together {
            let saves: Vec<_> = pending.into_iter().map(|save| tokio::spawn(save.save())).collect();
            for save in saves {
                save.await.expect("a save task").expect("save");
            }
        } else {
            for save in pending {
                save.save().await.expect("save");
            }
        }
        let keys = keys(&storage, &cookie).await;
        assert!(keys.is_empty(), "saves together: {together}; removed keys came back: {keys:?}");
    }
}

/// A request that only loaded the session's user does not put it back over a concurrent login of
/// another user (which log-out-everywhere would then miss).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_loaded_user_does_not_undo_a_concurrent_set_user() {
    let storage: Arc<dyn AbstractStorage> = Arc::new(ServerSideStorage::new(Slow::default()));
    let cookie = logged_in(&storage).await;
    let alice = RequestSession::new(Arc::clone(&storage));
    alice.load([cookie.as_str()]).await.expect("load");
    alice.with(|s| s.set_user("alice")).expect("loaded");
    alice.finish(200).expect("changed").save().await.expect("save");

    let stale = RequestSession::new(Arc::clone(&storage));
    stale.load([cookie.as_str()]).await.expect("load");
    let login = RequestSession::new(Arc::clone(&storage));
    login.load([cookie.as_str()]).await.expect("load");
    login.with(|s| s.set_user("bob")).expect("loaded");
    login.finish(200).expect("changed").save().await.expect("save");
    stale.with(|s| s.insert("seen", true)).expect("loaded").expect("insert");
    stale.finish(200).expect("changed").save().await.expect("save");

    let check = RequestSession::new(Arc::clone(&storage));
    check.load([cookie.as_str()]).await.expect("load");
    let (user, seen) = check.with(|s| (s.user().map(str::to_owned), s.get::<bool>("seen"))).expect("loaded");
    assert_eq!(user.as_deref(), Some("bob"), "the later login's user stays");
    assert_eq!(seen.expect("a bool"), Some(true), "the stale request's write is merged");
}

/// A backend whose calls never answer (a third party's, a frozen server): every load, save and
/// log-out-everywhere gets `Error::Timeout` within the backend's timeout, in both concurrency modes,
/// with 64 saves of one session waiting in one lane; once the store answers again, so does the storage.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backend_that_hangs_answers_an_error_within_its_timeout() {
    const TIMEOUT: Duration = Duration::from_millis(300);
    for concurrency in [session_core::Concurrency::Merge, session_core::Concurrency::LastWriterWins] {
        let store = MemoryStore::new().with_timeout(TIMEOUT);
        let storage: Arc<dyn AbstractStorage> =
            Arc::new(ServerSideStorage::new(store.clone()).with_concurrency(concurrency));
        let cookie = logged_in(&storage).await;
        let mut pending = Vec::new();
        for n in 0..64 {
            pending.push(writer(&storage, &cookie, n).await);
        }
        store.set_hung(true);
        let started = Instant::now();
        let saves: Vec<_> =
            pending.into_iter().map(|save| tokio::spawn(async move { (save.save().await, Instant::now()) })).collect();
        let loads: Vec<_> = (0..8)
            .map(|_| {
                let (storage, cookie) = (Arc::clone(&storage), cookie.clone());
                tokio::spawn(async move {
                    let request = RequestSession::new(storage);
                    (request.load([cookie.as_str()]).await, Instant::now())
                })
            })
            .collect();
        let logout = storage.log_out_everywhere("alice").await;
        assert!(matches!(logout, Err(Error::Timeout { .. })), "{concurrency:?}: {logout:?}");
        let mut slowest = Duration::ZERO;
        for save in saves {
            let (saved, at) = save.await.expect("a save task");
            assert!(matches!(saved, Err(Error::Timeout { timeout: TIMEOUT })), "{concurrency:?}: {saved:?}");
            slowest = slowest.max(at - started);
        }
        for load in loads {
            let (loaded, at) = load.await.expect("a load task");
            assert!(matches!(loaded, Err(Error::Timeout { .. })), "{concurrency:?}: {loaded:?}");
            slowest = slowest.max(at - started);
        }
        eprintln!("{concurrency:?}: 64 saves and 8 loads on a hung store, the last answered after {slowest:?}");
        assert!(slowest <= TIMEOUT + MARGIN, "{concurrency:?}: answered after {slowest:?}");
        store.set_hung(false);
        assert_eq!(keys(&storage, &cookie).await, ["user"], "{concurrency:?}: the store answers again");
    }
}

/// The load and the save of one request share one budget: a load that took most of it leaves the save
/// only the rest.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_load_and_the_save_of_a_request_share_one_deadline() {
    let backend = Slow {
        store: MemoryStore::new().with_timeout(Duration::from_millis(400)),
        load_delay: Duration::from_millis(250),
        write_delay: Duration::from_millis(250),
        ..Slow::default()
    };
    let storage: Arc<dyn AbstractStorage> = Arc::new(ServerSideStorage::new(backend.clone()));
    let cookie = logged_in(&storage).await;
    let started = Instant::now();
    let saved = writer(&storage, &cookie, 1).await.save().await;
    assert!(matches!(saved, Err(Error::Timeout { .. })), "250 ms to load and 250 ms to write exceed 400 ms: {saved:?}");
    assert!(started.elapsed() <= Duration::from_millis(400) + MARGIN, "{:?}", started.elapsed());
}

/// The key of the one user epoch `store` holds, and its TTL.
fn epoch_of(store: &MemoryStore) -> Option<Duration> {
    let keys: Vec<String> = store.keys().into_iter().filter(|key| key.starts_with("AIOHTTP_SESSION_user_")).collect();
    assert_eq!(keys.len(), 1, "one epoch, under a hash of the user: {keys:?}");
    assert_eq!(keys[0].len(), "AIOHTTP_SESSION_user_".len() + 32, "{keys:?}");
    store.entry(&keys[0]).expect("the epoch").ttl
}

/// A user's epoch lives as long as any session of the storage may (so every session it ends is gone by
/// then): the default lifetime and the remember limit, or any longer limit; forever when sessions may.
#[tokio::test]
async fn the_epoch_lives_as_long_as_the_sessions_it_ends() {
    let store = MemoryStore::new();
    ServerSideStorage::new(store.clone()).log_out_everywhere("alice").await.expect("log out");
    let ttl = epoch_of(&store).expect("a TTL");
    let remember = session_core::expiry::DEFAULT_REMEMBER_LIMIT;
    assert!(
        ttl > remember - Duration::from_secs(5) && ttl > DEFAULT_LIFETIME,
        "as long as a remembered session: {ttl:?}"
    );

    let forty_days = Duration::from_secs(40 * 24 * 3600);
    let limits = [
        session_core::StorageConfig::new().with_max_age(forty_days),
        session_core::StorageConfig::new().with_idle_timeout(forty_days),
        session_core::StorageConfig::new().with_absolute_timeout(forty_days),
        session_core::StorageConfig::new().with_default_lifetime(forty_days),
        session_core::StorageConfig::new().with_remember_limit(forty_days),
    ];
    for config in limits {
        let store = MemoryStore::new();
        let shown = format!("{:?}", config.expiry());
        ServerSideStorage::new(store.clone()).with_config(config).log_out_everywhere("alice").await.expect("log out");
        let ttl = epoch_of(&store).expect("a TTL");
        assert!(ttl > forty_days - Duration::from_secs(5), "{shown}: the epoch outlives a 40-day session: {ttl:?}");
    }

    // Sessions that never end (as the app asked) can come back at any time: so can the epoch's check.
    let store = MemoryStore::new();
    let immortal = ServerSideStorage::new(store.clone())
        .with_config(session_core::StorageConfig::new().with_default_lifetime(None).with_remember_limit(None));
    immortal.log_out_everywhere("alice").await.expect("log out");
    assert_eq!(epoch_of(&store), None, "sessions that never expire need an epoch that never does");
}

/// A store that compares bytes rather than versions (Redis's `IFEQ` and its script): the token says
/// nothing, so only the bytes tell one version from another.
#[derive(Clone, Default)]
struct ByBytes {
    store: MemoryStore,
    /// One writer at a time: the compare and the write are one step, as in Redis.
    turn: Arc<tokio::sync::Mutex<()>>,
}

#[async_trait]
impl KeyValueBackend for ByBytes {
    type Token = ();
    fn name(&self) -> &'static str {
        "by-bytes"
    }
    fn compare_and_set(&self) -> Option<&dyn CompareAndSet<Token = ()>> {
        Some(self)
    }
    async fn load(&self, key: &str) -> Result<Option<Vec<u8>>, Error> {
        self.store.load(key).await
    }
    async fn store(
        &self,
        key: &str,
        payload: &[u8],
        ttl: Option<Duration>,
        condition: Condition,
    ) -> Result<bool, Error> {
        let _turn = self.turn.lock().await;
        self.store.store(key, payload, ttl, condition).await
    }
    async fn delete(&self, key: &str) -> Result<(), Error> {
        self.store.delete(key).await
    }
}

#[async_trait]
impl CompareAndSet for ByBytes {
    async fn load_versioned(&self, key: &str) -> Result<Option<Versioned<()>>, Error> {
        Ok(self.store.load(key).await?.map(|bytes| Versioned { bytes, token: () }))
    }
    async fn store_if(
        &self,
        key: &str,
        payload: &[u8],
        ttl: Option<Duration>,
        expected: &Versioned<()>,
    ) -> Result<CasOutcome<()>, Error> {
        let _turn = self.turn.lock().await;
        tokio::time::sleep(Duration::from_millis(1)).await;
        if self.store.load(key).await?.as_deref() != Some(&expected.bytes[..]) {
            return Ok(CasOutcome::Conflict);
        }
        self.store.store(key, payload, ttl, Condition::Always).await?;
        Ok(CasOutcome::Stored(()))
    }
}

/// On a store that compares bytes, concurrent saves of several processes keep every write too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn saves_merge_on_a_store_that_compares_bytes() {
    let backend = ByBytes::default();
    let storages: Vec<Arc<dyn AbstractStorage>> =
        (0..3).map(|_| Arc::new(ServerSideStorage::new(backend.clone())) as Arc<dyn AbstractStorage>).collect();
    let cookie = logged_in(&storages[0]).await;
    let keys = concurrent_writers(&storages, &cookie, 30).await;
    let missing: Vec<usize> = (0..30).filter(|n| !keys.contains(&format!("writer{n}"))).collect();
    assert!(missing.is_empty(), "lost the writes of {missing:?}");
}

/// A store whose first `conflicts` compare-and-sets fail, as when other processes write in between.
#[derive(Clone, Default)]
struct Contended {
    store: MemoryStore,
    conflicts: Arc<AtomicUsize>,
}

#[async_trait]
impl KeyValueBackend for Contended {
    type Token = u64;
    fn name(&self) -> &'static str {
        "contended"
    }
    fn compare_and_set(&self) -> Option<&dyn CompareAndSet<Token = u64>> {
        Some(self)
    }
    async fn load(&self, key: &str) -> Result<Option<Vec<u8>>, Error> {
        self.store.load(key).await
    }
    async fn store(
        &self,
        key: &str,
        payload: &[u8],
        ttl: Option<Duration>,
        condition: Condition,
    ) -> Result<bool, Error> {
        self.store.store(key, payload, ttl, condition).await
    }
    async fn delete(&self, key: &str) -> Result<(), Error> {
        self.store.delete(key).await
    }
}

#[async_trait]
impl CompareAndSet for Contended {
    async fn load_versioned(&self, key: &str) -> Result<Option<Versioned<u64>>, Error> {
        self.store.load_versioned(key).await
    }
    async fn store_if(
        &self,
        key: &str,
        payload: &[u8],
        ttl: Option<Duration>,
        expected: &Versioned<u64>,
    ) -> Result<CasOutcome<u64>, Error> {
        let left = self.conflicts.load(Ordering::SeqCst);
        if left > 0 {
            self.conflicts.store(left - 1, Ordering::SeqCst);
            // Another process wrote in between: the entry moves on to a new version.
            if let Some(current) = self.store.load_versioned(key).await? {
                self.store.store(key, &current.bytes, ttl, Condition::IfPresent).await?;
            }
            return Ok(CasOutcome::Conflict);
        }
        self.store.store_if(key, payload, ttl, expected).await
    }
}

/// A contended save retries at once after its first conflict (the reload was a round trip already),
/// backs off after the next ones, and gives up with `Error::Conflict` at its deadline. On a paused clock,
/// so the pauses are counted, not waited.
#[tokio::test(start_paused = true)]
async fn a_contended_save_backs_off_from_its_second_retry() {
    let backend = Contended::default();
    let storage: Arc<dyn AbstractStorage> = Arc::new(ServerSideStorage::new(backend.clone()));
    let cookie = logged_in(&storage).await;
    for (conflicts, pauses) in [(1, false), (6, true)] {
        backend.conflicts.store(conflicts, Ordering::SeqCst);
        let save = writer(&storage, &cookie, conflicts).await;
        let started = tokio::time::Instant::now();
        assert!(save.save().await.expect("saved after the conflicts").is_some());
        let paused = started.elapsed();
        assert_eq!(paused > Duration::ZERO, pauses, "{conflicts} conflicts: paused {paused:?}");
        assert!(paused < Duration::from_millis(200), "{conflicts} conflicts: backoff is capped: {paused:?}");
    }
    backend.conflicts.store(usize::MAX, Ordering::SeqCst);
    let failed = writer(&storage, &cookie, 99).await.save().await;
    assert!(
        matches!(failed, Err(Error::Conflict { attempts, .. }) if attempts > 10),
        "a store that always conflicts: the save gives up at its deadline, saying so: {failed:?}"
    );
}

/// A backend that leaves `timeout` and `accepts_key` to their defaults works: two seconds of store time
/// per request, every key.
#[tokio::test]
async fn a_backend_with_the_default_timeout_serves() {
    #[derive(Default)]
    struct Plain(MemoryStore);
    #[async_trait]
    impl KeyValueBackend for Plain {
        type Token = ();
        fn name(&self) -> &'static str {
            "plain"
        }
        async fn load(&self, key: &str) -> Result<Option<Vec<u8>>, Error> {
            self.0.load(key).await
        }
        async fn store(
            &self,
            key: &str,
            payload: &[u8],
            ttl: Option<Duration>,
            condition: Condition,
        ) -> Result<bool, Error> {
            self.0.store(key, payload, ttl, condition).await
        }
        async fn delete(&self, key: &str) -> Result<(), Error> {
            self.0.delete(key).await
        }
    }
    assert_eq!(Plain::default().timeout(), session_core::server_side::DEFAULT_TIMEOUT);
    assert_eq!(session_core::server_side::DEFAULT_TIMEOUT, Duration::from_secs(2));
    assert!(Plain::default().accepts_key("any key at all"));
    let storage: Arc<dyn AbstractStorage> = Arc::new(ServerSideStorage::new(Plain::default()));
    let cookie = logged_in(&storage).await;
    assert_eq!(keys(&storage, &cookie).await, ["user"]);
}

/// Entries with no limit live two weeks.
#[test]
fn the_default_entry_lifetime_is_two_weeks() {
    assert_eq!(DEFAULT_LIFETIME, Duration::from_secs(14 * 24 * 60 * 60));
    assert_eq!(DEFAULT_LIFETIME.as_secs(), 1_209_600);
}

/// A login in the same instant as a log-out-everywhere comes after it: it lives (the marker ends only
/// sessions attached before it).
#[tokio::test]
async fn a_login_at_the_instant_of_a_log_out_everywhere_lives() {
    let clock = session_core::ManualClock::new(1_700_000_000);
    let storage: Arc<dyn AbstractStorage> = Arc::new(
        ServerSideStorage::new(MemoryStore::new())
            .with_config(session_core::StorageConfig::new().with_clock(clock.clock())),
    );
    storage.log_out_everywhere("alice").await.expect("log out everywhere");
    let request = RequestSession::new(Arc::clone(&storage));
    request.load(None::<&str>).await.expect("load");
    request.with(|s| s.insert("user", "alice").map(|()| s.set_user("alice"))).expect("loaded").expect("insert");
    let header = request.finish(200).expect("changed").save().await.expect("save").expect("a cookie");
    let cookie = header.split("; ").next().expect("name=value").to_owned();
    let check = RequestSession::new(Arc::clone(&storage));
    check.load([cookie.as_str()]).await.expect("load");
    assert_eq!(check.with(|s| s.user().map(str::to_owned)).expect("loaded").as_deref(), Some("alice"));
}

/// A cipher that seals nothing (the cookie is the JSON), for a cookie storage's account rules.
struct Plain;

impl session_core::sealed::CookieCipher for Plain {
    const NAME: &'static str = "plain";
    fn new(_: &session_core::SecretKey) -> Result<Self, session_core::sealed::KeyError> {
        Ok(Plain)
    }
    fn seal(&self, plaintext: &[u8], _: i64) -> Result<String, Error> {
        Ok(String::from_utf8_lossy(plaintext).into_owned())
    }
    fn open(&self, cookie: &str, _: Option<session_core::sealed::AgeLimit>) -> Option<Vec<u8>> {
        Some(cookie.as_bytes().to_vec())
    }
}

/// A cookie storage lent a store for the epochs: log-out-everywhere ends the user's cookies from
/// before it, spares a later login and another user; the epoch lives where a server-side storage on
/// the same store keeps it, under the same key.
#[tokio::test]
async fn a_cookie_storage_with_revocation_logs_out_everywhere() {
    use session_core::sealed::SealedCookieStorage;
    use session_testkit::TestClient;
    let store = MemoryStore::new();
    let storage: Arc<dyn AbstractStorage> =
        Arc::new(SealedCookieStorage::<Plain>::new([7u8; 32]).expect("a key").with_revocation(store.clone()));
    let (mut alice, mut bob) = (TestClient::new(Arc::clone(&storage)), TestClient::new(Arc::clone(&storage)));
    alice.login("alice").await.expect("login");
    bob.login("bob").await.expect("login");
    storage.log_out_everywhere("alice").await.expect("log out everywhere");
    assert_eq!(alice.session().await.expect("load").user(), None, "alice's cookie from before is over");
    assert_eq!(bob.session().await.expect("load").user(), Some("bob"));
    let mut later = TestClient::new(Arc::clone(&storage));
    later.login("alice").await.expect("login");
    assert_eq!(later.session().await.expect("load").user(), Some("alice"), "a later login lives");
    let server_side = ServerSideStorage::new(store.clone());
    let before = store.keys();
    server_side.log_out_everywhere("alice").await.expect("log out everywhere, server-side");
    assert_eq!(store.keys(), before, "the same epoch key, rewritten");
    assert_eq!(later.session().await.expect("load").user(), None, "and the cookie storage reads it");
}

/// A device is a live session of that user: not one whose limit has passed while its entry is still
/// stored, not one a Python peer logged out by writing `{}` over it; both leave the index.
#[tokio::test]
async fn devices_are_live_sessions_of_the_user_only() {
    use session_testkit::TestClient;
    let clock = session_core::ManualClock::new(1_700_000_000);
    let store = MemoryStore::new();
    let hour = Duration::from_secs(3600);
    let config = session_core::StorageConfig::new().with_clock(clock.clock()).with_max_age(hour);
    let storage = Arc::new(ServerSideStorage::new(store.clone()).with_config(config));
    let mut python = TestClient::new(Arc::clone(&storage) as Arc<dyn AbstractStorage>);
    python.login("alice").await.expect("login");
    let entry = format!("AIOHTTP_SESSION_{}", python.cookie().expect("a cookie"));
    store.store(&entry, b"{}", None, Condition::Always).await.expect("a Python logout");
    assert_eq!(storage.devices("alice").await.expect("devices"), [], "logged out by the peer");

    let mut idle = TestClient::new(Arc::clone(&storage) as Arc<dyn AbstractStorage>);
    idle.login("alice").await.expect("login");
    assert_eq!(storage.devices("alice").await.expect("devices").len(), 1);
    clock.advance(2 * 3600);
    assert_eq!(storage.devices("alice").await.expect("devices"), [], "past its max_age, though still stored");
}
