//! Expiry on the database's clock: the reaper deletes a large table's expired rows in bounded batches
//! while loads of live sessions keep answering, and app processes whose clocks disagree by minutes
//! write rows that expire at the same moment of the database's clock.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use session_core::server_side::{Condition, KeyValueBackend};
use session_core::{AbstractStorage, ManualClock, StorageConfig};
use session_sql::{SqlBackend, SqlStorage};
use session_testkit::{PostgresServer, TestClient};

const EXPIRED_ROWS: u64 = 100_000;
const BATCH: u32 = 5_000;

/// 100,000 expired rows go in batches of 5,000 while a browser keeps loading its live session; the
/// slowest of those loads is printed (and bounded: a sweep that locked the table would stall them).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_reaper_empties_a_large_table_in_batches_while_loads_answer() {
    let server = PostgresServer::start().await.expect("postgres");
    let backend = SqlBackend::connect_lazy(&server.url()).expect("backend");
    backend.migrate().await.expect("migrate");
    server
        .query(&format!(
            "INSERT INTO sessions (id, payload, version, expires_at) \
             SELECT 'AIOHTTP_SESSION_expired' || g, '{{}}'::bytea, 0, now() - interval '1 minute' \
             FROM generate_series(1, {EXPIRED_ROWS}) AS g"
        ))
        .await
        .expect("expired rows");

    let storage: Arc<dyn AbstractStorage> = Arc::new(SqlStorage::new(backend.clone()));
    let mut browser = TestClient::new(Arc::clone(&storage));
    browser.login("alice").await.expect("a live session");

    let sweeping = Arc::new(AtomicBool::new(true));
    let loads = {
        let sweeping = Arc::clone(&sweeping);
        tokio::spawn(async move {
            let (mut slowest, mut count) = (Duration::ZERO, 0);
            while sweeping.load(Ordering::SeqCst) {
                let started = Instant::now();
                let session = browser.session().await.expect("a load during the sweep");
                assert_eq!(
                    session.get_value("user").and_then(|user| user.as_str().map(str::to_owned)).as_deref(),
                    Some("alice")
                );
                slowest = slowest.max(started.elapsed());
                count += 1;
            }
            (slowest, count)
        })
    };
    let started = Instant::now();
    let deleted = backend.purge_expired(BATCH).await.expect("purge");
    let sweep = started.elapsed();
    sweeping.store(false, Ordering::SeqCst);
    let (slowest, count) = loads.await.expect("loads");
    eprintln!("reaper: {deleted} rows in {sweep:?}; {count} loads meanwhile, the slowest {slowest:?}");
    assert_eq!(deleted, EXPIRED_ROWS);
    assert_eq!(server.query("SELECT count(*) FROM sessions").await.expect("count"), "1", "only the live row is left");
    assert!(count > 0, "loads ran during the sweep");
    assert!(slowest < Duration::from_secs(1), "a load waited {slowest:?} for the sweep");
}

/// Two app processes whose clocks are ten minutes apart (and both years from the real time) write
/// sessions with a 60 s max age: both rows expire 60 s from now on the database's clock; a row given
/// one second is gone for both processes at once.
#[tokio::test]
async fn app_clocks_do_not_decide_when_rows_expire() {
    let server = PostgresServer::start().await.expect("postgres");
    let backend = SqlBackend::connect_lazy(&server.url()).expect("backend");
    backend.migrate().await.expect("migrate");
    let t = 1_700_000_000;
    let mut ids = Vec::new();
    for clock in [ManualClock::new(t), ManualClock::new(t + 600)] {
        let config = StorageConfig::new().with_max_age(Duration::from_secs(60)).with_clock(clock.clock());
        let storage: Arc<dyn AbstractStorage> = Arc::new(SqlStorage::new(backend.clone()).with_config(config));
        let mut browser = TestClient::new(storage);
        browser.login("alice").await.expect("a session");
        ids.push(browser.cookie().expect("a cookie").to_owned());
    }
    for id in &ids {
        let seconds: f64 = server
            .query(&format!(
                "SELECT EXTRACT(EPOCH FROM (expires_at - now())) FROM sessions WHERE id = 'AIOHTTP_SESSION_{id}'"
            ))
            .await
            .expect("expires_at")
            .parse()
            .expect("seconds");
        assert!(
            (55.0..=60.5).contains(&seconds),
            "a row of a 60 s session expires in {seconds} s of the database's clock"
        );
    }

    // One second on the database's clock, whoever writes and whoever reads.
    let (one, other) = (backend.clone(), SqlBackend::connect_lazy(&server.url()).expect("another process"));
    one.store("AIOHTTP_SESSION_short", b"{}", Some(Duration::from_secs(1)), Condition::IfAbsent).await.expect("store");
    assert!(other.load("AIOHTTP_SESSION_short").await.expect("load").is_some());
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert_eq!(one.load("AIOHTTP_SESSION_short").await.expect("load"), None);
    assert_eq!(other.load("AIOHTTP_SESSION_short").await.expect("load"), None);
}
