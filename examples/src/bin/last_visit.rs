//! The "last visited" demo of aiohttp-session, on any storage.
//!
//! ```text
//! cargo run -p examples --bin last_visit -- --storage encrypted --secret-key <base64 key>
//! curl -c jar -b jar http://127.0.0.1:8080/    # Last visited: None
//! curl -c jar -b jar http://127.0.0.1:8080/    # Last visited: 1764107000.123456
//! ```
#![forbid(unsafe_code)]

use std::net::IpAddr;
use std::process::ExitCode;

use clap::Parser;
use examples::{StorageArgs, init_logging, last_visit, serve};

/// Serves the "last visited" demo: each visit shows when you last came.
#[derive(Parser)]
struct Cli {
    #[command(flatten)]
    session: StorageArgs,

    /// Address to listen on.
    #[arg(long, env = "HOST", default_value = "127.0.0.1")]
    host: IpAddr,

    /// Port to listen on (0: any free port).
    #[arg(long, env = "PORT", default_value_t = 8080)]
    port: u16,
}

#[tokio::main]
async fn main() -> ExitCode {
    init_logging();
    let cli = Cli::parse();
    let storage = match cli.session.build().await {
        Ok(storage) => storage,
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::from(2);
        }
    };
    match serve(last_visit::router(storage), cli.host, cli.port).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}
