//! Peer: actix-web + actix-session, with its private (encrypted) `CookieSessionStore` or its
//! `RedisSessionStore`, on one worker, the workload as its docs would write it; and actix-web alone
//! (`--store none`), the framework's own cost.
#![forbid(unsafe_code)]

use std::time::{SystemTime, UNIX_EPOCH};

use actix_session::config::CookieContentSecurity;
use actix_session::storage::{CookieSessionStore, RedisSessionStore};
use actix_session::{Session, SessionMiddleware};
use actix_web::cookie::Key;
use actix_web::{App, HttpServer, web};
use clap::Parser;

#[derive(Parser)]
struct Cli {
    #[arg(long)]
    port: u16,
    /// `cookie`, `redis` or `none` (no session: the short text alone).
    #[arg(long)]
    store: String,
    #[arg(long, default_value = "redis://127.0.0.1:6379")]
    redis_url: String,
}

async fn last_visit(session: Session) -> String {
    let last: Option<f64> = session.get("last_visit").expect("session");
    let now = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0.0, |elapsed| elapsed.as_secs_f64());
    session.insert("last_visit", now).expect("session");
    format!("Last visited: {}", last.map_or_else(|| "None".to_owned(), |last| last.to_string()))
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let cli = Cli::parse();
    let key = Key::from(&[7u8; 64]);
    let port = cli.port;
    match cli.store.as_str() {
        "cookie" => {
            HttpServer::new(move || {
                let sessions = SessionMiddleware::builder(CookieSessionStore::default(), key.clone())
                    .cookie_content_security(CookieContentSecurity::Private)
                    .cookie_secure(false)
                    .build();
                App::new().wrap(sessions).route("/", web::get().to(last_visit))
            })
            .workers(1)
            .bind(("127.0.0.1", port))?
            .run()
            .await
        }
        "redis" => {
            let store = RedisSessionStore::new(cli.redis_url.as_str()).await.expect("redis");
            HttpServer::new(move || {
                let sessions = SessionMiddleware::builder(store.clone(), key.clone()).cookie_secure(false).build();
                App::new().wrap(sessions).route("/", web::get().to(last_visit))
            })
            .workers(1)
            .bind(("127.0.0.1", port))?
            .run()
            .await
        }
        "none" => {
            HttpServer::new(|| App::new().route("/", web::get().to(|| async { "Last visited: None" })))
                .workers(1)
                .bind(("127.0.0.1", port))?
                .run()
                .await
        }
        other => panic!("unknown store {other}"),
    }
}
