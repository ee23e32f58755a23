//! The `main` of the examples that serve one app on one storage chosen by flags, on axum or on
//! actix-web: the start-up is shared ([`prepare`]), only the serving differs.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;

#[cfg(feature = "actix")]
use actix_web::web::ServiceConfig;
#[cfg(feature = "axum")]
use axum::Router;
use clap::parser::ValueSource;
use clap::{Args, CommandFactory, FromArgMatches, Parser};
use session_core::AbstractStorage;
use session_core::accounts::Devices;
use tokio::net::TcpListener;

#[cfg(feature = "axum")]
use crate::server::serve;
#[cfg(feature = "actix")]
use crate::server::serve_actix;
use crate::server::{bind, check_store, describe, init_logging, resolve};
use crate::storage_args::StorageArgs;

/// The flags of such an example.
#[derive(Parser)]
struct Cli {
    #[command(flatten)]
    session: StorageArgs,

    #[command(flatten)]
    listen: Listen,
}

/// Where to serve.
#[derive(Args)]
pub struct Listen {
    /// Host name or address to listen on. On a loopback address the session cookie is sent without
    /// `Secure`, so the demo works over plain http://; anywhere else it keeps `Secure`.
    #[arg(long, env = "HOST", default_value = "127.0.0.1")]
    pub host: String,

    /// Port to listen on (0: any free port).
    #[arg(long, env = "PORT", default_value_t = 8080)]
    pub port: u16,
}

impl Listen {
    /// The addresses `--host` and `--port` name, and whether the cookie keeps `Secure` there: not
    /// when every one of them is a loopback address, so the demo works over plain http://.
    pub async fn resolve(&self) -> Result<(Vec<SocketAddr>, bool), String> {
        let addresses = resolve(&self.host, self.port).await?;
        let secure = !addresses.iter().all(|address| address.ip().is_loopback());
        Ok((addresses, secure))
    }
}

/// What a framework's `main` needs once the example has started up: the storage, the bound listener,
/// and whether the cookie keeps `Secure`.
pub struct Prepared {
    /// The storage the flags chose, checked to answer (or reported as unreachable).
    pub storage: Arc<dyn AbstractStorage>,
    /// The same storage when it lists a user's devices (Redis).
    pub devices: Option<Arc<dyn Devices>>,
    /// Listening on the first address `--host` and `--port` name that could be bound.
    pub listener: TcpListener,
    /// `false` on a loopback address only: then the cookie goes without `Secure`.
    pub secure: bool,
}

/// The start-up every such example shares: parses the flags (with `about` as the help text), starts
/// logging, resolves `--host`, builds the storage, binds, and asks a server-side store once. A bad
/// flag value prints one `error:` line naming it (never the key) and gives the exit code: 2 for a
/// flag, 1 for a port that cannot be bound. Needs a tokio runtime (actix-web's does).
pub async fn prepare(about: &'static str) -> Result<Prepared, ExitCode> {
    let matches = Cli::command().about(about).get_matches();
    let cli = match Cli::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(error) => error.exit(),
    };
    init_logging();
    if matches.value_source("secret_key") == Some(ValueSource::CommandLine) {
        eprintln!(
            "warning: --secret-key is visible to every user of this machine (ps, /proc); pass the key in \
             SESSION_SECRET_KEY instead"
        );
    }
    let (addresses, secure) = cli.listen.resolve().await.map_err(|error| fail(2, &error))?;
    let configured = cli.session.build(secure).await.map_err(|error| fail(2, &describe(&error)))?;
    let listener = bind(&addresses).await.map_err(|error| fail(1, &error))?;
    if let Some(store) = &configured.store {
        check_store(&*configured.storage, store).await;
    }
    Ok(Prepared { storage: configured.storage, devices: configured.devices, listener, secure })
}

/// Starts up ([`prepare`]) and serves the axum `app` on the storage until Ctrl-C.
#[cfg(feature = "axum")]
pub async fn run(about: &'static str, app: fn(Arc<dyn AbstractStorage>) -> Router) -> ExitCode {
    let Prepared { storage, listener, secure, .. } = match prepare(about).await {
        Ok(prepared) => prepared,
        Err(code) => return code,
    };
    match serve(app(storage), listener, secure).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => fail(1, &describe(&error)),
    }
}

/// Starts up ([`prepare`]) and serves the actix-web app that `app` configures on the storage (once
/// per worker) until Ctrl-C. Run it in an actix-web `System`:
/// `actix_web::rt::System::new().block_on(run_actix(about, app))`.
#[cfg(feature = "actix")]
pub async fn run_actix(about: &'static str, app: fn(Arc<dyn AbstractStorage>, &mut ServiceConfig)) -> ExitCode {
    let Prepared { storage, listener, secure, .. } = match prepare(about).await {
        Ok(prepared) => prepared,
        Err(code) => return code,
    };
    match serve_actix(app, storage, listener, secure).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => fail(1, &describe(&error)),
    }
}

/// Prints `error: <message>` and gives the exit code `code`: how an example fails at start-up.
pub fn fail(code: u8, message: &str) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::from(code)
}
