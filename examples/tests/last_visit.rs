//! The demo as a new user runs it: the real binary on a free port, a browser with a cookie jar.

mod common;

use std::process::Stdio;
use std::time::Duration;

use common::Demo;
use session_testkit::{Browser, MemcachedServer, PostgresServer, RedisServer};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};
use tokio::process::Command;

const KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

fn last_visit(body: &str) -> Option<f64> {
    let value = body.strip_prefix("Last visited: ").unwrap_or_else(|| panic!("unexpected body {body:?}"));
    (value != "None").then(|| value.parse().expect("a float"))
}

#[tokio::test]
async fn the_demo_remembers_the_last_visit_and_forgets_it_on_logout() {
    let demo = Demo::start(env!("CARGO_BIN_EXE_last_visit"), &["--secret-key", KEY]).await;
    let mut browser = Browser::new(demo.address);
    assert_eq!(last_visit(&browser.get("/").await.body), None);
    let first = browser.get("/").await;
    let stored = last_visit(&first.body).expect("the first visit's time");
    assert!(stored > 1.7e9, "{stored}");
    let second = last_visit(&browser.get("/").await.body).expect("the second visit's time");
    assert!(second >= stored);
    assert_eq!(browser.get("/logout").await.body, "Logged out");
    assert!(browser.jar.is_empty(), "the cookie is deleted");
    assert_eq!(last_visit(&browser.get("/").await.body), None);
}

#[tokio::test]
async fn the_nacl_storage_serves_the_same_demo() {
    let demo = Demo::start(env!("CARGO_BIN_EXE_last_visit"), &["--storage", "nacl", "--secret-key", KEY]).await;
    let mut browser = Browser::new(demo.address);
    assert_eq!(last_visit(&browser.get("/").await.body), None);
    let cookie = browser.jar["AIOHTTP_SESSION"].trim_matches('"').to_owned();
    assert!(!cookie.contains(['-', '_']), "standard base64: {cookie}");
    assert!(last_visit(&browser.get("/").await.body).is_some());
    browser.get("/logout").await;
    assert_eq!(last_visit(&browser.get("/").await.body), None);
}

#[tokio::test]
async fn sessions_survive_a_restart_with_the_same_key() {
    let mut jar = {
        let demo = Demo::start(env!("CARGO_BIN_EXE_last_visit"), &["--secret-key", KEY]).await;
        let mut browser = Browser::new(demo.address);
        browser.get("/").await;
        browser.jar
    };
    let demo = Demo::start(env!("CARGO_BIN_EXE_last_visit"), &["--secret-key", KEY, "--max-age", "3600"]).await;
    let mut browser = Browser::new(demo.address);
    std::mem::swap(&mut browser.jar, &mut jar);
    let reply = browser.get("/").await;
    assert!(last_visit(&reply.body).is_some(), "{}", reply.body);
    assert!(reply.set_cookie("AIOHTTP_SESSION").expect("cookie").contains("Max-Age=3600"));
}

#[tokio::test]
async fn without_a_key_the_demo_warns_that_sessions_end_at_restart() {
    let mut demo = Demo::start(env!("CARGO_BIN_EXE_last_visit"), &["--cookie-name", "DEMO"]).await;
    let mut browser = Browser::new(demo.address);
    browser.get("/").await;
    assert!(browser.jar.contains_key("DEMO"));
    assert!(last_visit(&browser.get("/").await.body).is_some());
    let mut warning = String::new();
    let mut lines = BufReader::new(&mut demo.stderr).lines();
    while let Ok(Ok(Some(line))) = tokio::time::timeout(Duration::from_secs(5), lines.next_line()).await {
        if line.contains("not survive a restart") {
            warning = line;
            break;
        }
    }
    assert!(warning.starts_with("warning: no --secret-key given"), "{warning:?}");
}

#[tokio::test]
async fn the_simple_storage_serves_the_same_demo() {
    let demo = Demo::start(env!("CARGO_BIN_EXE_last_visit"), &["--storage", "simple"]).await;
    let mut browser = Browser::new(demo.address);
    browser.get("/").await;
    let cookie = &browser.jar["AIOHTTP_SESSION"];
    assert!(cookie.starts_with(r#""{\"created\": "#), "{cookie}");
    assert!(last_visit(&browser.get("/").await.body).is_some());
}

#[tokio::test]
async fn a_malformed_key_is_a_clear_error() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_last_visit"))
        .args(["--secret-key", "not-a-key", "--port", "0"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("start last_visit");
    let mut stderr = String::new();
    child.stderr.take().expect("stderr").read_to_string(&mut stderr).await.expect("read");
    let status = child.wait().await.expect("exit");
    assert_eq!(status.code(), Some(2));
    assert!(stderr.contains("secret key"), "{stderr}");
    assert!(!stderr.contains("not-a-key"), "the key is never printed: {stderr}");
    assert!(stderr.contains("visible to every user") && stderr.contains("SESSION_SECRET_KEY"), "{stderr}");
}

#[tokio::test]
async fn the_redis_storage_serves_the_same_demo() {
    let redis = RedisServer::start().await.expect("redis-server");
    let demo =
        Demo::start(env!("CARGO_BIN_EXE_last_visit"), &["--storage", "redis", "--redis-url", &redis.url()]).await;
    let mut browser = Browser::new(demo.address);
    assert_eq!(last_visit(&browser.get("/").await.body), None);
    let id = browser.jar["AIOHTTP_SESSION"].clone();
    assert_eq!(id.len(), 32, "the cookie is the session id: {id}");
    let stored = redis.command(&format!("GET AIOHTTP_SESSION_{id}")).await.expect("GET");
    assert!(stored.contains(r#"{"created": "#) && stored.contains(r#""session": {"last_visit": "#), "{stored}");
    assert!(last_visit(&browser.get("/").await.body).is_some());
    browser.get("/logout").await;
    assert_eq!(redis.command(&format!("EXISTS AIOHTTP_SESSION_{id}")).await.unwrap().trim(), ":0");
}

#[tokio::test]
async fn the_memcached_storage_serves_the_same_demo_over_two_servers() {
    let (first, second) =
        (MemcachedServer::start().await.expect("memcached"), MemcachedServer::start().await.expect("memcached"));
    let servers = format!("{},{}", first.address(), second.address());
    let demo =
        Demo::start(env!("CARGO_BIN_EXE_last_visit"), &["--storage", "memcached", "--memcached", &servers]).await;
    let mut browser = Browser::new(demo.address);
    assert_eq!(last_visit(&browser.get("/").await.body), None);
    let key = format!("AIOHTTP_SESSION_{}", browser.jar["AIOHTTP_SESSION"]);
    let stored = [first.get(&key).await.unwrap(), second.get(&key).await.unwrap()];
    assert_eq!(stored.iter().flatten().count(), 1, "on exactly one of the two servers");
    assert!(last_visit(&browser.get("/").await.body).is_some());
}

/// `--storage sqlite` needs no server: an in-memory database by default.
#[tokio::test]
async fn the_sqlite_storage_serves_the_same_demo_with_no_server() {
    let demo = Demo::start(env!("CARGO_BIN_EXE_last_visit"), &["--storage", "sqlite"]).await;
    let mut browser = Browser::new(demo.address);
    assert_eq!(last_visit(&browser.get("/").await.body), None);
    assert!(last_visit(&browser.get("/").await.body).is_some());
    browser.get("/logout").await;
    assert_eq!(last_visit(&browser.get("/").await.body), None, "logged out");
}

/// `--storage postgres` against a running Postgres: the demo creates its table; the row holds the
/// same payload Redis holds, and a logout deletes it.
#[tokio::test]
async fn the_postgres_storage_serves_the_same_demo() {
    let postgres = PostgresServer::start().await.expect("postgres");
    let demo =
        Demo::start(env!("CARGO_BIN_EXE_last_visit"), &["--storage", "postgres", "--database-url", &postgres.url()])
            .await;
    let mut browser = Browser::new(demo.address);
    assert_eq!(last_visit(&browser.get("/").await.body), None);
    let id = browser.jar["AIOHTTP_SESSION"].clone();
    let row = format!("SELECT convert_from(payload, 'UTF8') FROM sessions WHERE id = 'AIOHTTP_SESSION_{id}'");
    let stored = postgres.query(&row).await.expect("psql");
    assert!(stored.contains(r#"{"created": "#) && stored.contains(r#""session": {"last_visit": "#), "{stored}");
    assert!(last_visit(&browser.get("/").await.body).is_some());
    browser.get("/logout").await;
    assert_eq!(postgres.query(&row).await.expect("psql"), "", "the row is deleted");
}
