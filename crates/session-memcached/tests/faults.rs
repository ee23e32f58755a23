//! Faults on a real memcached: killed under load, hung with more requests than connections.

use std::sync::Arc;
use std::time::{Duration, Instant};

use memcache::exp::MetaClientBuilder;
use session_core::AbstractStorage;
use session_memcached::{MemcachedBackend, MemcachedStorage, MemcachedStorageError};
use session_testkit::MemcachedServer;
use session_testkit::scenarios::steady_load_through_outage;

const TIMEOUT: Duration = Duration::from_millis(500);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn steady_load_through_a_memcached_outage() {
    let mut server = MemcachedServer::start().await.expect("memcached");
    let backend = MemcachedBackend::connect_with([server.address()], TIMEOUT).await.expect("client");
    let report =
        steady_load_through_outage(MemcachedStorage::new(backend), &mut server, 8, Duration::from_secs(2)).await;
    report.assert_recovered("memcached", 2 * TIMEOUT + Duration::from_millis(500));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn more_requests_than_connections_on_a_hung_memcached_fail_within_the_timeout() {
    let server = MemcachedServer::start().await.expect("memcached");
    let client = MetaClientBuilder::new()
        .max_connections(Some(4))
        .connect_timeout(Some(TIMEOUT))
        .io_timeout(Some(TIMEOUT))
        .connect_async(server.address())
        .await
        .expect("client");
    let storage: Arc<dyn AbstractStorage> =
        Arc::new(MemcachedStorage::new(MemcachedBackend::from_client(client, vec![server.address()])));
    let id = "0123456789abcdef0123456789abcdef";
    storage.load_session(Some(id)).await.expect("memcached answers");
    server.pause().expect("SIGSTOP");
    // SIGSTOP takes a moment to stop every thread of the server.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let started = Instant::now();
    let loads: Vec<_> = (0..64)
        .map(|_| {
            let storage = Arc::clone(&storage);
            tokio::spawn(async move { (storage.load_session(Some(id)).await, started.elapsed()) })
        })
        .collect();
    let mut slowest = Duration::ZERO;
    for load in loads {
        let (result, elapsed) = load.await.expect("task");
        let error = result.expect_err("memcached is hung");
        let source = std::error::Error::source(&error).and_then(|e| e.downcast_ref::<MemcachedStorageError>());
        assert!(matches!(source, Some(MemcachedStorageError::Client { .. })), "{error:?}");
        slowest = slowest.max(elapsed);
    }
    eprintln!("hung memcached: 64 requests on 4 connections, the last failed after {slowest:?}");
    assert!(slowest < Duration::from_secs(10), "queued requests wait a bounded time, never forever: {slowest:?}");
    server.resume().expect("SIGCONT");
    storage.load_session(Some(id)).await.expect("memcached answers again");
}
