//! The conformance suite for `RedisStorage` on a real three-master Redis Cluster.
#![cfg(feature = "cluster")]

use session_redis::{RedisBackend, RedisStorage};
use session_testkit::RedisCluster;

session_testkit::conformance_suite! {
    make = {
        let cluster = RedisCluster::shared().await.expect("redis cluster");
        move |config| {
            let backend = RedisBackend::from_cluster_urls(cluster.urls()).expect("cluster pool");
            async move { RedisStorage::new(backend).with_config(config) }
        }
    },
    merges_concurrent_writes = true,
}
