//! Whole-app scenarios over real HTTP: the reference app behind an adapter's middleware, browsers, a
//! store that goes away and comes back.

use std::future::Future;
use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use http::{Method, StatusCode};
use session_core::AbstractStorage;

use crate::browser::Browser;
use crate::client::TestClient;
use crate::http_suite::{HttpAdapter, ReferenceApp};
use crate::memcached_server::MemcachedServer;
use crate::redis_server::RedisServer;

/// A store process a scenario can kill, start again on the same port, freeze and thaw.
pub trait StoreServer {
    /// Kills it.
    fn stop(&mut self);
    /// Starts it again on the same port and waits until it answers.
    fn restart(&mut self) -> impl Future<Output = io::Result<()>>;
    /// Freezes it (SIGSTOP): connections stay open, nothing is answered.
    fn pause(&self) -> io::Result<()>;
    /// Thaws it (SIGCONT).
    fn resume(&self) -> io::Result<()>;
}

impl StoreServer for RedisServer {
    fn stop(&mut self) {
        RedisServer::stop(self);
    }
    fn restart(&mut self) -> impl Future<Output = io::Result<()>> {
        RedisServer::restart(self)
    }
    fn pause(&self) -> io::Result<()> {
        RedisServer::pause(self)
    }
    fn resume(&self) -> io::Result<()> {
        RedisServer::resume(self)
    }
}

impl StoreServer for MemcachedServer {
    fn stop(&mut self) {
        MemcachedServer::stop(self);
    }
    fn restart(&mut self) -> impl Future<Output = io::Result<()>> {
        MemcachedServer::restart(self)
    }
    fn pause(&self) -> io::Result<()> {
        MemcachedServer::pause(self)
    }
    fn resume(&self) -> io::Result<()> {
        MemcachedServer::resume(self)
    }
}

/// Which sessions the requests of [`frozen_store_in_flight`] use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sessions {
    /// One browser's session, every request on it (the saves queue in one lane).
    One,
    /// A session per request.
    Many,
}

/// `requests` requests in flight when the store behind `storage` freezes (SIGSTOP): each loaded its
/// session before the freeze and saves during it, and as many more load during it. None may succeed
/// or hang: each must fail within `bound` (the storage's timeout plus the wake-up margin). Then the
/// store thaws and a new session round-trips. Answers the slowest request.
pub async fn frozen_store_in_flight(
    storage: Arc<dyn AbstractStorage>,
    server: &impl StoreServer,
    requests: usize,
    sessions: Sessions,
    bound: Duration,
) -> Duration {
    let mut browsers = Vec::new();
    for n in 0..requests {
        if sessions == Sessions::Many || n == 0 {
            let mut browser = TestClient::new(Arc::clone(&storage));
            browser.request(|s| s.insert("n", n)).await.expect("a session before the freeze").output.expect("insert");
            browsers.push(browser);
        }
    }
    let mut in_flight = Vec::with_capacity(requests);
    for n in 0..requests {
        let request = browsers[n % browsers.len()].begin().await.expect("loaded before the freeze");
        request.with(|s| s.insert(format!("write{n}"), n)).expect("with").expect("insert");
        in_flight.push(request);
    }
    server.pause().expect("SIGSTOP");
    // SIGSTOP takes a moment to stop every thread of the server.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(2 * requests);
    for request in in_flight {
        tasks.push(tokio::spawn(timed(started, async move { request.finish().await.map(drop) })));
    }
    for n in 0..requests {
        let browser = TestClient::new(Arc::clone(&storage));
        let mut cookie = browsers[n % browsers.len()].cookie().map(str::to_owned);
        let load = async move {
            let mut browser = browser;
            browser.set_cookie(cookie.take());
            browser.session().await.map(drop)
        };
        tasks.push(tokio::spawn(timed(started, load)));
    }
    let mut slowest = Duration::ZERO;
    for task in tasks {
        let (answer, took) = task.await.expect("a request task panicked");
        assert!(answer.is_err(), "a request on a frozen store succeeded");
        slowest = slowest.max(took);
    }
    assert!(slowest <= bound, "{requests} requests ({sessions:?}) on a frozen store: the last took {slowest:?}");
    server.resume().expect("SIGCONT");
    let mut after = TestClient::new(storage);
    after.request(|s| s.insert("after", true)).await.expect("the store answers again").output.expect("insert");
    assert_eq!(after.session().await.expect("load").get::<bool>("after").expect("a bool"), Some(true));
    slowest
}

/// What `request` answered, and when, counted from `started`.
async fn timed<T>(started: Instant, request: impl Future<Output = T>) -> (T, Duration) {
    let answer = request.await;
    (answer, started.elapsed())
}

/// The store behind `storage` goes down and comes back (empty) while the app keeps running: the app
/// answers 500 without a cookie during the outage and serves sessions again right after, with no
/// restart of the app.
pub async fn app_survives_store_restart(
    adapter: &dyn HttpAdapter,
    storage: Arc<dyn AbstractStorage>,
    server: &mut impl StoreServer,
) {
    let mut browser = Browser::new(adapter.serve(ReferenceApp::new(storage)).await);
    assert_eq!(browser.get("/count").await.body, "1");

    server.stop();
    let down = browser.get("/count").await;
    assert!(down.status.is_server_error(), "a store that is down is a 5xx: {}", down.status);
    assert!(down.set_cookies.is_empty(), "no cookie for a session that was not saved");

    server.restart().await.expect("restart the store");
    let back = browser.get("/count").await;
    assert_eq!((back.status, back.body.as_str()), (StatusCode::OK, "1"), "the restarted store is empty: a new session");
    assert_eq!(browser.get("/count").await.body, "2", "and sessions are saved again");
}

/// `concurrency` requests of one browser at once, through the real middleware, each adding its own key
/// to one existing session; returns how many of those keys the session holds afterwards. A storage that
/// merges concurrent saves keeps all of them; a last-writer-wins storage loses some.
pub async fn concurrent_requests_keep_their_writes(
    adapter: &dyn HttpAdapter,
    storage: Arc<dyn AbstractStorage>,
    concurrency: usize,
) -> usize {
    let address = adapter.serve(ReferenceApp::new(storage)).await;
    let mut browser = Browser::new(address);
    assert_eq!(browser.send(Method::POST, "/items/first").await.status, StatusCode::OK);
    let jar = browser.jar.clone();
    let requests: Vec<_> = (0..concurrency)
        .map(|n| {
            let mut tab = Browser::new(address);
            tab.jar = jar.clone();
            tokio::spawn(async move { tab.send(Method::POST, &format!("/items/{n}")).await.status })
        })
        .collect();
    for request in requests {
        assert_eq!(request.await.expect("request task"), StatusCode::OK);
    }
    let count: usize = browser.get("/items").await.body.parse().expect("a count");
    count - 1
}

/// What a sustained run of parallel writers on one session did.
#[derive(Clone, Copy, Debug)]
pub struct ParallelWriters {
    /// Writes answered 200 (each a key of its own); the session holds every one of them.
    pub acknowledged: usize,
    /// How long the writers ran.
    pub elapsed: Duration,
}

/// `writers` requests of one browser at once, for `duration`, every one adding a key of its own to one
/// session (`POST /items/<writer>.<n>`, each writer sending its next request when the last is
/// answered): a single-page app whose parallel requests all write the session. The writers take turns
/// over one app per storage in `apps` (several storages on one store are several app processes behind
/// a load balancer). Asserts that every request is answered 200 and that afterwards the session holds
/// every acknowledged key.
pub async fn parallel_writers_keep_every_write(
    adapter: &dyn HttpAdapter,
    apps: Vec<Arc<dyn AbstractStorage>>,
    writers: usize,
    duration: Duration,
) -> ParallelWriters {
    let mut addresses = Vec::with_capacity(apps.len());
    for storage in apps {
        addresses.push(adapter.serve(ReferenceApp::new(storage)).await);
    }
    let mut browser = Browser::new(addresses[0]);
    assert_eq!(browser.send(Method::POST, "/items/first").await.status, StatusCode::OK);
    let jar = browser.jar.clone();
    let started = Instant::now();
    let tasks: Vec<_> = (0..writers)
        .map(|writer| {
            let mut tab = Browser::new(addresses[writer % addresses.len()]);
            tab.jar = jar.clone();
            tokio::spawn(async move {
                let mut acknowledged = 0;
                while started.elapsed() < duration {
                    let reply = tab.send(Method::POST, &format!("/items/{writer}.{acknowledged}")).await;
                    assert_eq!(reply.status, StatusCode::OK, "writer {writer}, write {acknowledged}: {}", reply.body);
                    acknowledged += 1;
                }
                acknowledged
            })
        })
        .collect();
    let mut acknowledged = 0;
    for task in tasks {
        acknowledged += task.await.expect("a writer failed");
    }
    let elapsed = started.elapsed();
    let held: usize = browser.get("/items").await.body.parse().expect("a count");
    assert_eq!(held - 1, acknowledged, "the session holds {} of {acknowledged} acknowledged writes", held - 1);
    ParallelWriters { acknowledged, elapsed }
}

/// One request of a load run: when it started and ended (since the run began) and what came back.
#[derive(Clone, Copy, Debug)]
pub struct Sample {
    /// When the request was sent.
    pub started: Duration,
    /// When its answer (or the transport error) came.
    pub finished: Duration,
    /// The status, or `None` when no HTTP answer came at all (a dropped connection, a crash).
    pub status: Option<StatusCode>,
}

/// What a steady load saw while its store went down and came back.
#[derive(Debug)]
pub struct OutageReport {
    /// Every request of the run.
    pub samples: Vec<Sample>,
    /// When the store was killed.
    pub stopped_at: Duration,
    /// When the store was started again.
    pub restarting_at: Duration,
    /// When the restarted store answered again.
    pub restarted_at: Duration,
}

impl OutageReport {
    /// Requests sent and answered entirely while the store was down.
    pub fn during_outage(&self) -> impl Iterator<Item = &Sample> {
        self.samples.iter().filter(|s| s.started > self.stopped_at && s.finished < self.restarting_at)
    }

    /// The longest any request waited.
    pub fn slowest(&self) -> Duration {
        self.samples.iter().map(|s| s.finished - s.started).max().unwrap_or_default()
    }

    /// How long after the restart the first request (sent after it) succeeded.
    pub fn recovery(&self) -> Option<Duration> {
        self.samples
            .iter()
            .filter(|s| s.started >= self.restarted_at && s.status == Some(StatusCode::OK))
            .map(|s| s.finished - self.restarted_at)
            .min()
    }

    /// Requests that got no HTTP answer at all.
    pub fn unanswered(&self) -> usize {
        self.samples.iter().filter(|s| s.status.is_none()).count()
    }

    /// Checks the promises of an outage and prints the figures: only 5xx while the store was down,
    /// an HTTP answer to every request (nothing crashed), no request slower than `bound` (the
    /// storage's timeouts), success again within a second of the restart.
    pub fn assert_recovered(&self, store: &str, bound: Duration) {
        let during: Vec<_> = self.during_outage().collect();
        eprintln!(
            "{store} outage: {} requests, {} while down, slowest {:?}, recovered {:?} after the restart",
            self.samples.len(),
            during.len(),
            self.slowest(),
            self.recovery()
        );
        assert!(during.len() > 10, "the load went on during the outage");
        let not_5xx: Vec<_> = during.iter().filter(|s| !s.status.is_some_and(|s| s.is_server_error())).collect();
        assert!(not_5xx.is_empty(), "only 5xx while {store} is down: {not_5xx:?}");
        assert_eq!(self.unanswered(), 0, "every request got an HTTP answer: nothing crashed");
        assert!(self.slowest() < bound, "no hung request: {:?}", self.slowest());
        let recovery = self.recovery();
        assert!(recovery.is_some_and(|r| r <= Duration::from_secs(1)), "success within 1 s: {recovery:?}");
    }
}

/// Drives `/count` of the reference app with `clients` concurrent browsers while the store behind `storage` is
/// killed, kept down for `down_for`, and restarted on the same port; the load goes on for two seconds
/// after the restart.
pub async fn steady_load_through_outage(
    adapter: &dyn HttpAdapter,
    storage: Arc<dyn AbstractStorage>,
    server: &mut impl StoreServer,
    clients: usize,
    down_for: Duration,
) -> OutageReport {
    let address = adapter.serve(ReferenceApp::new(storage)).await;
    let begun = Instant::now();
    let running = Arc::new(AtomicBool::new(true));
    let samples = Arc::new(Mutex::new(Vec::new()));
    let load: Vec<_> = (0..clients)
        .map(|_| {
            let (running, samples) = (Arc::clone(&running), Arc::clone(&samples));
            tokio::spawn(async move {
                let mut browser = Browser::new(address);
                while running.load(Ordering::Relaxed) {
                    let started = begun.elapsed();
                    let status = browser
                        .try_send(Method::GET, "/count", Default::default())
                        .await
                        .ok()
                        .map(|reply| reply.status);
                    let sample = Sample { started, finished: begun.elapsed(), status };
                    samples.lock().unwrap_or_else(PoisonError::into_inner).push(sample);
                    if status.is_none() {
                        tokio::time::sleep(Duration::from_millis(10)).await;
                    }
                }
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let stopped_at = begun.elapsed();
    server.stop();
    tokio::time::sleep(down_for).await;
    let restarting_at = begun.elapsed();
    server.restart().await.expect("restart the store");
    let restarted_at = begun.elapsed();
    tokio::time::sleep(Duration::from_secs(2)).await;
    running.store(false, Ordering::Relaxed);
    for task in load {
        task.await.expect("a load task panicked");
    }
    let samples = std::mem::take(&mut *samples.lock().unwrap_or_else(PoisonError::into_inner));
    OutageReport { samples, stopped_at, restarting_at, restarted_at }
}
