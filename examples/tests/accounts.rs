//! The accounts demo as a user runs it: two devices of one user listed and one ended, remember-me,
//! log out everywhere on Redis, memcached and the encrypted cookie with `--revocation`; a storage that
//! cannot answers 501 with what to run instead.

mod common;

use common::Demo;
use http::Method;
use session_testkit::{Browser, MemcachedServer, RedisServer};

const COOKIE: &str = "AIOHTTP_SESSION";

async fn logged_in(demo: &Demo, user: &str) -> Browser {
    let mut browser = Browser::new(demo.address);
    let reply = browser.send(Method::POST, &format!("/login/{user}")).await;
    assert_eq!(reply.body, format!("Logged in as {user}\n"));
    browser
}

async fn whoami(browser: &mut Browser) -> String {
    browser.get("/whoami").await.body.trim_end().to_owned()
}

#[tokio::test]
async fn devices_are_listed_and_ended_one_by_one_on_redis() {
    let redis = RedisServer::start().await.expect("redis-server");
    let demo = Demo::start(env!("CARGO_BIN_EXE_accounts"), &["--storage", "redis", "--redis-url", &redis.url()]).await;
    let mut laptop = logged_in(&demo, "alice").await;
    let mut phone = logged_in(&demo, "alice").await;
    let mut bob = logged_in(&demo, "bob").await;
    let listed = laptop.get("/devices").await.body;
    let lines: Vec<&str> = listed.lines().collect();
    assert_eq!(lines.len(), 2, "alice's two devices, not bob's: {listed}");
    assert_eq!(lines.iter().filter(|line| line.ends_with("(this device)")).count(), 1, "{listed}");
    let other = lines.iter().find(|line| !line.ends_with("(this device)")).expect("the phone");
    let phone_id = other.split(' ').next().expect("an id");
    assert_eq!(bob.send(Method::POST, &format!("/devices/{phone_id}/end")).await.status, 404, "not bob's device");
    assert_eq!(laptop.send(Method::POST, &format!("/devices/{phone_id}/end")).await.body, "Ended\n");
    assert_eq!(whoami(&mut phone).await, "nobody");
    assert_eq!(whoami(&mut laptop).await, "alice");
    assert_eq!(laptop.get("/devices").await.body.lines().count(), 1);

    let remembered = laptop.send(Method::POST, "/remember-me").await;
    let cookie = remembered.set_cookie(COOKIE).expect("a new cookie");
    assert!(cookie.contains("Max-Age=2592000"), "30 days: {cookie}");
    assert_eq!(laptop.send(Method::POST, "/logout-everywhere").await.body, "Logged out everywhere\n");
    assert_eq!(whoami(&mut laptop).await, "nobody");
    assert_eq!(whoami(&mut bob).await, "bob", "another user's session lives");
    let mut later = logged_in(&demo, "alice").await;
    assert_eq!(whoami(&mut later).await, "alice", "a later login lives");
}

/// Log out everywhere on a storage, and what the device routes answer there (501 without a list).
async fn logs_out_everywhere(flags: &[&str]) {
    let demo = Demo::start(env!("CARGO_BIN_EXE_accounts"), flags).await;
    let (mut laptop, mut phone) = (logged_in(&demo, "alice").await, logged_in(&demo, "alice").await);
    let devices = laptop.get("/devices").await;
    assert_eq!(devices.status, 501, "{}", devices.body);
    assert_eq!(phone.send(Method::POST, "/logout-everywhere").await.body, "Logged out everywhere\n");
    assert_eq!((whoami(&mut laptop).await, whoami(&mut phone).await), ("nobody".into(), "nobody".into()));
    let mut later = logged_in(&demo, "alice").await;
    assert_eq!(whoami(&mut later).await, "alice", "a later login lives");
}

#[tokio::test]
async fn memcached_logs_out_everywhere() {
    let memcached = MemcachedServer::start().await.expect("memcached");
    logs_out_everywhere(&["--storage", "memcached", "--memcached", &memcached.address()]).await;
}

#[tokio::test]
async fn an_encrypted_cookie_with_revocation_logs_out_everywhere() {
    let redis = RedisServer::start().await.expect("redis-server");
    logs_out_everywhere(&["--storage", "encrypted", "--revocation", "--redis-url", &redis.url()]).await;
}

#[tokio::test]
async fn an_encrypted_cookie_without_revocation_says_what_to_run() {
    let demo = Demo::start(env!("CARGO_BIN_EXE_accounts"), &["--storage", "encrypted"]).await;
    let mut browser = logged_in(&demo, "alice").await;
    let reply = browser.send(Method::POST, "/logout-everywhere").await;
    assert_eq!(reply.status, 501);
    assert!(reply.body.contains("--revocation"), "{}", reply.body);
    assert_eq!(whoami(&mut browser).await, "alice");
    assert_eq!(browser.send(Method::POST, "/logout").await.body, "Logged out\n");
    assert_eq!(whoami(&mut browser).await, "nobody");
}
