//! The ceiling: axum answering the workload's short text with no session at all.
#![forbid(unsafe_code)]

use axum::Router;
use axum::routing::get;
use clap::Parser;

#[derive(Parser)]
struct Cli {
    #[arg(long)]
    port: u16,
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let cli = Cli::parse();
    let app = Router::new().route("/", get(|| async { "Last visited: None" }));
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", cli.port)).await.expect("bind");
    axum::serve(listener, app).await.expect("serve");
}
