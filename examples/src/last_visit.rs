//! aiohttp-session's demo: each visit shows the time of the previous one and stores its own.

use std::time::{SystemTime, UNIX_EPOCH};

use session_core::Value;

#[cfg(feature = "axum")]
pub use on_axum::router;

/// The demo on axum (the actix-web one is `last_visit_actix`).
#[cfg(feature = "axum")]
mod on_axum {
    use std::sync::Arc;

    use axum::Router;
    use axum::routing::get;
    use session_core::AbstractStorage;
    use session_tower::{Session, SessionError, SessionLayer};

    use super::{KEY, LOGGED_OUT, page, unix_time};

    /// `GET /`: `Last visited: <previous time or None>`, and stores now; `GET /peek`: the same answer
    /// without storing anything (a read, which an idle timeout counts as activity); `GET /logout` ends the
    /// session.
    pub fn router(storage: Arc<dyn AbstractStorage>) -> Router {
        Router::new()
            .route("/", get(index))
            .route("/peek", get(peek))
            .route("/logout", get(logout))
            .layer(SessionLayer::new(storage))
    }

    async fn index(session: Session) -> Result<String, SessionError> {
        let last_visit = session.get_value(KEY)?;
        session.insert(KEY, unix_time())?;
        Ok(page(last_visit))
    }

    async fn peek(session: Session) -> Result<String, SessionError> {
        Ok(page(session.get_value(KEY)?))
    }

    async fn logout(session: Session) -> Result<&'static str, SessionError> {
        session.invalidate()?;
        Ok(LOGGED_OUT)
    }
}

/// The session key of the last visit's time, as in aiohttp-session's demo.
pub(crate) const KEY: &str = "last_visit";

/// The answer of `GET /logout`.
pub(crate) const LOGGED_OUT: &str = "Logged out";

/// The answer of `GET /`, shown as Python shows it: the stored number, or None.
pub(crate) fn page(last_visit: Option<Value>) -> String {
    format!("Last visited: {}", last_visit.map_or_else(|| "None".to_owned(), |value| value.to_string()))
}

/// Unix time as a float, as Python's `time.time()`.
pub(crate) fn unix_time() -> f64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0.0, |elapsed| elapsed.as_secs_f64())
}
