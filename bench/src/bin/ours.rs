//! Ours: the `last_visit` workload on any of our storages (the flags of the `last_visit` example), plus
//! `/untouched`, a route under the same session layer that never asks for the session.
#![forbid(unsafe_code)]

use std::time::{SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::routing::get;
use clap::Parser;
use examples::StorageArgs;
use session_tower::{Session, SessionLayer};

#[derive(Parser)]
struct Cli {
    #[command(flatten)]
    session: StorageArgs,
    #[arg(long)]
    port: u16,
}

async fn last_visit(session: Session) -> String {
    let mut session = session.lock();
    let last = session.get_value("last_visit").map_or_else(|| "None".to_owned(), |value| value.to_string());
    let now = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0.0, |elapsed| elapsed.as_secs_f64());
    session.insert_value("last_visit", now.into());
    format!("Last visited: {last}")
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let cli = Cli::parse();
    let storage = cli.session.build().await.expect("storage");
    let app = Router::new()
        .route("/", get(last_visit))
        .route("/untouched", get(|| async { "Last visited: None" }))
        .layer(SessionLayer::shared(storage));
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", cli.port)).await.expect("bind");
    axum::serve(listener, app).await.expect("serve");
}
