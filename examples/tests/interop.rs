//! Live wire compatibility with Python aiohttp-session 2.12.1: each of our demos (`last_visit` on axum,
//! `last_visit_actix` on actix-web) and the same demo on the real library (interop/app.py) share one
//! browser's cookie (and one Redis or memcached), for every storage, in both directions.
//!
//! The Python peer runs in a virtualenv under target/ that interop/setup makes from
//! interop/requirements.txt. Run this test alone with `cargo test -p examples --test interop`.

mod common;

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;

use common::Demo;
use session_devkit::vectors::KEY_BASE64;
use session_testkit::{Browser, MemcachedServer, RedisServer};

const INTEROP: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../interop");

/// The virtualenv's python, made by interop/setup on first use; `None` only when scripts/test found
/// no python3 and said so (SESSION_INTEROP=skip).
fn python() -> Option<&'static PathBuf> {
    static PYTHON: OnceLock<Option<PathBuf>> = OnceLock::new();
    PYTHON
        .get_or_init(|| {
            if std::env::var("SESSION_INTEROP").as_deref() == Ok("skip") {
                eprintln!("SESSION_INTEROP=skip: the live Python interop test does not run");
                return None;
            }
            let output = std::process::Command::new(format!("{INTEROP}/setup"))
                .output()
                .expect("run interop/setup (needs python3 with venv and pip)");
            assert!(output.status.success(), "interop/setup failed:\n{}", String::from_utf8_lossy(&output.stderr));
            Some(PathBuf::from(String::from_utf8(output.stdout).expect("a path").trim()))
        })
        .as_ref()
}

/// One of our demo binaries: the same flags, routes and answers on each framework.
#[derive(Clone, Copy, PartialEq)]
struct Binary {
    name: &'static str,
    path: &'static str,
}

/// Shown by name in assertion messages.
impl fmt::Debug for Binary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name)
    }
}

const LAST_VISIT: Binary = Binary { name: "last_visit", path: env!("CARGO_BIN_EXE_last_visit") };
const LAST_VISIT_ACTIX: Binary = Binary { name: "last_visit_actix", path: env!("CARGO_BIN_EXE_last_visit_actix") };

#[derive(Clone, Copy, Debug, PartialEq)]
enum Side {
    Python,
    Rust(Binary),
}

/// The servers a storage needs, and the flags that point both apps at them.
struct Backend {
    flags: Vec<String>,
    _redis: Option<RedisServer>,
    _memcached: Option<MemcachedServer>,
}

impl Backend {
    async fn start(storage: &str, max_age: Option<u64>) -> Backend {
        let mut flags: Vec<String> = vec!["--storage".into(), storage.into(), "--secret-key".into(), KEY_BASE64.into()];
        if let Some(max_age) = max_age {
            flags.extend(["--max-age".into(), max_age.to_string()]);
        }
        let (mut redis, mut memcached) = (None, None);
        match storage {
            "redis" => {
                let server = RedisServer::start().await.expect("redis-server");
                flags.extend(["--redis-url".into(), server.url()]);
                redis = Some(server);
            }
            "memcached" => {
                let server = MemcachedServer::start().await.expect("memcached");
                flags.extend(["--memcached".into(), server.address()]);
                memcached = Some(server);
            }
            _ => {}
        }
        Backend { flags, _redis: redis, _memcached: memcached }
    }

    async fn app(&self, side: Side, python: &Path) -> Demo {
        self.app_with(side, python, &[]).await
    }

    /// The app of `side` with `extra` flags besides the backend's.
    async fn app_with(&self, side: Side, python: &Path, extra: &[&str]) -> Demo {
        let flags: Vec<&str> = self.flags.iter().map(String::as_str).chain(extra.iter().copied()).collect();
        match side {
            Side::Rust(binary) => Demo::start(binary.path, &flags).await,
            Side::Python => {
                let app = format!("{INTEROP}/app.py");
                let args: Vec<&str> = std::iter::once(app.as_str()).chain(flags).collect();
                Demo::start(python.to_str().expect("UTF-8 path"), &args).await
            }
        }
    }
}

/// What `GET /` said about the previous visit.
fn last_visit(body: &str) -> Option<String> {
    let value = body.strip_prefix("Last visited: ").unwrap_or_else(|| panic!("unexpected body {body:?}"));
    (value != "None").then(|| value.to_owned())
}

/// One browser alternates between the two apps: each must show the time the other stored. Then the
/// second app logs out and the first sees a new session; for server-side storages, the logged-out id
/// replayed to the first app finds nothing either.
async fn share_a_session(storage: &str, first: Side, second: Side) {
    let Some(python) = python() else { return };
    let backend = Backend::start(storage, None).await;
    let (a, b) = (backend.app(first, python).await, backend.app(second, python).await);
    let mut browser = Browser::new(a.address);

    let mut seen = Vec::new();
    for (step, app) in [&a, &b, &a, &b].into_iter().enumerate() {
        browser.set_address(app.address);
        let reply = browser.get("/").await;
        assert_eq!(reply.status, 200, "{storage}: step {step}: {}", reply.body);
        seen.push(last_visit(&reply.body));
    }
    assert_eq!(seen[0], None, "{storage}: the first visit starts a session");
    let times: Vec<f64> = seen[1..]
        .iter()
        .map(|time| {
            time.as_deref().unwrap_or_else(|| panic!("{storage}: {first:?} first: a visit lost the session: {seen:?}"))
        })
        .map(|time| time.parse().expect("a float"))
        .collect();
    assert!(times.windows(2).all(|pair| pair[0] < pair[1]), "{storage}: each app read the other's write: {seen:?}");

    let before_logout = browser.jar.clone();
    browser.set_address(b.address);
    assert_eq!(browser.get("/logout").await.body, "Logged out");
    browser.set_address(a.address);
    assert_eq!(
        last_visit(&browser.get("/").await.body),
        None,
        "{storage}: {second:?}'s logout ends the session for {first:?}"
    );
    if matches!(storage, "redis" | "memcached") {
        browser.jar = before_logout;
        assert_eq!(last_visit(&browser.get("/").await.body), None, "{storage}: a replayed id after logout is new");
    }
}

/// A Fernet cookie from one app is refused by the other once the TTL (max_age) has passed.
async fn fernet_ttl_is_enforced_by_the_other_side(writer: Side, reader: Side) {
    let Some(python) = python() else { return };
    let backend = Backend::start("encrypted", Some(1)).await;
    let (w, r) = (backend.app(writer, python).await, backend.app(reader, python).await);
    let mut browser = Browser::new(w.address);
    browser.get("/").await;
    browser.set_address(r.address);
    let jar = browser.jar.clone();
    assert!(last_visit(&browser.get("/").await.body).is_some(), "within the TTL the token is good");
    browser.jar = jar;
    tokio::time::sleep(Duration::from_millis(2200)).await;
    assert_eq!(last_visit(&browser.get("/").await.body), None, "{reader:?} refuses {writer:?}'s expired token");
}

/// A read on our app, past the refresh interval (half the idle timeout), saves the session again: a
/// re-sealed cookie or a rewritten entry with a fresh `created` (and TTL). Python, which judges a
/// session by `created` + `max_age`, then finds it alive at a time when its own write alone would
/// have expired.
async fn a_read_refresh_keeps_the_session_alive_for_python(storage: &str, binary: Binary) {
    let Some(python) = python() else { return };
    let backend = Backend::start(storage, None).await;
    let py = backend.app_with(Side::Python, python, &["--max-age", "3"]).await;
    let ours = backend.app_with(Side::Rust(binary), python, &["--idle-timeout", "3"]).await;
    let mut browser = Browser::new(py.address);
    assert_eq!(last_visit(&browser.get("/").await.body), None, "{storage}: Python starts the session");
    tokio::time::sleep(Duration::from_secs(2)).await;
    browser.set_address(ours.address);
    let read = browser.get("/peek").await;
    assert!(last_visit(&read.body).is_some(), "{storage}: {binary:?} reads Python's session: {}", read.body);
    tokio::time::sleep(Duration::from_secs(2)).await;
    browser.set_address(py.address);
    let later = browser.get("/").await;
    assert!(
        last_visit(&later.body).is_some(),
        "{storage}: 4 s after Python's write (max_age 3) the session is alive thanks to {binary:?}'s refresh: {}",
        later.body
    );
}

/// The `Cookie` headers of one request that carries the session cookie `ours` (`name=value`) beside
/// other cookies of any bytes: UTF-8 text, a lone Latin-1 byte, invalid UTF-8, and the cookies split
/// over two headers (as HTTP/2 clients send them), ours first, in the middle or last.
fn cookie_headers_with_any_bytes(ours: &str) -> Vec<(&'static str, Vec<Vec<u8>>)> {
    let ours = ours.as_bytes();
    let joined = |parts: &[&[u8]]| parts.join(&b"; "[..]);
    vec![
        ("UTF-8 after ours", vec![joined(&[ours, "lang=français".as_bytes()])]),
        ("Latin-1 byte after ours", vec![joined(&[ours, b"lang=fran\xe7ais"])]),
        ("invalid UTF-8 after ours", vec![joined(&[ours, b"junk=\xff\xfe\xc3"])]),
        ("UTF-8 before ours", vec![joined(&["theme=été".as_bytes(), ours])]),
        ("ours in a second Cookie header", vec![b"lang=fran\xe7ais".to_vec(), ours.to_vec()]),
    ]
}

/// A differential against Python aiohttp-session on the same store: a session written by one app is
/// found by both from a request whose other cookies hold any bytes, whenever aiohttp finds it; and
/// ours never finds a session aiohttp does not.
async fn other_cookies_of_any_bytes_keep_the_session_as_in_python(storage: &str, binary: Binary) {
    let Some(python) = python() else { return };
    let backend = Backend::start(storage, None).await;
    let (rust, py) = (backend.app(Side::Rust(binary), python).await, backend.app(Side::Python, python).await);
    let mut browser = Browser::new(rust.address);
    assert_eq!(browser.get("/").await.status, 200);
    let (name, value) = browser.jar.iter().next().expect("a session cookie");
    let ours = format!("{name}={value}");
    for (case, headers) in cookie_headers_with_any_bytes(&ours) {
        let headers: Vec<&[u8]> = headers.iter().map(Vec::as_slice).collect();
        let mut found = Vec::new();
        for app in [&py, &rust] {
            browser.set_address(app.address);
            let reply = browser.get_with_cookie_headers("/peek", &headers).await;
            assert_eq!(reply.status, 200, "{storage}, {case}: {}", reply.body);
            found.push(last_visit(&reply.body).is_some());
        }
        assert!(found[1], "{storage}, {case}: {binary:?} lost the session (aiohttp found it: {})", found[0]);
        if case != "ours in a second Cookie header" {
            // aiohttp reads only one `Cookie` header's worth of text; where its reading covers the case,
            // both must agree.
            assert_eq!(found[0], found[1], "{storage}, {case}: aiohttp and {binary:?} disagree");
        }
    }
}

/// Every scenario against one of our binaries, both directions: a module of tests per binary.
macro_rules! interop_tests {
    ($module:ident, $binary:expr) => {
        mod $module {
            use super::*;

            const RUST: Side = Side::Rust($binary);

            #[tokio::test]
            async fn simple_python_then_rust() {
                share_a_session("simple", Side::Python, RUST).await;
            }

            #[tokio::test]
            async fn simple_rust_then_python() {
                share_a_session("simple", RUST, Side::Python).await;
            }

            #[tokio::test]
            async fn encrypted_python_then_rust() {
                share_a_session("encrypted", Side::Python, RUST).await;
            }

            #[tokio::test]
            async fn encrypted_rust_then_python() {
                share_a_session("encrypted", RUST, Side::Python).await;
            }

            #[tokio::test]
            async fn nacl_python_then_rust() {
                share_a_session("nacl", Side::Python, RUST).await;
            }

            #[tokio::test]
            async fn nacl_rust_then_python() {
                share_a_session("nacl", RUST, Side::Python).await;
            }

            #[tokio::test]
            async fn redis_python_then_rust() {
                share_a_session("redis", Side::Python, RUST).await;
            }

            #[tokio::test]
            async fn redis_rust_then_python() {
                share_a_session("redis", RUST, Side::Python).await;
            }

            #[tokio::test]
            async fn memcached_python_then_rust() {
                share_a_session("memcached", Side::Python, RUST).await;
            }

            #[tokio::test]
            async fn memcached_rust_then_python() {
                share_a_session("memcached", RUST, Side::Python).await;
            }

            #[tokio::test]
            async fn encrypted_read_refresh_is_alive_for_python() {
                a_read_refresh_keeps_the_session_alive_for_python("encrypted", $binary).await;
            }

            #[tokio::test]
            async fn redis_read_refresh_is_alive_for_python() {
                a_read_refresh_keeps_the_session_alive_for_python("redis", $binary).await;
            }

            #[tokio::test]
            async fn other_cookies_of_any_bytes_as_in_python_encrypted() {
                other_cookies_of_any_bytes_keep_the_session_as_in_python("encrypted", $binary).await;
            }

            #[tokio::test]
            async fn other_cookies_of_any_bytes_as_in_python_redis() {
                other_cookies_of_any_bytes_keep_the_session_as_in_python("redis", $binary).await;
            }

            #[tokio::test]
            async fn fernet_token_from_python_expires_for_rust() {
                fernet_ttl_is_enforced_by_the_other_side(Side::Python, RUST).await;
            }

            #[tokio::test]
            async fn fernet_token_from_rust_expires_for_python() {
                fernet_ttl_is_enforced_by_the_other_side(RUST, Side::Python).await;
            }
        }
    };
}

interop_tests!(axum, LAST_VISIT);
interop_tests!(actix, LAST_VISIT_ACTIX);
