//! The reference app of `session_testkit::http_suite` on axum and `session-tower`: the HTTP suite runs
//! against it, and so do the storages' outage and concurrency scenarios.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use session_testkit::BoxFuture;
use session_testkit::http_suite::{HttpAdapter, ReferenceApp};
use session_tower::{CsrfLayer, FlashLevel, Session, SessionError, SessionLayer};
use tokio::net::TcpListener;

/// Tag of the second session.
struct Second;

/// Serves the reference app with `session-tower`.
#[derive(Clone, Copy, Debug, Default)]
pub struct Axum;

impl HttpAdapter for Axum {
    fn serve(&self, app: ReferenceApp) -> BoxFuture<'_, SocketAddr> {
        Box::pin(serve(router(app)))
    }
}

/// Serves `app` on 127.0.0.1 at a port the OS picks, until the test's runtime ends.
pub async fn serve(app: Router) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind loopback");
    let address = listener.local_addr().expect("address");
    tokio::spawn(async move { axum::serve(listener, app).await.expect("serve") });
    address
}

/// The reference app's routes behind two session layers (the second tagged).
pub fn router(app: ReferenceApp) -> Router {
    let error = |_: &session_core::Error| {
        let mut response = axum::http::Response::new("session error".to_owned());
        *response.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
        response
    };
    let app = Arc::new(app);
    let (storage, second) = (Arc::clone(&app.storage), Arc::clone(&app.second));
    Router::new()
        .route("/count", get(count))
        .route("/peek", get(peek))
        .route("/static", get(|| async { "static" }))
        .route("/write/{status}", get(write))
        .route("/items/{item}", post(add_item))
        .route("/items", get(items))
        .route("/login/{user}", get(login))
        .route("/whoami", get(whoami))
        .route("/devices", get(devices))
        .route("/devices/{device}/end", post(end_device))
        .route("/logout-everywhere", get(log_out_everywhere))
        .route("/remember/{seconds}", get(remember))
        .route("/cycle", get(cycle))
        .route("/user", get(user))
        .route("/logout", get(logout))
        .route("/both", get(both))
        .route("/wrong-type", get(wrong_type))
        .route("/nested", get(nested))
        .route("/debug", get(debug))
        .route("/library-error", get(library_error))
        .route("/cache/{directives}", get(cache))
        .route("/flash/{text}", get(flash_then_redirect).post(flash))
        .route("/flashes", get(flashes))
        .route("/csrf", get(csrf))
        .route("/form", post(|| async { "accepted" }).delete(|| async { "accepted" }))
        .with_state(app)
        .layer(CsrfLayer::with_config(ReferenceApp::csrf_config()))
        .layer(SessionLayer::new(storage).on_error(error))
        .layer(SessionLayer::new(second).tagged::<Second>().on_error(error))
}

fn shown<T: ToString>(value: Option<T>) -> String {
    value.map_or_else(|| "None".to_owned(), |value| value.to_string())
}

async fn count(session: Session) -> Result<String, SessionError> {
    let n = session.update(|session| {
        let n = session.get::<u64>("n")?.unwrap_or(0) + 1;
        session.insert("n", n)?;
        Ok(n)
    })?;
    Ok(n.to_string())
}

async fn peek(session: Session) -> Result<String, SessionError> {
    Ok(shown(session.get::<u64>("n")?))
}

async fn write(session: Session, Path(status): Path<u16>) -> Result<Response, SessionError> {
    session.insert("n", status)?;
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
    Ok(if status.is_redirection() {
        (status, [(header::LOCATION, "/peek")]).into_response()
    } else {
        status.into_response()
    })
}

async fn add_item(session: Session, Path(item): Path<String>) -> Result<(), SessionError> {
    session.insert(format!("item:{item}"), true)
}

async fn items(session: Session) -> Result<String, SessionError> {
    Ok(session.keys()?.iter().filter(|key| key.starts_with("item:")).count().to_string())
}

async fn login(session: Session, Path(user): Path<String>, headers: HeaderMap) -> Result<(), SessionError> {
    session.login(&user)?;
    let agent = headers.get(header::USER_AGENT).and_then(|agent| agent.to_str().ok());
    session.set_device_label(agent.unwrap_or("unknown"))?;
    session.insert("user", &user)
}

async fn whoami(session: Session) -> Result<String, SessionError> {
    Ok(format!("user={};id={}", shown(session.user()?), shown(session.id()?)))
}

async fn devices(State(app): State<Arc<ReferenceApp>>, session: Session) -> Result<String, SessionError> {
    let Some(user) = session.user()? else { return Ok("nobody".to_owned()) };
    Ok(app.devices(&user).await?)
}

async fn end_device(
    State(app): State<Arc<ReferenceApp>>,
    session: Session,
    Path(device): Path<String>,
) -> Result<&'static str, SessionError> {
    let Some(user) = session.user()? else { return Ok("nobody") };
    Ok(app.end_device(&user, &device).await?)
}

async fn log_out_everywhere(session: Session) -> Result<&'static str, SessionError> {
    let Some(user) = session.user()? else { return Ok("nobody") };
    session.log_out_everywhere(&user).await?;
    Ok("done")
}

async fn remember(session: Session, Path(seconds): Path<u64>) -> Result<(), SessionError> {
    session.remember_for(Duration::from_secs(seconds))
}

async fn cycle(session: Session) -> Result<(), SessionError> {
    session.cycle_id()
}

async fn user(session: Session) -> Result<String, SessionError> {
    Ok(shown(session.get::<String>("user")?))
}

async fn logout(session: Session) -> Result<(), SessionError> {
    session.invalidate()
}

async fn both(main: Session, second: Session<Second>) -> Result<String, SessionError> {
    let seen = format!("user={};theme={}", shown(main.get::<String>("user")?), shown(second.get::<String>("theme")?));
    main.insert("user", "alice")?;
    second.insert("theme", "dark")?;
    Ok(seen)
}

async fn wrong_type(session: Session) -> Result<String, SessionError> {
    Ok(shown(session.get::<u64>("user")?))
}

async fn nested(session: Session) -> Result<String, SessionError> {
    let inner = session.update(|_| Ok(session.contains_key("user")))?;
    Ok(inner?.to_string())
}

async fn debug(session: Session) -> Result<&'static str, SessionError> {
    session.update(|_| {
        tracing::info!(session = ?session, "formatted inside update");
        Ok(format!("{session:?}"))
    })?;
    Ok("ok")
}

async fn cache(session: Session, Path(directives): Path<String>) -> Result<Response, SessionError> {
    count(session).await?;
    Ok(([(header::CACHE_CONTROL, directives)], "cached?").into_response())
}

async fn library_error(session: Session) -> Result<String, SessionError> {
    session.insert("touched", true)?;
    let key = session_core::sealed::SecretKey::from_base64("not a key")?;
    Ok(format!("{key:?}"))
}

async fn flash(session: Session, Path(text): Path<String>) -> Result<&'static str, SessionError> {
    session.flash(FlashLevel::Info, text)?;
    Ok("queued")
}

async fn flash_then_redirect(session: Session, Path(text): Path<String>) -> Result<Response, SessionError> {
    session.flash(FlashLevel::Info, text)?;
    Ok((StatusCode::SEE_OTHER, [(header::LOCATION, "/flashes")]).into_response())
}

async fn flashes(session: Session) -> Result<String, SessionError> {
    let texts: Vec<String> = session.take_flashes()?.into_iter().map(|flash| flash.text).collect();
    Ok(if texts.is_empty() { "none".to_owned() } else { texts.join(",") })
}

async fn csrf(session: Session) -> Result<String, SessionError> {
    session.csrf_token()
}
