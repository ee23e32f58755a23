//! Peer: axum + tower-sessions, with its `MemoryStore`, its Redis store (fred) or its sqlx stores
//! (Postgres, SQLite), the workload as its README would write it.
#![forbid(unsafe_code)]

use std::time::{SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::routing::get;
use clap::Parser;
use tower_sessions::{MemoryStore, Session, SessionManagerLayer, SessionStore};
use tower_sessions_redis_store::RedisStore;
use tower_sessions_redis_store::fred::prelude::{ClientLike, Config, Pool};
use tower_sessions_sqlx_store::{PostgresStore, SqliteStore};

#[derive(Parser)]
struct Cli {
    #[arg(long)]
    port: u16,
    /// `memory`, `redis`, `postgres` or `sqlite`.
    #[arg(long)]
    store: String,
    #[arg(long, default_value = "redis://127.0.0.1:6379")]
    redis_url: String,
    /// For `postgres` and `sqlite`.
    #[arg(long, default_value = "")]
    database_url: String,
}

async fn last_visit(session: Session) -> String {
    let last: Option<f64> = session.get("last_visit").await.expect("session store");
    let now = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0.0, |elapsed| elapsed.as_secs_f64());
    session.insert("last_visit", now).await.expect("session store");
    format!("Last visited: {}", last.map_or_else(|| "None".to_owned(), |last| last.to_string()))
}

fn app<S: SessionStore + Clone>(store: S) -> Router {
    Router::new().route("/", get(last_visit)).layer(SessionManagerLayer::new(store).with_secure(false))
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let cli = Cli::parse();
    let app = match cli.store.as_str() {
        "memory" => app(MemoryStore::default()),
        "redis" => {
            let pool = Pool::new(Config::from_url(&cli.redis_url).expect("url"), None, None, None, 4).expect("pool");
            pool.init().await.expect("connect");
            app(RedisStore::new(pool))
        }
        "postgres" => {
            let store = PostgresStore::new(sqlx::PgPool::connect(&cli.database_url).await.expect("postgres"));
            store.migrate().await.expect("migrate");
            app(store)
        }
        "sqlite" => {
            let store = SqliteStore::new(sqlx::SqlitePool::connect(&cli.database_url).await.expect("sqlite"));
            store.migrate().await.expect("migrate");
            app(store)
        }
        other => panic!("unknown store {other}"),
    };
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", cli.port)).await.expect("bind");
    axum::serve(listener, app).await.expect("serve");
}
