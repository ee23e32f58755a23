//! The backend's own promises, below what the storage suite can see, against a real Postgres, a real
//! MariaDB and SQLite: a create-only write refuses a taken key (on MariaDB, through the duplicate-key
//! error), `store_if` answers the token the row holds next, the reaper's walk crosses chunks and
//! counts both tables, a connection the server closed while it sat in the pool costs no failed
//! statement, and an in-memory SQLite database is one database however it is spelled.

use std::sync::Arc;
use std::time::Duration;

use session_core::accounts::UserIndex;
use session_core::server_side::{CasOutcome, CompareAndSet, Condition, KeyValueBackend, Versioned};
use session_sql::{SqlBackend, TableName};
use session_testkit::{MariaDbServer, PostgresServer, block_on};

const TTL: Option<Duration> = Some(Duration::from_secs(60));
/// Short enough to be past after a short sleep; one millisecond is the shortest TTL a row gets.
const BRIEF: Option<Duration> = Some(Duration::from_millis(1));

async fn a_taken_key_refuses_a_create_only_write(backend: &SqlBackend) {
    assert!(backend.store("taken", b"one", TTL, Condition::IfAbsent).await.expect("first"));
    let second = backend.store("taken", b"two", TTL, Condition::IfAbsent).await;
    assert!(!second.expect("a taken key is an answer, not an error"), "a create-only write replaced a live row");
    assert_eq!(backend.load("taken").await.expect("load").as_deref(), Some(&b"one"[..]));
    // An expired row is not a live one: a new session may take its key.
    assert!(backend.store("lapsed", b"old", BRIEF, Condition::IfAbsent).await.expect("brief"));
    tokio::time::sleep(Duration::from_millis(20)).await;
    assert!(backend.store("lapsed", b"new", TTL, Condition::IfAbsent).await.expect("over an expired row"));
    assert_eq!(backend.load("lapsed").await.expect("load").as_deref(), Some(&b"new"[..]));
}

async fn store_if_answers_the_token_the_row_holds_next(backend: &SqlBackend) {
    assert!(backend.store("versioned", b"v0", TTL, Condition::IfAbsent).await.expect("store"));
    let mut expected = backend.load_versioned("versioned").await.expect("load").expect("a row");
    for step in 1..=3 {
        let payload = format!("v{step}").into_bytes();
        let CasOutcome::Stored(token) =
            backend.store_if("versioned", &payload, TTL, &expected).await.expect("store_if")
        else {
            panic!("step {step}: refused though nobody else wrote");
        };
        let reloaded = backend.load_versioned("versioned").await.expect("load").expect("a row");
        assert_eq!(reloaded, Versioned { bytes: payload.clone(), token }, "step {step}");
        // The answered token is usable as is: the next write needs no reload.
        expected = Versioned { bytes: payload, token };
    }
    let stale = Versioned { bytes: b"v0".to_vec(), token: expected.token - 1 };
    assert_eq!(backend.store_if("versioned", b"late", TTL, &stale).await.expect("store_if"), CasOutcome::Conflict);
}

/// Ten expired sessions and three expired index rows among live ones, swept three keys at a time:
/// every expired row of both tables goes, in the count, and every live one stays.
async fn the_reaper_walks_every_chunk_of_both_tables(backend: &SqlBackend) {
    for n in 0..16 {
        let ttl = if n % 3 == 0 { TTL } else { BRIEF };
        assert!(backend.store(&format!("reap_{n:02}"), b"{}", ttl, Condition::Always).await.expect("store"));
    }
    for member in ["a", "b", "c"] {
        backend.index_add("reap_user", member, BRIEF).await.expect("index");
    }
    backend.index_add("reap_user_live", "d", TTL).await.expect("index");
    tokio::time::sleep(Duration::from_millis(20)).await;

    let deleted = backend.purge_expired(3).await.expect("purge");
    assert_eq!(deleted, 10 + 3, "ten sessions and three index rows were expired");
    for n in 0..16 {
        // The probe is the backend's own store: a create-only write succeeds only where no row is left.
        let left = !backend.store(&format!("reap_{n:02}"), b"{}", TTL, Condition::IfAbsent).await.expect("probe");
        assert_eq!(left, n % 3 == 0, "reap_{n:02}");
    }
    assert_eq!(backend.index_members("reap_user_live").await.expect("members"), ["d"]);
    assert_eq!(backend.purge_expired(3).await.expect("again"), 0);
}

/// Eight loads at once fill the pool with connections; the server then closes every one of them (as
/// a restart does) while they sit idle. The pool does not ping before lending a connection, so the
/// next eight loads each meet a dead one first: every one must still answer, on a new connection.
async fn connections_closed_in_the_pool_are_replaced<F: Future<Output = ()>>(
    url: &str,
    close_every_connection: impl FnOnce() -> F,
) {
    let backend = SqlBackend::connect_lazy(url).expect("backend").with_table(TableName::new("pooled").expect("name"));
    backend.migrate().await.expect("migrate");
    assert!(backend.store("pooled", b"kept", TTL, Condition::Always).await.expect("store"));
    let loads = || async {
        let tasks: Vec<_> = (0..8)
            .map(|_| {
                let backend = backend.clone();
                tokio::spawn(async move { backend.load("pooled").await })
            })
            .collect();
        let mut loaded = Vec::new();
        for task in tasks {
            loaded.push(task.await.expect("a load task"));
        }
        loaded
    };
    for loaded in loads().await {
        assert_eq!(loaded.expect("load").as_deref(), Some(&b"kept"[..]));
    }
    close_every_connection().await;
    for loaded in loads().await {
        assert_eq!(
            loaded.expect("a load after the server closed the pool's connections").as_deref(),
            Some(&b"kept"[..])
        );
    }
}

async fn backend_rules(url: &str, table: &str) {
    let backend = SqlBackend::connect_lazy(url).expect("backend").with_table(TableName::new(table).expect("name"));
    backend.migrate().await.expect("migrate");
    a_taken_key_refuses_a_create_only_write(&backend).await;
    store_if_answers_the_token_the_row_holds_next(&backend).await;
    the_reaper_walks_every_chunk_of_both_tables(&backend).await;
}

#[test]
fn postgres_backend() {
    let server = block_on(PostgresServer::start()).expect("postgres");
    block_on(backend_rules(&server.url(), "backend_rules"));
    block_on(connections_closed_in_the_pool_are_replaced(&server.url(), || async {
        let others = "pid <> pg_backend_pid() AND backend_type = 'client backend'";
        let closed = server
            .query(&format!("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE {others}"))
            .await
            .expect("terminate");
        assert_ne!(closed, "0", "the pool's connections were there to close");
    }));
}

#[test]
fn mariadb_backend() {
    let server = block_on(MariaDbServer::start()).expect("mariadb");
    block_on(backend_rules(&server.url(), "backend_rules"));
    block_on(connections_closed_in_the_pool_are_replaced(&server.url(), || async {
        let others = "id <> CONNECTION_ID() AND command <> 'Daemon' AND user = 'root'";
        let ids = server
            .query(&format!("SELECT id FROM information_schema.processlist WHERE {others}"))
            .await
            .expect("processlist");
        assert!(!ids.is_empty(), "the pool's connections were there to close");
        let kills: String = ids.lines().map(|id| format!("KILL {id}; ")).collect();
        server.query(&kills).await.expect("kill");
    }));
}

#[test]
fn sqlite_backend() {
    block_on(backend_rules("sqlite::memory:", "backend_rules"));
}

/// An in-memory database, however the URL spells it, is one database for every connection of the
/// pool: sixteen writers at once all land, and all are read back.
#[test]
fn an_in_memory_sqlite_database_is_one_database_for_concurrent_writers() {
    for url in ["sqlite::memory:", "sqlite:file:session_sql_shared?mode=memory&cache=shared"] {
        block_on(async {
            let backend = Arc::new(SqlBackend::connect_lazy(url).expect("backend"));
            backend.migrate().await.expect("migrate");
            let writers = (0..16).map(|n| {
                let backend = Arc::clone(&backend);
                tokio::spawn(async move { backend.store(&format!("w{n}"), b"{}", TTL, Condition::IfAbsent).await })
            });
            for writer in writers.collect::<Vec<_>>() {
                assert!(writer.await.expect("task").unwrap_or_else(|error| panic!("{url}: {error}")), "{url}");
            }
            for n in 0..16 {
                assert!(backend.load(&format!("w{n}")).await.expect("load").is_some(), "{url}: w{n}");
            }
        });
    }
}

#[tokio::test]
async fn a_named_table_keeps_the_timeout() {
    let timeout = Duration::from_millis(1234);
    let backend = SqlBackend::connect_lazy("sqlite::memory:")
        .expect("backend")
        .with_timeout(timeout)
        .with_table(TableName::new("elsewhere").expect("name"));
    assert_eq!(KeyValueBackend::timeout(&backend), timeout);
    assert_eq!(backend.table().to_string(), "elsewhere");
}
