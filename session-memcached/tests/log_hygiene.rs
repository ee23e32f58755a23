//! Store failures are logged without the session id (memcached's client puts keys in its errors).
//! Alone in its binary: tracing's callsite cache can drop events of one test's scoped subscriber while
//! other tests in the same process log concurrently.

use std::time::Duration;

use session_memcached::{MemcachedBackend, MemcachedStorage};
use session_testkit::MemcachedServer;

#[tokio::test]
async fn store_failures_are_logged_without_the_session_id() {
    let (_guard, logs) = session_testkit::logs::capture();
    let server = MemcachedServer::start().await.expect("memcached");
    let backend = MemcachedBackend::connect_with([server.address()], Duration::from_millis(200)).await.expect("client");
    let mut browser = session_testkit::Browser::new(
        session_testkit::scenarios::serve(session_testkit::scenarios::counter_app(MemcachedStorage::new(backend)))
            .await,
    );
    browser.get("/").await;
    let id = browser.jar["AIOHTTP_SESSION"].clone();
    server.pause().expect("SIGSTOP");
    assert_eq!(browser.get("/").await.status, 500);
    server.resume().expect("SIGCONT");
    let logged = logs.text();
    let failures: Vec<&str> = logged
        .lines()
        .filter(|line| line.contains("session") || line.contains("ERROR") || line.contains("WARN"))
        .collect();
    assert!(logged.contains("session store failed") && logged.contains("timed out"), "{failures:#?}");
    let leaks: Vec<&str> = logged.lines().filter(|line| line.contains(&id)).collect();
    assert!(leaks.is_empty(), "the session id is a credential and stays out of the logs: {leaks:#?}");
}
