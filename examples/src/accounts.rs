//! Accounts on sessions: log in, who am I, remember me, my devices (listed and ended one by one), log
//! out, log out everywhere. There is no password here: `POST /login/{user}` stands for a login form
//! whose credentials were checked.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use session_core::accounts::{DeviceId, Devices};
use session_core::{AbstractStorage, Error};
use session_tower::{Session, SessionError, SessionLayer};

/// How long "remember me" keeps a session since its last use (the storage caps it at its remember
/// limit, 30 days unless configured).
const REMEMBERED: Duration = Duration::from_secs(30 * 24 * 3600);

/// What the handlers share: the storage's devices, when it lists them (Redis).
#[derive(Clone)]
struct Accounts {
    devices: Option<Arc<dyn Devices>>,
}

/// The routes: `POST /login/{user}` (the device labelled with the `User-Agent`), `GET /whoami`,
/// `POST /remember-me`, `POST /ends-with-browser`, `GET /devices`, `POST /devices/{device}/end`,
/// `POST /logout`, `POST /logout-everywhere`. `devices` is the same storage when it lists a user's
/// devices; without it the device routes answer 501.
pub fn router(storage: Arc<dyn AbstractStorage>, devices: Option<Arc<dyn Devices>>) -> Router {
    Router::new()
        .route("/login/{user}", post(login))
        .route("/whoami", get(whoami))
        .route("/remember-me", post(remember_me))
        .route("/ends-with-browser", post(ends_with_browser))
        .route("/devices", get(list_devices))
        .route("/devices/{device}/end", post(end_device))
        .route("/logout", post(logout))
        .route("/logout-everywhere", post(log_out_everywhere))
        .with_state(Accounts { devices })
        .layer(SessionLayer::new(storage))
}

async fn login(session: Session, Path(user): Path<String>, headers: HeaderMap) -> Result<String, SessionError> {
    // A new id, the user attached, the entry of the visitor's session deleted once this one is saved.
    session.login(&user)?;
    let agent = headers.get(header::USER_AGENT).and_then(|agent| agent.to_str().ok());
    session.set_device_label(agent.unwrap_or("unknown device"))?;
    Ok(format!("Logged in as {user}\n"))
}

async fn whoami(session: Session) -> Result<String, SessionError> {
    Ok(match session.user()? {
        Some(user) => format!("{user}\n"),
        None => "nobody\n".to_owned(),
    })
}

async fn remember_me(session: Session) -> Result<Response, SessionError> {
    if session.user()?.is_none() {
        return Ok(not_logged_in());
    }
    session.remember_for(REMEMBERED)?;
    Ok("Remembered for 30 days\n".into_response())
}

async fn ends_with_browser(session: Session) -> Result<Response, SessionError> {
    if session.user()?.is_none() {
        return Ok(not_logged_in());
    }
    session.end_with_browser()?;
    Ok("This session ends when the browser closes\n".into_response())
}

async fn list_devices(State(accounts): State<Accounts>, session: Session) -> Result<Response, SessionError> {
    let (Some(user), Some(devices)) = (session.user()?, accounts.devices) else {
        return cannot_list(&session);
    };
    let current = session.id()?.map(|id| DeviceId::of(&id));
    let mut page = String::new();
    for device in devices.devices(&user).await? {
        let here = if Some(&device.id) == current.as_ref() { " (this device)" } else { "" };
        let label = device.label.as_deref().unwrap_or("unknown device");
        let logged_in = device.logged_in.map_or_else(|| "?".to_owned(), |at| at.to_string());
        page.push_str(&format!(
            "{} {label}: logged in at {logged_in}, last seen at {}{here}\n",
            device.id, device.last_seen
        ));
    }
    Ok(page.into_response())
}

async fn end_device(
    State(accounts): State<Accounts>,
    session: Session,
    Path(device): Path<String>,
) -> Result<Response, SessionError> {
    let (Some(user), Some(devices)) = (session.user()?, accounts.devices) else {
        return cannot_list(&session);
    };
    let Ok(device) = device.parse::<DeviceId>() else {
        return Ok((StatusCode::NOT_FOUND, "No such device\n").into_response());
    };
    Ok(if devices.end_device(&user, &device).await? {
        "Ended\n".into_response()
    } else {
        (StatusCode::NOT_FOUND, "No such device\n").into_response()
    })
}

async fn logout(session: Session) -> Result<&'static str, SessionError> {
    session.invalidate()?;
    Ok("Logged out\n")
}

async fn log_out_everywhere(session: Session) -> Result<Response, SessionError> {
    let Some(user) = session.user()? else {
        return Ok(not_logged_in());
    };
    match session.log_out_everywhere(&user).await {
        Ok(()) => Ok("Logged out everywhere\n".into_response()),
        // A cookie storage with no store for it: say what to run instead of a bare 500.
        Err(error) if matches!(error.error(), Some(Error::Unsupported { .. })) => Ok((
            StatusCode::NOT_IMPLEMENTED,
            "This storage cannot log out everywhere: run with --storage redis or memcached, or --revocation\n",
        )
            .into_response()),
        Err(error) => Err(error),
    }
}

/// The answer of the device routes to a visitor, or on a storage that keeps no list of devices.
fn cannot_list(session: &Session) -> Result<Response, SessionError> {
    if session.user()?.is_none() {
        return Ok(not_logged_in());
    }
    Ok((StatusCode::NOT_IMPLEMENTED, "This storage keeps no list of devices: run with --storage redis\n")
        .into_response())
}

fn not_logged_in() -> Response {
    (StatusCode::UNAUTHORIZED, "Log in first: POST /login/{user}\n").into_response()
}
