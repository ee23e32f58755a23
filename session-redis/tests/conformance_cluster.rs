//! The conformance suite for `RedisStorage` on a real three-master Redis Cluster, in both concurrency
//! modes.
#![cfg(feature = "cluster")]

use session_core::Concurrency;
use session_core::accounts::Devices;
use session_redis::{RedisBackend, RedisStorage};
use session_testkit::{RedisCluster, Suite};

async fn suite(concurrency: Concurrency) -> Suite {
    let cluster = RedisCluster::shared().await.expect("redis cluster");
    let urls = cluster.urls();
    Suite::new(move |config| {
        let backend = RedisBackend::from_cluster_urls(urls.clone()).expect("cluster pool");
        async move { RedisStorage::new(backend).with_concurrency(concurrency).with_config(config) }
    })
    .probe(move |key: String| {
        let cluster = cluster.clone();
        async move { cluster.entry(&key).await.expect("PTTL") }
    })
}

session_testkit::conformance_suite!(cluster_merging, merging_server_side, suite(Concurrency::Merge));
session_testkit::conformance_suite!(cluster_last_writer_wins, server_side, suite(Concurrency::LastWriterWins));

session_testkit::conformance_suite!(cluster_devices, devices, async {
    let cluster = RedisCluster::shared().await.expect("redis cluster");
    Suite::with_devices(move |config| {
        let backend = RedisBackend::from_cluster_urls(cluster.urls()).expect("cluster pool");
        async move { std::sync::Arc::new(RedisStorage::new(backend).with_config(config)) as std::sync::Arc<dyn Devices> }
    })
});
