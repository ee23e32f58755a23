//! A Redis that may evict keys under memory pressure is named once, at the first connection; one that
//! never evicts is not. Alone in its binary: tracing's callsite cache can drop events of one test's
//! scoped subscriber while other tests in the same process log concurrently.

use session_core::server_side::KeyValueBackend;
use session_redis::RedisBackend;
use session_testkit::RedisServer;

/// What a first load through a new backend logs, with `policy` set on the server.
async fn logged_with(policy: &str) -> String {
    let (_guard, logs) = session_devkit::logs::capture();
    let redis = RedisServer::start().await.expect("redis-server");
    redis.command(&format!("CONFIG SET maxmemory-policy {policy}")).await.expect("config set");
    let backend = RedisBackend::from_url(&redis.url()).expect("backend");
    backend.load("AIOHTTP_SESSION_x").await.expect("a load");
    backend.load("AIOHTTP_SESSION_y").await.expect("another");
    logs.text()
}

#[tokio::test(flavor = "current_thread")]
async fn an_evicting_redis_is_named_once_and_noeviction_not_at_all() {
    let evicting = logged_with("allkeys-lru").await;
    let warnings: Vec<&str> = evicting.lines().filter(|line| line.contains("WARN")).collect();
    assert_eq!(warnings.len(), 1, "{evicting}");
    assert!(warnings[0].contains("allkeys-lru") && warnings[0].contains("noeviction"), "{}", warnings[0]);
    let safe = logged_with("noeviction").await;
    assert!(!safe.contains("WARN"), "{safe}");
}
