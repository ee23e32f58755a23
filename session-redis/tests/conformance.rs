//! The conformance suite for `RedisStorage` on one real `redis-server`.

use session_redis::{RedisBackend, RedisStorage};
use session_testkit::RedisServer;

session_testkit::conformance_suite! {
    make = {
        let server = RedisServer::start().await.expect("redis-server");
        move |config| {
            let backend = RedisBackend::from_url(&server.url()).expect("pool");
            async move { RedisStorage::new(backend).with_config(config) }
        }
    },
    merges_concurrent_writes = true,
}
