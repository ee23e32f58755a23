//! The conformance suite for `RedisStorage` on one real `redis-server`, in both concurrency modes. The
//! probe asks Redis itself (`PTTL`), not the code under test.

use std::sync::Arc;

use session_core::Concurrency;
use session_core::accounts::Devices;
use session_redis::{RedisBackend, RedisStorage};
use session_testkit::{RedisServer, Suite};

async fn suite(concurrency: Concurrency) -> Suite {
    let server = Arc::new(RedisServer::start().await.expect("redis-server"));
    let url = server.url();
    Suite::new(move |config| {
        let backend = RedisBackend::from_url(&url).expect("pool");
        async move { RedisStorage::new(backend).with_concurrency(concurrency).with_config(config) }
    })
    .probe(move |key: String| {
        let server = Arc::clone(&server);
        async move { server.entry(&key).await.expect("PTTL") }
    })
}

session_testkit::conformance_suite!(merging, merging_server_side, suite(Concurrency::Merge));
session_testkit::conformance_suite!(last_writer_wins, server_side, suite(Concurrency::LastWriterWins));

session_testkit::conformance_suite!(devices, devices, async {
    let server = Arc::new(RedisServer::start().await.expect("redis-server"));
    let url = server.url();
    Suite::with_devices(move |config| {
        let (server, backend) = (Arc::clone(&server), RedisBackend::from_url(&url).expect("pool"));
        async move {
            let _alive = server;
            Arc::new(RedisStorage::new(backend).with_config(config)) as Arc<dyn Devices>
        }
    })
});
