//! The demo's start-up as a new user meets it: every mistake is one clear line naming what is wrong,
//! and an unreachable store is reported, then served through.

mod common;

use std::time::Duration;

use common::{Demo, refused};
use session_testkit::{Browser, RedisServer};
use tokio::io::{AsyncBufReadExt, BufReader};

const LAST_VISIT: &str = env!("CARGO_BIN_EXE_last_visit");

/// The one `error:` line of a refused start, checked to name `what`.
async fn error_line(args: &[&str], what: &[&str]) -> String {
    let outcome = refused(LAST_VISIT, args).await;
    assert_ne!(outcome.code, Some(0), "{args:?} must not start");
    let lines: Vec<&str> = outcome.stderr.lines().filter(|line| line.starts_with("error:")).collect();
    assert_eq!(lines.len(), 1, "one error line: {}", outcome.stderr);
    for part in what {
        assert!(lines[0].contains(part), "{:?} lacks {part:?}", lines[0]);
    }
    eprintln!("{args:?} → {}", lines[0]);
    lines[0].to_owned()
}

#[tokio::test]
async fn a_cookie_name_that_cannot_be_a_cookie_is_refused_at_start_up() {
    error_line(&["--cookie-name", "bad name;x"], &["\"bad name;x\"", "letters, digits"]).await;
    error_line(&["--cookie-name", "__Host-s"], &["\"__Host-s\"", "Secure"]).await;
}

#[tokio::test]
async fn bad_hosts_ports_urls_and_addresses_name_what_is_wrong() {
    error_line(&["--host", "no.such.host.invalid"], &["no.such.host.invalid"]).await;
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = taken.local_addr().expect("address").port().to_string();
    error_line(&["--port", &port], &[&format!("127.0.0.1:{port}"), "in use"]).await;
    error_line(&["--storage", "redis", "--redis-url", "http://foo"], &["--redis-url", "\"http://foo\""]).await;
    error_line(&["--storage", "memcached", "--memcached", "nohost"], &["\"nohost\"", "host:port"]).await;
    error_line(&["--secret-key", "not-a-key"], &["secret key"]).await;
}

#[tokio::test]
async fn host_names_are_accepted_and_loopback_says_the_cookie_is_not_secure() {
    let demo = Demo::start(LAST_VISIT, &["--host", "localhost"]).await;
    assert!(demo.first_line.contains("without Secure"), "{}", demo.first_line);
    let reply = Browser::new(demo.address).get("/").await;
    let cookie = reply.set_cookie("AIOHTTP_SESSION").expect("a cookie");
    assert!(!cookie.contains("Secure"), "{cookie}");
}

#[tokio::test]
async fn an_unreachable_store_is_reported_once_then_served_through() {
    // A port nothing listens on: Redis is down at start-up.
    let port = std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("address").port();
    let url = format!("redis://127.0.0.1:{port}/");
    let mut demo = Demo::start(LAST_VISIT, &["--storage", "redis", "--redis-url", &url]).await;
    let mut lines = BufReader::new(&mut demo.stderr).lines();
    let mut warning = String::new();
    while let Ok(Ok(Some(line))) = tokio::time::timeout(Duration::from_secs(5), lines.next_line()).await {
        if line.contains("not reachable") {
            warning = line;
            break;
        }
    }
    assert!(warning.contains(&url) && warning.contains("serving anyway"), "{warning:?}");
    assert!(!warning.contains('\u{1b}'), "no colour escapes when stderr is not a terminal: {warning:?}");
    let down = Browser::new(demo.address).get("/").await;
    assert!(down.status.is_server_error());
    // Redis comes up on that port: the same demo serves sessions, no restart.
    let redis = RedisServer::start_on(port).await.expect("redis-server");
    let mut browser = Browser::new(demo.address);
    let mut served = false;
    for _ in 0..20 {
        if browser.get("/").await.status.is_success() {
            served = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(served, "the demo recovered when Redis came up at {}", redis.url());
}

/// A store's password never shows: not in the warning that the store is down, not in the error a
/// request logs, not in the error line of a URL that does not parse.
#[tokio::test]
async fn a_redis_password_is_never_printed() {
    const PASSWORD: &str = "hunter2pass";
    let line = error_line(&["--storage", "redis", "--redis-url", "http://:hunter2pass@foo"], &["--redis-url"]).await;
    assert!(!line.contains(PASSWORD) && line.contains(":***@foo"), "{line}");
    let port = std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("address").port();
    let url = format!("redis://:{PASSWORD}@127.0.0.1:{port}/");
    let mut demo = Demo::start(LAST_VISIT, &["--storage", "redis", "--redis-url", &url]).await;
    assert!(Browser::new(demo.address).get("/").await.status.is_server_error(), "Redis is down");
    let mut lines = BufReader::new(&mut demo.stderr).lines();
    let mut printed = vec![demo.first_line.clone()];
    while let Ok(Ok(Some(line))) = tokio::time::timeout(Duration::from_secs(2), lines.next_line()).await {
        printed.push(line);
    }
    assert!(
        printed.iter().any(|line| line.contains("not reachable") && line.contains(":***@127.0.0.1")),
        "{printed:#?}"
    );
    assert!(printed.iter().any(|line| line.contains("session error")), "the failed request is logged: {printed:#?}");
    assert!(printed.iter().all(|line| !line.contains(PASSWORD)), "{printed:#?}");
}
