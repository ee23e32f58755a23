//! Store failures are logged without the session id (memcached's client puts keys in its errors).
//! Alone in its binary: tracing's callsite cache can drop events of one test's scoped subscriber while
//! other tests in the same process log concurrently.

use std::sync::Arc;
use std::time::Duration;

use session_devkit::axum_app::Axum;
use session_memcached::{MemcachedBackend, MemcachedStorage};
use session_testkit::http_suite::{HttpAdapter, ReferenceApp};
use session_testkit::{Browser, MemcachedServer};

#[tokio::test]
async fn store_failures_are_logged_without_the_session_id() {
    let (_guard, logs) = session_devkit::logs::capture();
    let server = MemcachedServer::start().await.expect("memcached");
    let backend =
        MemcachedBackend::connect([server.address()]).await.expect("client").with_timeout(Duration::from_millis(200));
    let mut browser = Browser::new(Axum.serve(ReferenceApp::new(Arc::new(MemcachedStorage::new(backend)))).await);
    browser.get("/count").await;
    let id = browser.jar["AIOHTTP_SESSION"].clone();
    server.pause().expect("SIGSTOP");
    assert!(browser.get("/count").await.status.is_server_error());
    server.resume().expect("SIGCONT");
    let logged = logs.text();
    let failures: Vec<&str> = logged
        .lines()
        .filter(|line| line.contains("session") || line.contains("ERROR") || line.contains("WARN"))
        .collect();
    assert!(logged.contains("session error") && logged.contains("within 200ms"), "{failures:#?}");
    let leaks: Vec<&str> = logged.lines().filter(|line| line.contains(&id)).collect();
    assert!(leaks.is_empty(), "the session id is a credential and stays out of the logs: {leaks:#?}");
}
