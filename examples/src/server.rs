//! Binding, serving until Ctrl-C (on axum or actix-web), logging, and the start-up messages of the
//! examples.

use std::io::{self, IsTerminal};
use std::net::SocketAddr;
#[cfg(feature = "actix")]
use std::sync::Arc;

#[cfg(feature = "actix")]
use actix_web::web::ServiceConfig;
#[cfg(feature = "actix")]
use actix_web::{App, HttpServer};
#[cfg(feature = "axum")]
use axum::Router;
use session_core::AbstractStorage;
use session_core::server_side::{KeyFactory, RandomHexIds};
use tokio::net::TcpListener;

/// The addresses `host:port` names (a host name or an IP address), or why it names none.
pub async fn resolve(host: &str, port: u16) -> Result<Vec<SocketAddr>, String> {
    let addresses: Vec<SocketAddr> = tokio::net::lookup_host((host, port))
        .await
        .map_err(|error| format!("cannot resolve --host {host:?}: {error}"))?
        .collect();
    if addresses.is_empty() {
        return Err(format!("--host {host:?} names no address"));
    }
    Ok(addresses)
}

/// Listens on the first of `addresses` that can be bound; the error names every address tried.
pub async fn bind(addresses: &[SocketAddr]) -> Result<TcpListener, String> {
    let mut failures = Vec::new();
    for address in addresses {
        match TcpListener::bind(address).await {
            Ok(listener) => return Ok(listener),
            Err(error) => failures.push(format!("{address}: {error}")),
        }
    }
    Err(format!("cannot listen on {}", failures.join("; ")))
}

/// Serves `app` on `listener` until Ctrl-C, once in-flight requests are done. The first line printed
/// is the URL (scripts and tests read it), with a note when the cookie goes without `Secure`.
#[cfg(feature = "axum")]
pub async fn serve(app: Router, listener: TcpListener, secure: bool) -> io::Result<()> {
    announce(listener.local_addr()?, secure);
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            // If the signal handler cannot be installed, serve until killed.
            if tokio::signal::ctrl_c().await.is_err() {
                std::future::pending::<()>().await;
            }
        })
        .await
}

/// [`serve`] for actix-web: serves the app that `app` configures on `storage` (once per worker) on
/// `listener` until Ctrl-C, once in-flight requests are done, and prints the same first line. Runs
/// only inside an actix-web `System`.
#[cfg(feature = "actix")]
pub async fn serve_actix(
    app: fn(Arc<dyn AbstractStorage>, &mut ServiceConfig),
    storage: Arc<dyn AbstractStorage>,
    listener: TcpListener,
    secure: bool,
) -> io::Result<()> {
    let listener = listener.into_std()?;
    let address = listener.local_addr()?;
    let server = HttpServer::new(move || {
        let storage = Arc::clone(&storage);
        App::new().configure(move |config| app(storage, config))
    })
    // actix-web's own handler stops at once on Ctrl-C; this one lets requests in flight finish, as
    // `serve` does.
    .disable_signals()
    .listen(listener)?
    .run();
    let handle = server.handle();
    actix_web::rt::spawn(async move {
        // If the signal handler cannot be installed, serve until killed.
        if tokio::signal::ctrl_c().await.is_ok() {
            handle.stop(true).await;
        }
    });
    announce(address, secure);
    server.await
}

/// The URL, with a note when the cookie goes without `Secure`.
fn announce(address: SocketAddr, secure: bool) {
    if secure {
        println!("Serving on http://{address}");
    } else {
        println!("Serving on http://{address} (loopback only: the session cookie is sent without Secure)");
    }
}

/// Logs to stderr at `info`, or at what `RUST_LOG` says; in colour only on a terminal.
pub fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into());
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(io::stderr().is_terminal())
        .with_writer(io::stderr)
        .init();
}

pub use session_core::middleware::describe;

/// Asks `store` once at start-up (a load of an id nobody has); if it does not answer, says so in one
/// line and goes on: the app serves, requests that use the session fail until the store answers, and
/// then it works without a restart.
pub async fn check_store(storage: &dyn AbstractStorage, store: &str) {
    let Ok(id) = RandomHexIds.new_id() else { return };
    if let Err(error) = storage.load_session(Some(&id)).await {
        tracing::warn!(
            "{store} is not reachable ({}); serving anyway: requests that use the session fail until it answers",
            describe(&error)
        );
    }
}
