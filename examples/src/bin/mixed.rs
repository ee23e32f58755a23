//! Preferences in an encrypted cookie, the login in Redis: two storages in one app.
//!
//! ```text
//! cargo run -p examples --bin mixed -- --secret-key <base64 key> --redis-url redis://127.0.0.1:6379
//! curl -c jar -b jar http://127.0.0.1:8080/theme/dark
//! curl -c jar -b jar http://127.0.0.1:8080/login/alice
//! curl -c jar -b jar http://127.0.0.1:8080/        # Hello alice; theme: dark
//! ```
#![forbid(unsafe_code)]

use std::process::ExitCode;

use clap::Parser;
use examples::{Listen, SetupError, init_logging, mixed, redis, secret_key, serve};
use session_cookie::EncryptedCookieStorage;
use session_core::CookieConfig;

/// Serves an app with preferences in an encrypted cookie (PREFS) and the login in Redis.
#[derive(Parser)]
struct Cli {
    /// Url-safe base64 of 32 bytes for the preferences cookie. Without it a key is generated and
    /// preferences end at restart.
    #[arg(long, env = "SESSION_SECRET_KEY", hide_env_values = true)]
    secret_key: Option<String>,

    /// Redis for the login sessions.
    #[arg(long, env = "REDIS_URL", default_value = "redis://127.0.0.1:6379")]
    redis_url: String,

    #[command(flatten)]
    listen: Listen,
}

fn app(cli: &Cli) -> Result<axum::Router, SetupError> {
    let login = redis(&cli.redis_url, CookieConfig::new().max_age(Some(8 * 3600)))?;
    let key = secret_key(cli.secret_key.as_deref(), EncryptedCookieStorage::generate_key)?;
    let prefs =
        EncryptedCookieStorage::new(key)?.with_config(CookieConfig::new().name("PREFS").max_age(Some(365 * 24 * 3600)));
    Ok(mixed::router(login, prefs))
}

#[tokio::main]
async fn main() -> ExitCode {
    init_logging();
    let cli = Cli::parse();
    let app = match app(&cli) {
        Ok(app) => app,
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::from(2);
        }
    };
    match serve(app, cli.listen.host, cli.listen.port).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}
