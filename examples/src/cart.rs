//! A cart that keeps every item, even when a page adds many at once: each item is its own session key,
//! and the server-side storages merge concurrent saves. Its page has a form guarded by the session's
//! CSRF token, and says what the last form did with a flash message shown once after the redirect.

use std::sync::Arc;

use axum::extract::Path;
use axum::http::StatusCode;
use axum::http::header::LOCATION;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use session_core::AbstractStorage;
use session_tower::{CsrfConfig, CsrfLayer, FlashLevel, Session, SessionError, SessionLayer};

/// The prefix of the session keys that hold cart items.
const ITEM: &str = "cart:";

/// `GET /` is the cart's page (its flash messages, its items, a form); `POST /add` is the form's
/// target (it needs the CSRF token), answering with a redirect to the page. For scripts:
/// `POST /cart/{item}` adds an item; `GET /cart` answers the items as a JSON array of names;
/// `POST /logout` ends the session, cart and all.
pub fn router(storage: Arc<dyn AbstractStorage>) -> Router {
    // The scripted routes are exempt so that the concurrency demo can fire them with curl; a real app
    // would have its scripts send the token in the `X-CSRF-Token` header instead.
    let csrf = CsrfConfig::new().exempt("/cart").exempt("/logout");
    Router::new()
        .route("/", get(page))
        .route("/add", post(add_from_form))
        .route("/cart", get(items))
        .route("/cart/{item}", post(add))
        .route("/logout", post(logout))
        .layer(CsrfLayer::with_config(csrf))
        .layer(SessionLayer::new(storage))
}

/// What the page's form sends (the CSRF layer has checked `csrf_token` before the handler runs).
#[derive(serde::Deserialize)]
struct AddForm {
    item: String,
}

async fn page(session: Session) -> Result<Html<String>, SessionError> {
    let flashes: String = session
        .take_flashes()?
        .into_iter()
        .map(|flash| format!("<p class=\"flash\">{}</p>\n", escape(&flash.text)))
        .collect();
    let keys = session.keys()?;
    let items: String =
        keys.iter().filter_map(|key| key.strip_prefix(ITEM)).map(|item| format!("<li>{}</li>", escape(item))).collect();
    let token = session.csrf_token()?;
    Ok(Html(format!(
        "<!doctype html>\n<title>Cart</title>\n{flashes}<ul id=\"items\">{items}</ul>\n\
         <form method=\"post\" action=\"/add\">\
         <input type=\"hidden\" name=\"csrf_token\" value=\"{token}\">\
         <input name=\"item\" id=\"item\"> <button id=\"add\">Add</button></form>\n"
    )))
}

async fn add_from_form(session: Session, Form(form): Form<AddForm>) -> Result<Response, SessionError> {
    let item = form.item.trim();
    if item.is_empty() {
        session.flash(FlashLevel::Warning, "Name an item to add.")?;
    } else {
        session.insert(format!("{ITEM}{item}"), true)?;
        session.flash(FlashLevel::Success, format!("Added {item}"))?;
    }
    // Post/redirect/get: the flash is shown on the page the redirect leads to, once.
    Ok((StatusCode::SEE_OTHER, [(LOCATION, "/")]).into_response())
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

/// Text as HTML: what a visitor typed never becomes markup.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}
