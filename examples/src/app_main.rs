//! The `main` of the examples that serve one app on one storage chosen by flags.

use std::net::IpAddr;
use std::process::ExitCode;
use std::sync::Arc;

use axum::Router;
use clap::{Args, CommandFactory, FromArgMatches, Parser};
use session_core::AbstractStorage;

use crate::server::{init_logging, serve};
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
    /// Address to listen on.
    #[arg(long, env = "HOST", default_value = "127.0.0.1")]
    pub host: IpAddr,

    /// Port to listen on (0: any free port).
    #[arg(long, env = "PORT", default_value_t = 8080)]
    pub port: u16,
}

/// Parses the flags (with `about` as the help text), builds the storage, serves `app` on it until
/// Ctrl-C. A bad flag value exits with 2 and a message; the key is never printed.
pub async fn run(about: &'static str, app: fn(Arc<dyn AbstractStorage>) -> Router) -> ExitCode {
    init_logging();
    let matches = Cli::command().about(about).get_matches();
    let cli = match Cli::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(error) => error.exit(),
    };
    let storage = match cli.session.build().await {
        Ok(storage) => storage,
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::from(2);
        }
    };
    match serve(app(storage), cli.listen.host, cli.listen.port).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}
