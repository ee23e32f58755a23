//! Serving an app on a host and port until Ctrl-C.

use std::io;
use std::net::{IpAddr, SocketAddr};

use axum::Router;
use tokio::net::TcpListener;

/// Serves `app` on `host:port` (port 0: one the OS picks), prints the URL, and returns after Ctrl-C
/// once in-flight requests are done.
pub async fn serve(app: Router, host: IpAddr, port: u16) -> io::Result<()> {
    let listener = TcpListener::bind(SocketAddr::new(host, port)).await?;
    // Tests and scripts read this line to find the port.
    println!("Serving on http://{}", listener.local_addr()?);
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            // If the signal handler cannot be installed, serve until killed.
            if tokio::signal::ctrl_c().await.is_err() {
                std::future::pending::<()>().await;
            }
        })
        .await
}

/// Logs to stderr at `info`, or at what `RUST_LOG` says.
pub fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into());
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(io::stderr).init();
}
