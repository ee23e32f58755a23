//! The conformance suite for `SqlStorage` against a real Postgres, a real MariaDB and SQLite in a
//! temp file, in both concurrency modes, and the devices rules. A database takes seconds to start, so
//! each database is one test that starts one server and runs every rule against it, a few at a time
//! (`rules::failing`); a failing rule prints its panic and is named at the end.
//!
//! The probe reads what the table physically holds (expired rows too), through the server's own client
//! (`psql`, `mariadb`) or a connection of its own for SQLite, never through the code under test. The
//! storages run a reaper every 300 ms, so the rule that an expired entry leaves the store checks it.

use std::sync::Arc;
use std::time::Duration;

use session_core::Concurrency;
use session_core::accounts::Devices;
use session_sql::{SqlBackend, SqlStorage};
use session_testkit::{Entry, Kind, MariaDbServer, PostgresServer, Suite, block_on, rules};

/// Rules run at once against one server: each may hold a pool of up to 10 connections.
const PARALLEL: usize = 6;

/// How a test asks the database what it holds under a key.
#[derive(Clone)]
enum Probe {
    Postgres(Arc<PostgresServer>),
    MariaDb(Arc<MariaDbServer>),
    Sqlite(String),
}

impl Probe {
    /// The row under `key`, expired or not: what is left of its TTL (zero once past), `None` for a
    /// row that never expires.
    async fn entry(&self, key: &str) -> Option<Entry> {
        assert!(key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'), "a key to splice: {key}");
        let reply = match self {
            Probe::Postgres(server) => server
                .query(&format!(
                    "SELECT COALESCE(GREATEST(0, EXTRACT(EPOCH FROM (expires_at - now())) * 1000)::bigint::text, 'never') \
                     FROM sessions WHERE id = '{key}'"
                ))
                .await
                .expect("psql"),
            Probe::MariaDb(server) => server
                .query(&format!(
                    "SELECT COALESCE(GREATEST(0, TIMESTAMPDIFF(MICROSECOND, UTC_TIMESTAMP(6), expires_at) DIV 1000), 'never') \
                     FROM sessions WHERE id = '{key}'"
                ))
                .await
                .expect("mariadb"),
            Probe::Sqlite(url) => {
                use sqlx::Row;
                let pool = sqlx::SqlitePool::connect(url).await.expect("a probe connection");
                let row = sqlx::query(
                    "SELECT COALESCE(CAST(MAX(0, expires_at - CAST((julianday('now') - 2440587.5) * 86400000.0 AS INTEGER)) AS TEXT), 'never') \
                     FROM sessions WHERE id = ?1",
                )
                .bind(key)
                .fetch_optional(&pool)
                .await
                .expect("probe");
                pool.close().await;
                row.map(|row| row.get::<String, _>(0)).unwrap_or_default()
            }
        };
        match reply.trim() {
            "" => None,
            "never" => Some(Entry { ttl: None }),
            ms => Some(Entry { ttl: Some(Duration::from_millis(ms.parse().expect("milliseconds"))) }),
        }
    }
}

/// A backend on `url` with a reaper, built on the rule's own runtime.
fn backend(url: &str) -> SqlBackend {
    SqlBackend::connect_lazy(url).expect("backend").spawn_reaper(Duration::from_millis(300), 1000)
}

fn suite(url: String, probe: Probe, kind: Kind) -> Suite {
    let suite = if kind == Kind::Devices {
        Suite::with_devices(move |config| {
            let backend = backend(&url);
            async move { Arc::new(SqlStorage::new(backend).with_config(config)) as Arc<dyn Devices> }
        })
    } else {
        let concurrency =
            if kind == Kind::MergingServerSide { Concurrency::Merge } else { Concurrency::LastWriterWins };
        Suite::new(move |config| {
            let backend = backend(&url);
            async move { SqlStorage::new(backend).with_concurrency(concurrency).with_config(config) }
        })
    };
    // The reaper sweeps every 300 ms: an expired row is gone well within 2 s.
    suite.purge_within(Duration::from_secs(2)).probe(move |key: String| {
        let probe = probe.clone();
        async move { probe.entry(&key).await }
    })
}

/// Every rule of the three kinds against the database at `url`, after `migrate`.
fn conforms(url: &str, probe: Probe) {
    block_on(async { SqlBackend::connect_lazy(url).expect("backend").migrate().await.expect("migrate") });
    let mut failed = Vec::new();
    for kind in [Kind::MergingServerSide, Kind::ServerSide, Kind::Devices] {
        let (url, probe) = (url.to_owned(), probe.clone());
        let names = rules::failing(kind, PARALLEL, move || suite(url.clone(), probe.clone(), kind));
        failed.extend(names.into_iter().map(|name| format!("{kind:?}: {name}")));
    }
    assert!(failed.is_empty(), "rules that failed: {failed:#?}");
}

#[test]
fn postgres_conforms() {
    let server = block_on(PostgresServer::start()).expect("postgres");
    let server = Arc::new(server);
    conforms(&server.url(), Probe::Postgres(Arc::clone(&server)));
}

#[test]
fn mariadb_conforms() {
    let server = Arc::new(block_on(MariaDbServer::start()).expect("mariadb"));
    conforms(&server.url(), Probe::MariaDb(Arc::clone(&server)));
}

#[test]
fn sqlite_conforms() {
    let path = std::env::temp_dir().join(format!("session-sql-conformance-{}.db", std::process::id()));
    let url = format!("sqlite://{}?mode=rwc", path.display());
    conforms(&url, Probe::Sqlite(url.clone()));
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
}
