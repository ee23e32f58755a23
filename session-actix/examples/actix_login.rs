//! Login, whoami and logout on Redis, in one actix-web app. With a Redis on 127.0.0.1:6379 (or
//! `REDIS_URL`):
//!
//! ```text
//! cargo run -p session-actix --example actix_login
//! curl -c jar -b jar -X POST http://localhost:3000/login/alice     # Welcome, alice
//! curl -b jar http://localhost:3000/whoami                         # alice
//! curl -c jar -b jar -X POST http://localhost:3000/logout          # Bye
//! ```
use std::time::Duration;

use actix_web::{App, HttpServer, web};
use session_actix::{Session, SessionError, SessionMiddleware, StorageConfig};
use session_redis::{RedisBackend, RedisStorage};

async fn login(session: Session, user: web::Path<String>) -> Result<String, SessionError> {
    // Check the password first. Then a fresh session under a new id (an id planted before is worth
    // nothing), attached to the user: `session.log_out_everywhere(&user)` ends it too.
    session.login(user.as_str())?;
    Ok(format!("Welcome, {user}"))
}

async fn whoami(session: Session) -> Result<String, SessionError> {
    Ok(session.user()?.unwrap_or_else(|| "nobody".to_owned()))
}

async fn logout(session: Session) -> Result<&'static str, SessionError> {
    session.invalidate()?;
    Ok("Bye")
}

#[actix_web::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt::init(); // session errors are logged here, never sent to the client
    let url = std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned());
    let storage = RedisStorage::new(RedisBackend::from_url(&url)?)
        .with_config(StorageConfig::new().with_idle_timeout(Duration::from_secs(30 * 60)));
    let sessions = SessionMiddleware::new(storage);
    HttpServer::new(move || {
        App::new()
            .wrap(sessions.clone())
            .route("/login/{user}", web::post().to(login))
            .route("/whoami", web::get().to(whoami))
            .route("/logout", web::post().to(logout))
    })
    .bind(("127.0.0.1", 3000))?
    .run()
    .await?;
    Ok(())
}
