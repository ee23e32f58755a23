//! Faults on a real Redis: killed under load, hung, and killed with persistence on.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use http::{Method, StatusCode};
use session_core::Concurrency;
use session_devkit::axum_app::Axum;
use session_redis::{RedisBackend, RedisStorage};
use session_testkit::http_suite::{HttpAdapter, ReferenceApp};
use session_testkit::scenarios::{Sessions, frozen_store_in_flight, steady_load_through_outage};
use session_testkit::{Browser, RedisServer};
use tokio::sync::Mutex;

const TIMEOUT: Duration = Duration::from_millis(500);
/// How long past its deadline a request may be answered: the wake-up of its task on a busy machine.
const MARGIN: Duration = Duration::from_millis(250);

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

/// 64 requests in flight (saves of sessions loaded before, and loads) when Redis freezes: each fails
/// within the timeout and the stated margin, on one session (its saves waiting in one lane) and on
/// many; after SIGCONT, Redis serves again. In both concurrency modes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_frozen_redis_fails_every_request_in_flight_within_the_timeout() {
    for concurrency in [Concurrency::Merge, Concurrency::LastWriterWins] {
        for sessions in [Sessions::One, Sessions::Many] {
            let server = RedisServer::start().await.expect("redis-server");
            let storage = Arc::new(storage(&server).with_concurrency(concurrency));
            let slowest = frozen_store_in_flight(storage, &server, 64, sessions, TIMEOUT + MARGIN).await;
            eprintln!("frozen redis, {concurrency:?}, {sessions:?}: the slowest request took {slowest:?}");
        }
    }
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
