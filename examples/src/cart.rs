//! A cart that keeps every item, even when a page adds many at once: each item is its own session key,
//! and the server-side storages merge concurrent saves.

use std::sync::Arc;

use axum::Router;
use axum::extract::Path;
use axum::routing::{get, post};
use session_core::AbstractStorage;
use session_tower::{Session, SessionError, SessionLayer};

/// The prefix of the session keys that hold cart items.
const ITEM: &str = "cart:";

/// `POST /cart/{item}` adds an item; `GET /cart` answers the items as a JSON array of names;
/// `POST /logout` ends the session, cart and all.
pub fn router(storage: Arc<dyn AbstractStorage>) -> Router {
    Router::new()
        .route("/cart", get(items))
        .route("/cart/{item}", post(add))
        .route("/logout", post(logout))
        .layer(SessionLayer::new(storage))
}

async fn add(session: Session, Path(item): Path<String>) -> Result<String, SessionError> {
    // One key per item: two requests adding different items touch different keys, so both survive.
    session.insert(format!("{ITEM}{item}"), true)?;
    Ok(format!("Added {item}"))
}

async fn items(session: Session) -> Result<String, SessionError> {
    let keys = session.keys()?;
    let items: Vec<&str> = keys.iter().filter_map(|key| key.strip_prefix(ITEM)).collect();
    Ok(serde_json::Value::from(items).to_string())
}

async fn logout(session: Session) -> Result<&'static str, SessionError> {
    // Requests already in flight on this session write nothing once it is gone: it stays logged out.
    session.invalidate()?;
    Ok("Logged out")
}
