//! Concurrent saves of one session: written together within a process (one compare-and-set a batch),
//! merged across processes, and never lost when a request that was writing a batch goes away.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use session_core::middleware::RequestSession;
use session_core::server_side::{CasOutcome, CompareAndSet, KeyValueBackend, ServerSideStorage, Versioned};
use session_core::{AbstractStorage, Error};
use session_testkit::zoo::MemoryStore;

/// A memory store whose conditional writes take a millisecond (a round trip) and are counted.
#[derive(Clone, Default)]
struct Slow {
    store: MemoryStore,
    writes: Arc<AtomicUsize>,
}

#[async_trait]
impl KeyValueBackend for Slow {
    fn name(&self) -> &'static str {
        "slow"
    }
    async fn load(&self, key: &str) -> Result<Option<Vec<u8>>, Error> {
        self.store.load(key).await
    }
    async fn store(&self, key: &str, payload: &[u8], ttl: Option<Duration>) -> Result<(), Error> {
        self.store.store(key, payload, ttl).await
    }
    async fn delete(&self, key: &str) -> Result<(), Error> {
        self.store.delete(key).await
    }
}

#[async_trait]
impl CompareAndSet for Slow {
    type Token = u64;
    async fn load_versioned(&self, key: &str) -> Result<Option<Versioned<u64>>, Error> {
        self.store.load_versioned(key).await
    }
    async fn store_if(
        &self,
        key: &str,
        payload: &[u8],
        ttl: Option<Duration>,
        expected: Option<&Versioned<u64>>,
    ) -> Result<CasOutcome<u64>, Error> {
        self.writes.fetch_add(1, Ordering::SeqCst);
        tokio::time::sleep(Duration::from_millis(1)).await;
        self.store.store_if(key, payload, ttl, expected).await
    }
}

/// A browser's cookie after a first request that wrote `user`.
async fn logged_in(storage: &Arc<dyn AbstractStorage>) -> String {
    let request = RequestSession::new(Arc::clone(storage));
    request.load(None::<&str>).await.expect("load");
    request.with(|s| s.insert("user", "alice")).expect("loaded").expect("insert");
    let header = request.finish(200).expect("changed").save().await.expect("save");
    header.split("; ").next().expect("name=value").to_owned()
}

/// `writers` requests of that browser at once, on `storages` in turn, each adding its own key; then what
/// the session holds.
async fn concurrent_writers(storages: &[Arc<dyn AbstractStorage>], cookie: &str, writers: usize) -> Vec<String> {
    let mut requests = Vec::new();
    for n in 0..writers {
        let request = RequestSession::new(Arc::clone(&storages[n % storages.len()]));
        request.load([cookie]).await.expect("load");
        request.with(|s| s.insert(format!("writer{n}"), n)).expect("loaded").expect("insert");
        requests.push(request);
    }
    let saves: Vec<_> = requests
        .into_iter()
        .map(|request| tokio::spawn(async move { request.finish(200).expect("changed").save().await }))
        .collect();
    for save in saves {
        save.await.expect("a save task").expect("every save succeeds");
    }
    let check = RequestSession::new(Arc::clone(&storages[0]));
    check.load([cookie]).await.expect("load");
    check.with(|s| s.keys().map(str::to_owned).collect()).expect("loaded")
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_writer_that_goes_away_loses_no_waiting_save() {
    let backend = Slow::default();
    let storage: Arc<dyn AbstractStorage> = Arc::new(ServerSideStorage::new(backend.clone()));
    let cookie = logged_in(&storage).await;
    let mut requests = Vec::new();
    for n in 0..20 {
        let request = RequestSession::new(Arc::clone(&storage));
        request.load([cookie.as_str()]).await.expect("load");
        request.with(|s| s.insert(format!("writer{n}"), n)).expect("loaded").expect("insert");
        requests.push(request.finish(200).expect("changed"));
    }
    // The first save starts writing and is cancelled mid-write; the others queued behind it.
    let mut requests = requests.into_iter();
    let first = requests.next().expect("a request");
    let first = tokio::spawn(first.save());
    tokio::time::sleep(Duration::from_micros(200)).await;
    let rest: Vec<_> = requests.map(|request| tokio::spawn(request.save())).collect();
    tokio::time::sleep(Duration::from_micros(300)).await;
    first.abort();
    for save in rest {
        save.await.expect("a save task").expect("a waiting save succeeds");
    }
    let check = RequestSession::new(storage);
    check.load([cookie.as_str()]).await.expect("load");
    let keys: Vec<String> = check.with(|s| s.keys().map(str::to_owned).collect()).expect("loaded");
    let missing: Vec<usize> = (1..20).filter(|n| !keys.contains(&format!("writer{n}"))).collect();
    assert!(missing.is_empty(), "lost the writes of {missing:?} when the first writer went away");
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
        let check = RequestSession::new(Arc::clone(&storage));
        check.load([cookie.as_str()]).await.expect("load");
        let keys: Vec<String> = check.with(|s| s.keys().map(str::to_owned).collect()).expect("loaded");
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
