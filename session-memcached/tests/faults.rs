//! Faults on a real memcached: killed under load, hung with more requests than connections.

use std::sync::Arc;
use std::time::Duration;

use memcache::exp::MetaClientBuilder;
use session_devkit::axum_app::Axum;
use session_memcached::{MemcachedBackend, MemcachedStorage, MemcachedStorageError};
use session_testkit::MemcachedServer;
use session_testkit::scenarios::{hung_store_loads, steady_load_through_outage};

const TIMEOUT: Duration = Duration::from_millis(500);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn steady_load_through_a_memcached_outage() {
    let mut server = MemcachedServer::start().await.expect("memcached");
    let backend = MemcachedBackend::connect([server.address()]).await.expect("client").with_timeout(TIMEOUT);
    let storage = Arc::new(MemcachedStorage::new(backend));
    let report = steady_load_through_outage(&Axum, storage, &mut server, 8, Duration::from_secs(2)).await;
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
    let backend = MemcachedBackend::from_client(client, vec![server.address()]).with_timeout(TIMEOUT);
    let storage = Arc::new(MemcachedStorage::new(backend));
    let (errors, slowest) = hung_store_loads(storage, &server, 64).await;
    for error in &errors {
        let source = std::error::Error::source(error).and_then(|e| e.downcast_ref::<MemcachedStorageError>());
        assert!(
            matches!(source, Some(MemcachedStorageError::Client { .. } | MemcachedStorageError::Timeout { .. })),
            "{error:?}"
        );
    }
    eprintln!("hung memcached: 64 requests on 4 connections, the last failed after {slowest:?}");
    assert!(slowest < Duration::from_secs(10), "queued requests wait a bounded time, never forever: {slowest:?}");
}
