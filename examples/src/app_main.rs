//! The `main` of the examples that serve one app on one storage chosen by flags.

use std::process::ExitCode;
use std::sync::Arc;

use axum::Router;
use clap::{Args, CommandFactory, FromArgMatches, Parser};
use session_core::AbstractStorage;

use crate::server::{bind, check_store, describe, init_logging, resolve, serve};
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
#[derive(Args, Clone)]
pub struct Listen {
    /// Host name or address to listen on. On a loopback address the session cookie is sent without
    /// `Secure`, so the demo works over plain http://; anywhere else it keeps `Secure`.
    #[arg(long, env = "HOST", default_value = "127.0.0.1")]
    pub host: String,

    /// Port to listen on (0: any free port).
    #[arg(long, env = "PORT", default_value_t = 8080)]
    pub port: u16,
}

/// Parses the flags (with `about` as the help text), builds the storage, serves `app` on it until
/// Ctrl-C. A bad flag value exits with 2 and one line naming it; the key is never printed.
pub async fn run(about: &'static str, app: fn(Arc<dyn AbstractStorage>) -> Router) -> ExitCode {
    let matches = Cli::command().about(about).get_matches();
    let cli = match Cli::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(error) => error.exit(),
    };
    init_logging();
    let addresses = match resolve(&cli.listen.host, cli.listen.port).await {
        Ok(addresses) => addresses,
        Err(error) => return fail(2, &error),
    };
    let secure = !addresses.iter().all(|address| address.ip().is_loopback());
    let configured = match cli.session.build(secure).await {
        Ok(configured) => configured,
        Err(error) => return fail(2, &describe(&error)),
    };
    let listener = match bind(&addresses).await {
        Ok(listener) => listener,
        Err(error) => return fail(1, &error),
    };
    if let Some(store) = &configured.store {
        check_store(&*configured.storage, store).await;
    }
    match serve(app(configured.storage), listener, secure).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => fail(1, &describe(&error)),
    }
}

fn fail(code: u8, message: &str) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::from(code)
}
