//! The session layer's counters and store-time histogram (session-core's `metrics` feature), seen by a
//! recording `metrics` recorder while requests go through real Redis: loads, saves, a conflict
//! between two processes, a retry, a timeout against a frozen server, a store error against a stopped
//! one, and both kinds of log-out. No label holds an id or a user.
//!
//! `cargo test -p session-redis --features session-core/metrics --test metrics`

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use metrics::{Counter, Gauge, Histogram, HistogramFn, Key, KeyName, Metadata, Recorder, SharedString, Unit};
use session_core::{AbstractStorage, Concurrency};
use session_redis::{RedisBackend, RedisStorage};
use session_testkit::{RedisServer, TestClient};

/// Every counter's total and every histogram's number of samples, by name and labels.
#[derive(Clone, Default)]
struct Recording {
    counters: Arc<Mutex<BTreeMap<String, Arc<AtomicU64>>>>,
    histograms: Arc<Mutex<BTreeMap<String, Arc<Samples>>>>,
}

#[derive(Default)]
struct Samples(AtomicU64);

impl HistogramFn for Samples {
    fn record(&self, value: f64) {
        assert!(value.is_finite() && value >= 0.0, "a store time of {value} s");
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// `name{label=value,…}`.
fn describe(key: &Key) -> String {
    let labels: Vec<String> = key.labels().map(|label| format!("{}={}", label.key(), label.value())).collect();
    format!("{}{{{}}}", key.name(), labels.join(","))
}

impl Recording {
    fn counter(&self, name: &str) -> u64 {
        self.counters.lock().unwrap().get(name).map_or(0, |count| count.load(Ordering::SeqCst))
    }

    fn samples(&self, name: &str) -> u64 {
        self.histograms.lock().unwrap().get(name).map_or(0, |samples| samples.0.load(Ordering::SeqCst))
    }

    fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.counters.lock().unwrap().keys().cloned().collect();
        names.extend(self.histograms.lock().unwrap().keys().cloned());
        names
    }
}

impl Recorder for Recording {
    fn describe_counter(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_gauge(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_histogram(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}

    fn register_counter(&self, key: &Key, _: &Metadata<'_>) -> Counter {
        let mut counters = self.counters.lock().unwrap();
        Counter::from_arc(Arc::clone(counters.entry(describe(key)).or_default()))
    }

    fn register_gauge(&self, _: &Key, _: &Metadata<'_>) -> Gauge {
        Gauge::noop()
    }

    fn register_histogram(&self, key: &Key, _: &Metadata<'_>) -> Histogram {
        let mut histograms = self.histograms.lock().unwrap();
        Histogram::from_arc(Arc::clone(histograms.entry(describe(key)).or_default()))
    }
}

fn storage(server: &RedisServer, timeout: Duration) -> Arc<dyn AbstractStorage> {
    let backend = RedisBackend::from_url(&server.url()).expect("backend").with_timeout(timeout);
    Arc::new(RedisStorage::new(backend).with_concurrency(Concurrency::Merge))
}

#[test]
fn counters_move_for_loads_saves_a_conflict_a_timeout_a_store_error_and_log_outs() {
    let recording = Recording::default();
    // A recorder of this thread alone, and a runtime on this thread: other tests cannot add to it.
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let secrets = metrics::with_local_recorder(&recording, || runtime.block_on(requests(&recording)));
    for name in recording.names() {
        for secret in &secrets {
            assert!(!name.contains(secret.as_str()), "{name} holds {secret}");
        }
    }
}

/// Runs the requests, checking the counts after each; answers the ids and users they used.
async fn requests(recording: &Recording) -> Vec<String> {
    let mut server = RedisServer::start().await.expect("redis-server");
    let (one, other) = (storage(&server, Duration::from_secs(2)), storage(&server, Duration::from_secs(2)));

    // A first visit: a new session, saved.
    let mut browser = TestClient::new(Arc::clone(&one));
    browser.login("alice@example.com").await.expect("login");
    assert_eq!(recording.counter("session_loads_total{outcome=new}"), 1);
    assert_eq!(recording.counter("session_saves_total{outcome=set}"), 1);
    assert_eq!(
        (recording.samples("session_store_seconds{op=load}"), recording.samples("session_store_seconds{op=save}")),
        (1, 1)
    );
    let id = browser.cookie().expect("a cookie").to_owned();

    // Two processes write the session at once: the second's compare-and-set finds the first's write.
    let mut elsewhere = TestClient::new(Arc::clone(&other));
    elsewhere.set_cookie(Some(id.clone()));
    let (here, there) = (browser.begin().await.expect("load"), elsewhere.begin().await.expect("load"));
    assert_eq!(recording.counter("session_loads_total{outcome=loaded}"), 2);
    here.with(|session| session.insert("here", 1)).unwrap().unwrap();
    there.with(|session| session.insert("there", 2)).unwrap().unwrap();
    here.finish().await.expect("first save");
    assert_eq!(recording.counter("session_conflicts_total{}"), 0);
    there.finish().await.expect("second save, merged");
    assert_eq!(recording.counter("session_conflicts_total{}"), 1);
    assert_eq!(recording.counter("session_retries_total{}"), 1);
    assert_eq!(recording.counter("session_saves_total{outcome=set}"), 3);

    // A frozen Redis: the request's deadline passes.
    let impatient = storage(&server, Duration::from_millis(200));
    let mut waiting = TestClient::new(Arc::clone(&impatient));
    waiting.set_cookie(Some(id.clone()));
    waiting.begin().await.expect("a connection before the freeze");
    server.pause().expect("SIGSTOP");
    let frozen = waiting.begin().await.err();
    server.resume().expect("SIGCONT");
    assert!(matches!(frozen, Some(session_core::Error::Timeout { .. })), "{frozen:?}");
    assert_eq!(recording.counter("session_timeouts_total{}"), 1);
    assert_eq!(recording.counter("session_loads_total{outcome=error}"), 1);

    // Log out here, and the user everywhere.
    let leaving = browser.begin().await.expect("load");
    leaving.with(|session| session.invalidate()).unwrap();
    leaving.finish().await.expect("logout");
    assert_eq!(recording.counter("session_saves_total{outcome=removed}"), 1);
    assert_eq!(recording.counter("session_logouts_total{scope=session}"), 1);
    one.log_out_everywhere("alice@example.com").await.expect("log out everywhere");
    assert_eq!(recording.counter("session_logouts_total{scope=everywhere}"), 1);

    // A stopped Redis: a store error, not a timeout.
    server.stop();
    let down = TestClient::new(storage(&server, Duration::from_secs(2)));
    assert!(down.begin().await.is_ok(), "no cookie: nothing to load from the store");
    let mut down = down;
    down.set_cookie(Some(id.clone()));
    assert!(down.begin().await.is_err(), "Redis is down");
    assert_eq!(recording.counter("session_store_errors_total{}"), 1);
    assert_eq!(recording.counter("session_timeouts_total{}"), 1);
    vec![id, "alice".to_owned()]
}
