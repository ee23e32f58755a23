//! One browser's parallel requests writing one session for seconds on end, through the axum
//! middleware, served by two app processes on one database: no request fails and no acknowledged
//! write is lost (the `version` column's compare-and-set, across processes).

use std::sync::Arc;
use std::time::Duration;

use session_core::AbstractStorage;
use session_devkit::axum_app::Axum;
use session_sql::{SqlBackend, SqlStorage};
use session_testkit::{MariaDbServer, PostgresServer, scenarios};

const WRITERS: usize = 64;
const DURATION: Duration = Duration::from_secs(5);

async fn apps(url: &str) -> Vec<Arc<dyn AbstractStorage>> {
    SqlBackend::connect_lazy(url).expect("backend").migrate().await.expect("migrate");
    (0..2)
        .map(|_| Arc::new(SqlStorage::new(SqlBackend::connect_lazy(url).expect("backend"))) as Arc<dyn AbstractStorage>)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sixty_four_writers_for_five_seconds_on_postgres() {
    let server = PostgresServer::start().await.expect("postgres");
    let run = scenarios::parallel_writers_keep_every_write(&Axum, apps(&server.url()).await, WRITERS, DURATION).await;
    eprintln!("postgres: {run:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sixty_four_writers_for_five_seconds_on_mariadb() {
    let server = MariaDbServer::start().await.expect("mariadb");
    let run = scenarios::parallel_writers_keep_every_write(&Axum, apps(&server.url()).await, WRITERS, DURATION).await;
    eprintln!("mariadb: {run:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sixty_four_writers_for_five_seconds_on_sqlite() {
    let path = std::env::temp_dir().join(format!("session-sql-writers-{}.db", std::process::id()));
    let url = format!("sqlite://{}?mode=rwc", path.display());
    let run = scenarios::parallel_writers_keep_every_write(&Axum, apps(&url).await, WRITERS, DURATION).await;
    eprintln!("sqlite: {run:?}");
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
}
