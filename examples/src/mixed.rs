//! Two storages in one app: display preferences in an encrypted cookie (nothing to look up, nothing
//! secret), the login in Redis (revocable, shared by every server).

use axum::Router;
use axum::extract::Path;
use axum::routing::get;
use session_core::AbstractStorage;
use session_tower::{Session, SessionError, SessionLayer};

/// Tag of the preferences layer: handlers ask for `Session<Prefs>`.
pub struct Prefs;

/// `GET /` greets the user in their theme; `/login/{user}`, `/logout`, `/theme/{name}` change them.
///
/// `login` keeps the default cookie name; `prefs` needs a cookie name of its own.
pub fn router(login: impl AbstractStorage + 'static, prefs: impl AbstractStorage + 'static) -> Router {
    Router::new()
        .route("/", get(index))
        .route("/login/{user}", get(login_as))
        .route("/logout", get(logout))
        .route("/theme/{theme}", get(set_theme))
        .layer(SessionLayer::new(login))
        .layer(SessionLayer::new(prefs).tagged::<Prefs>())
}

async fn index(login: Session, prefs: Session<Prefs>) -> Result<String, SessionError> {
    let user = login.get::<String>("user")?;
    let theme = prefs.get::<String>("theme")?;
    Ok(format!("Hello {}; theme: {}", user.as_deref().unwrap_or("guest"), theme.as_deref().unwrap_or("light")))
}

async fn login_as(login: Session, Path(user): Path<String>) -> Result<String, SessionError> {
    // A fresh session id at login, so an id planted before login is worth nothing.
    login.login(&user)?;
    login.insert("user", &user)?;
    Ok(format!("Logged in as {user}"))
}

async fn logout(login: Session) -> Result<&'static str, SessionError> {
    login.invalidate()?;
    Ok("Logged out")
}

async fn set_theme(prefs: Session<Prefs>, Path(theme): Path<String>) -> Result<String, SessionError> {
    prefs.insert("theme", &theme)?;
    Ok(format!("Theme: {theme}"))
}
