//! Ours on actix-web: the `last_visit` workload with session-actix on any of our storages (the flags
//! of the `last_visit` example), one worker, beside actix-session's app.
#![forbid(unsafe_code)]

use std::time::{SystemTime, UNIX_EPOCH};

use actix_web::{App, HttpServer, web};
use clap::Parser;
use examples::StorageArgs;
use session_actix::{Session, SessionError, SessionMiddleware};

#[derive(Parser)]
struct Cli {
    #[command(flatten)]
    session: StorageArgs,
    #[arg(long)]
    port: u16,
}

async fn last_visit(session: Session) -> Result<String, SessionError> {
    let last = session.get_value("last_visit")?.map_or_else(|| "None".to_owned(), |value| value.to_string());
    let now = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0.0, |elapsed| elapsed.as_secs_f64());
    session.insert("last_visit", now)?;
    Ok(format!("Last visited: {last}"))
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let cli = Cli::parse();
    // Plain HTTP on loopback, as the demo: the cookie goes without `Secure`.
    let storage = cli.session.build(false).await.expect("storage").storage;
    let sessions = SessionMiddleware::new(storage);
    HttpServer::new(move || App::new().wrap(sessions.clone()).route("/", web::get().to(last_visit)))
        .workers(1)
        .bind(("127.0.0.1", cli.port))?
        .run()
        .await
}
