//! Preferences in an encrypted cookie, the login in Redis: two storages in one app.
//!
//! ```text
//! SESSION_SECRET_KEY=<base64 key> cargo run -p examples --features redis --bin mixed -- --redis-url redis://127.0.0.1:6379
//! curl -c jar -b jar http://127.0.0.1:8080/theme/dark
//! curl -c jar -b jar http://127.0.0.1:8080/login/alice
//! curl -c jar -b jar http://127.0.0.1:8080/        # Hello alice; theme: dark
//! ```
#![forbid(unsafe_code)]

use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use examples::{Listen, SetupError, bind, check_store, describe, fail, init_logging, mixed, redis, secret_key, serve};
use session_cookie::EncryptedCookieStorage;
use session_core::{CookieConfig, StorageConfig};

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

fn app(cli: &Cli, secure: bool) -> Result<(axum::Router, session_redis::RedisStorage), SetupError> {
    let login_cookie = CookieConfig::builder().secure(secure).build()?;
    let login = redis(
        &cli.redis_url,
        StorageConfig::new().with_cookie(login_cookie).with_idle_timeout(Duration::from_secs(8 * 3600)),
    )?;
    let prefs_cookie = CookieConfig::builder().name("PREFS").secure(secure).build()?;
    let prefs = EncryptedCookieStorage::new(secret_key(cli.secret_key.as_deref()))?
        .with_config(StorageConfig::new().with_cookie(prefs_cookie).with_max_age(Duration::from_secs(365 * 24 * 3600)));
    Ok((mixed::router(login.clone(), prefs), login))
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging();
    let (addresses, secure) = match cli.listen.resolve().await {
        Ok(resolved) => resolved,
        Err(error) => return fail(2, &error),
    };
    let (app, login) = match app(&cli, secure) {
        Ok(app) => app,
        Err(error) => return fail(2, &describe(&error)),
    };
    let listener = match bind(&addresses).await {
        Ok(listener) => listener,
        Err(error) => return fail(1, &error),
    };
    check_store(&login, &format!("Redis at {}", cli.redis_url)).await;
    match serve(app, listener, secure).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => fail(1, &describe(&error)),
    }
}
