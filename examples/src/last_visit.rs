//! aiohttp-session's demo: each visit shows the time of the previous one and stores its own.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::routing::get;
use session_core::AbstractStorage;
use session_tower::{Session, SessionError, SessionLayer};

/// `GET /`: `Last visited: <previous time or None>`, and stores now; `GET /logout` ends the session.
pub fn router(storage: Arc<dyn AbstractStorage>) -> Router {
    Router::new().route("/", get(index)).route("/logout", get(logout)).layer(SessionLayer::new(storage))
}

async fn index(session: Session) -> Result<String, SessionError> {
    // Shown as Python shows it: the stored number, or None.
    let last_visit = session.get_value("last_visit")?.map_or_else(|| "None".to_owned(), |value| value.to_string());
    session.insert("last_visit", unix_time())?;
    Ok(format!("Last visited: {last_visit}"))
}

async fn logout(session: Session) -> Result<&'static str, SessionError> {
    session.invalidate()?;
    Ok("Logged out")
}

/// Unix time as a float, as Python's `time.time()`.
fn unix_time() -> f64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0.0, |elapsed| elapsed.as_secs_f64())
}
