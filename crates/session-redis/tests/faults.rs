//! Faults on a real Redis: killed under load, hung, and killed with persistence on.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use http::{Method, StatusCode};
use session_core::AbstractStorage;
use session_redis::{RedisBackend, RedisStorage, RedisStorageError};
use session_testkit::scenarios::{items_app, serve, steady_load_through_outage};
use session_testkit::{Browser, RedisServer};
use tokio::sync::Mutex;

const TIMEOUT: Duration = Duration::from_millis(500);

fn storage(server: &RedisServer) -> RedisStorage {
    RedisStorage::new(RedisBackend::from_url(&server.url()).expect("pool").with_timeout(TIMEOUT))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn steady_load_through_a_redis_outage() {
    let mut server = RedisServer::start().await.expect("redis-server");
    let report = steady_load_through_outage(storage(&server), &mut server, 8, Duration::from_secs(2)).await;
    report.assert_recovered("redis", 2 * TIMEOUT + Duration::from_millis(500));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hung_redis_fails_every_request_within_the_timeout() {
    let server = RedisServer::start().await.expect("redis-server");
    let storage: Arc<dyn AbstractStorage> = Arc::new(storage(&server));
    let id = "0123456789abcdef0123456789abcdef";
    storage.load_session(Some(id)).await.expect("Redis answers");
    server.pause().expect("SIGSTOP");
    // SIGSTOP takes a moment to stop every thread of the server.
    tokio::time::sleep(Duration::from_millis(100)).await;
    // Far more concurrent requests than the pool has connections.
    let started = Instant::now();
    let loads: Vec<_> = (0..64)
        .map(|_| {
            let storage = Arc::clone(&storage);
            tokio::spawn(async move { storage.load_session(Some(id)).await })
        })
        .collect();
    for load in loads {
        let error = load.await.expect("task").expect_err("Redis is hung");
        let source = std::error::Error::source(&error).and_then(|e| e.downcast_ref::<RedisStorageError>());
        assert!(matches!(source, Some(RedisStorageError::Timeout { .. })), "{error:?}");
    }
    assert!(started.elapsed() < TIMEOUT + Duration::from_millis(700), "all bounded: {:?}", started.elapsed());
    server.resume().expect("SIGCONT");
    storage.load_session(Some(id)).await.expect("Redis answers again");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_acknowledged_session_survives_a_kill_9_with_appendfsync_always() {
    let mut server = RedisServer::start_persistent().await.expect("redis-server");
    let address = serve(items_app(storage(&server))).await;
    let running = Arc::new(AtomicBool::new(true));
    let acknowledged = Arc::new(Mutex::new(Vec::new()));
    let creators: Vec<_> = (0..8)
        .map(|worker| {
            let (running, acknowledged) = (Arc::clone(&running), Arc::clone(&acknowledged));
            tokio::spawn(async move {
                let mut n = 0;
                while running.load(Ordering::Relaxed) {
                    let mut browser = Browser::new(address);
                    let item = format!("w{worker}-{n}");
                    n += 1;
                    let Ok(reply) = browser.try_send(Method::POST, &format!("/items/{item}")).await else { continue };
                    if reply.status == StatusCode::OK && reply.set_cookie("AIOHTTP_SESSION").is_some() {
                        acknowledged.lock().await.push(browser.jar);
                    }
                }
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(800)).await;
    server.stop(); // SIGKILL, mid-load
    server.restart().await.expect("restart from the append-only file");
    tokio::time::sleep(Duration::from_millis(200)).await;
    running.store(false, Ordering::Relaxed);
    for creator in creators {
        creator.await.expect("creator");
    }
    let acknowledged = std::mem::take(&mut *acknowledged.lock().await);
    eprintln!("redis kill -9: {} acknowledged sessions checked after the restart", acknowledged.len());
    assert!(acknowledged.len() > 50, "enough sessions were saved to mean something");
    for jar in acknowledged {
        let mut browser = Browser::new(address);
        browser.jar = jar;
        assert_eq!(browser.get("/items").await.body, "1", "an acknowledged session was lost");
    }
}
