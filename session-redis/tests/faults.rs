//! Faults on a real Redis: killed under load, hung, and killed with persistence on.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use http::{Method, StatusCode};
use session_devkit::axum_app::Axum;
use session_redis::{RedisBackend, RedisStorage, RedisStorageError};
use session_testkit::http_suite::{HttpAdapter, ReferenceApp};
use session_testkit::scenarios::{hung_store_loads, steady_load_through_outage};
use session_testkit::{Browser, RedisServer};
use tokio::sync::Mutex;

const TIMEOUT: Duration = Duration::from_millis(500);

fn storage(server: &RedisServer) -> RedisStorage {
    RedisStorage::new(RedisBackend::from_url(&server.url()).expect("pool").with_timeout(TIMEOUT))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn steady_load_through_a_redis_outage() {
    let mut server = RedisServer::start().await.expect("redis-server");
    let report =
        steady_load_through_outage(&Axum, Arc::new(storage(&server)), &mut server, 8, Duration::from_secs(2)).await;
    report.assert_recovered("redis", 2 * TIMEOUT + Duration::from_millis(500));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hung_redis_fails_every_request_within_the_timeout() {
    let server = RedisServer::start().await.expect("redis-server");
    // Far more concurrent requests than the pool has connections.
    let (errors, last) = hung_store_loads(Arc::new(storage(&server)), &server, 64).await;
    for error in &errors {
        let source = std::error::Error::source(error).and_then(|e| e.downcast_ref::<RedisStorageError>());
        assert!(matches!(source, Some(RedisStorageError::Timeout { .. })), "{error:?}");
    }
    assert!(last < TIMEOUT + Duration::from_millis(700), "all bounded: {last:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_acknowledged_session_survives_a_kill_9_with_appendfsync_always() {
    let mut server = RedisServer::start_persistent().await.expect("redis-server");
    let address = Axum.serve(ReferenceApp::new(Arc::new(storage(&server)))).await;
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
                    let Ok(reply) = browser.try_send(Method::POST, &format!("/items/{item}"), Default::default()).await
                    else {
                        continue;
                    };
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
