//! Faults on a real memcached: killed under load, hung with more requests than connections.

use std::sync::Arc;
use std::time::Duration;

use memcache::exp::MetaClientBuilder;
use session_core::Concurrency;
use session_devkit::axum_app::Axum;
use session_memcached::{MemcachedBackend, MemcachedStorage};
use session_testkit::MemcachedServer;
use session_testkit::scenarios::{Sessions, frozen_store_in_flight, steady_load_through_outage};

const TIMEOUT: Duration = Duration::from_millis(500);
/// How long past its deadline a request may be answered: the wake-up of its task on a busy machine.
const MARGIN: Duration = Duration::from_millis(250);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn steady_load_through_a_memcached_outage() {
    let mut server = MemcachedServer::start().await.expect("memcached");
    let backend = MemcachedBackend::connect([server.address()]).await.expect("client").with_timeout(TIMEOUT);
    let storage = Arc::new(MemcachedStorage::new(backend));
    let report = steady_load_through_outage(&Axum, storage, &mut server, 8, Duration::from_secs(2)).await;
    report.assert_recovered("memcached", 2 * TIMEOUT + Duration::from_millis(500));
}

/// 64 requests in flight (saves of sessions loaded before, and loads) when memcached freezes, on a
/// client with 4 connections: each fails within the timeout and the stated margin, on one session and
/// on many; after SIGCONT, memcached serves again. In both concurrency modes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_frozen_memcached_fails_every_request_in_flight_within_the_timeout() {
    for concurrency in [Concurrency::Merge, Concurrency::LastWriterWins] {
        for sessions in [Sessions::One, Sessions::Many] {
            let server = MemcachedServer::start().await.expect("memcached");
            let client = MetaClientBuilder::new()
                .max_connections(Some(4))
                .connect_timeout(None)
                .io_timeout(None)
                .connect_async(server.address())
                .await
                .expect("client");
            let backend = MemcachedBackend::from_client(client, vec![server.address()]).with_timeout(TIMEOUT);
            let storage = Arc::new(MemcachedStorage::new(backend).with_concurrency(concurrency));
            let slowest = frozen_store_in_flight(storage, &server, 64, sessions, TIMEOUT + MARGIN).await;
            eprintln!("frozen memcached, {concurrency:?}, {sessions:?}: the slowest request took {slowest:?}");
        }
    }
}
