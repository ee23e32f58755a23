//! Ours: the `last_visit` workload on any of our storages (the flags of the `last_visit` example), plus
//! `/untouched`, a route under the same session layer that never asks for the session.
#![forbid(unsafe_code)]

use std::time::{SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::routing::get;
use clap::Parser;
use examples::StorageArgs;
use session_tower::{Session, SessionError, SessionLayer};

#[derive(Parser)]
struct Cli {
    #[command(flatten)]
    session: StorageArgs,
    #[arg(long)]
    port: u16,
}

async fn last_visit(session: Session) -> Result<String, SessionError> {
    let last = session.get_value("last_visit")?.map_or_else(|| "None".to_owned(), |value| value.to_string());
    let now = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0.0, |elapsed| elapsed.as_secs_f64());
    session.insert("last_visit", now)?;
    Ok(format!("Last visited: {last}"))
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let cli = Cli::parse();
    // Plain HTTP on loopback, as the demo: the cookie goes without `Secure`.
    let storage = cli.session.build(false).await.expect("storage").storage;
    let app = Router::new()
        .route("/", get(last_visit))
        .route("/untouched", get(|| async { "Last visited: None" }))
        .layer(SessionLayer::new(storage));
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", cli.port)).await.expect("bind");
    axum::serve(listener, app).await.expect("serve");
}
