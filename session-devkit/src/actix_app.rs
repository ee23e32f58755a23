//! The reference app of `session_testkit::http_suite` on actix-web and `session-actix`, route by route
//! the same as [`axum_app`](crate::axum_app).

use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::sync::mpsc;
use std::time::Duration;

use actix_web::dev::ServerHandle;
use actix_web::http::StatusCode;
use actix_web::http::header::{CACHE_CONTROL, LOCATION, USER_AGENT};
use actix_web::rt::System;
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use session_actix::{CsrfMiddleware, FlashLevel, Session, SessionError, SessionMiddleware};
use session_testkit::BoxFuture;
use session_testkit::http_suite::{HttpAdapter, ReferenceApp};

/// Tag of the second session.
struct Second;

/// Serves the reference app with `session-actix`.
#[derive(Clone, Copy, Debug, Default)]
pub struct Actix;

impl HttpAdapter for Actix {
    fn serve(&self, app: ReferenceApp) -> BoxFuture<'_, SocketAddr> {
        let app = Arc::new(app);
        Box::pin(serve(move |config| routes(Arc::clone(&app), config)))
    }
}

/// Serves the app `configure` describes on 127.0.0.1 at a port the OS picks, with one worker, until
/// the test's runtime ends: actix-web runs in its own `System` on its own thread, stopped when the
/// calling tokio runtime drops its tasks. Call it from inside a tokio runtime.
pub async fn serve<F>(configure: F) -> SocketAddr
where
    F: Fn(&mut web::ServiceConfig) + Clone + Send + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    let address = listener.local_addr().expect("address");
    let (handle_tx, handle_rx) = mpsc::channel();
    std::thread::Builder::new()
        .name(format!("actix-{address}"))
        .spawn(move || {
            System::new().block_on(async move {
                let server = HttpServer::new(move || App::new().configure(configure.clone()))
                    .workers(1)
                    .disable_signals()
                    .shutdown_timeout(1)
                    .listen(listener)
                    .expect("listen")
                    .run();
                handle_tx.send(server.handle()).expect("the caller waits for the handle");
                server.await.expect("serve");
            });
        })
        .expect("spawn the actix-web thread");
    let handle = handle_rx.recv().expect("the actix-web server starts");
    // Stops the server when the test's runtime ends (its tasks are dropped then).
    tokio::spawn(async move {
        let _stop = StopOnDrop(handle);
        std::future::pending::<()>().await;
    });
    address
}

struct StopOnDrop(ServerHandle);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        // The command is sent now; the returned future only waits for the server to finish.
        drop(self.0.stop(false));
    }
}

/// The reference app's routes behind two session middlewares (the second tagged), both answering
/// 503 `session error` for a session error.
pub fn routes(app: Arc<ReferenceApp>, config: &mut web::ServiceConfig) {
    let error = |_: &session_core::Error| HttpResponse::ServiceUnavailable().body("session error");
    config.app_data(web::Data::from(Arc::clone(&app))).service(
        web::scope("")
            // The innermost: it reads the main session, which the middleware around it provides.
            .wrap(CsrfMiddleware::with_config(ReferenceApp::csrf_config()))
            .wrap(SessionMiddleware::new(Arc::clone(&app.storage)).on_error(error))
            .wrap(SessionMiddleware::new(Arc::clone(&app.second)).tagged::<Second>().on_error(error))
            .route("/count", web::get().to(count))
            .route("/peek", web::get().to(peek))
            .route("/static", web::get().to(|| async { "static" }))
            .route("/write/{status}", web::get().to(write))
            .route("/items/{item}", web::post().to(add_item))
            .route("/items", web::get().to(items))
            .route("/login/{user}", web::get().to(login))
            .route("/whoami", web::get().to(whoami))
            .route("/devices", web::get().to(devices))
            .route("/devices/{device}/end", web::post().to(end_device))
            .route("/logout-everywhere", web::get().to(log_out_everywhere))
            .route("/remember/{seconds}", web::get().to(remember))
            .route("/cycle", web::get().to(cycle))
            .route("/user", web::get().to(user))
            .route("/logout", web::get().to(logout))
            .route("/both", web::get().to(both))
            .route("/wrong-type", web::get().to(wrong_type))
            .route("/nested", web::get().to(nested))
            .route("/debug", web::get().to(debug))
            .route("/library-error", web::get().to(library_error))
            .route("/cache/{directives}", web::get().to(cache))
            .route("/flash/{text}", web::get().to(flash_then_redirect))
            .route("/flash/{text}", web::post().to(flash))
            .route("/flashes", web::get().to(flashes))
            .route("/csrf", web::get().to(csrf))
            .route("/form", web::post().to(|| async { "accepted" }))
            .route("/form", web::delete().to(|| async { "accepted" })),
    );
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

async fn write(session: Session, status: web::Path<u16>) -> Result<HttpResponse, SessionError> {
    let status = status.into_inner();
    session.insert("n", status)?;
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
    let mut response = HttpResponse::build(status);
    if status.is_redirection() {
        response.insert_header((LOCATION, "/peek"));
    }
    Ok(response.finish())
}

async fn add_item(session: Session, item: web::Path<String>) -> Result<HttpResponse, SessionError> {
    session.insert(format!("item:{item}"), true)?;
    Ok(HttpResponse::Ok().finish())
}

async fn items(session: Session) -> Result<String, SessionError> {
    Ok(session.keys()?.iter().filter(|key| key.starts_with("item:")).count().to_string())
}

async fn login(session: Session, user: web::Path<String>, request: HttpRequest) -> Result<HttpResponse, SessionError> {
    let user = user.into_inner();
    session.login(&user)?;
    let agent = request.headers().get(USER_AGENT).and_then(|agent| agent.to_str().ok());
    session.set_device_label(agent.unwrap_or("unknown"))?;
    session.insert("user", &user)?;
    Ok(HttpResponse::Ok().finish())
}

async fn whoami(session: Session) -> Result<String, SessionError> {
    Ok(format!("user={};id={}", shown(session.user()?), shown(session.id()?)))
}

async fn devices(app: web::Data<ReferenceApp>, session: Session) -> Result<String, SessionError> {
    let Some(user) = session.user()? else { return Ok("nobody".to_owned()) };
    Ok(app.devices(&user).await?)
}

async fn end_device(
    app: web::Data<ReferenceApp>,
    session: Session,
    device: web::Path<String>,
) -> Result<&'static str, SessionError> {
    let Some(user) = session.user()? else { return Ok("nobody") };
    Ok(app.end_device(&user, &device).await?)
}

async fn log_out_everywhere(session: Session) -> Result<&'static str, SessionError> {
    let Some(user) = session.user()? else { return Ok("nobody") };
    session.log_out_everywhere(&user).await?;
    Ok("done")
}

async fn remember(session: Session, seconds: web::Path<u64>) -> Result<HttpResponse, SessionError> {
    session.remember_for(Duration::from_secs(seconds.into_inner()))?;
    Ok(HttpResponse::Ok().finish())
}

async fn cycle(session: Session) -> Result<HttpResponse, SessionError> {
    session.cycle_id()?;
    Ok(HttpResponse::Ok().finish())
}

async fn user(session: Session) -> Result<String, SessionError> {
    Ok(shown(session.get::<String>("user")?))
}

async fn logout(session: Session) -> Result<HttpResponse, SessionError> {
    session.invalidate()?;
    Ok(HttpResponse::Ok().finish())
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

async fn cache(session: Session, directives: web::Path<String>) -> Result<HttpResponse, SessionError> {
    count(session).await?;
    Ok(HttpResponse::Ok().insert_header((CACHE_CONTROL, directives.into_inner())).body("cached?"))
}

async fn library_error(session: Session) -> Result<String, SessionError> {
    session.insert("touched", true)?;
    let key = session_core::sealed::SecretKey::from_base64("not a key")?;
    Ok(format!("{key:?}"))
}

async fn flash(session: Session, text: web::Path<String>) -> Result<&'static str, SessionError> {
    session.flash(FlashLevel::Info, text.into_inner())?;
    Ok("queued")
}

async fn flash_then_redirect(session: Session, text: web::Path<String>) -> Result<HttpResponse, SessionError> {
    session.flash(FlashLevel::Info, text.into_inner())?;
    Ok(HttpResponse::SeeOther().insert_header((LOCATION, "/flashes")).finish())
}

async fn flashes(session: Session) -> Result<String, SessionError> {
    let texts: Vec<String> = session.take_flashes()?.into_iter().map(|flash| flash.text).collect();
    Ok(if texts.is_empty() { "none".to_owned() } else { texts.join(",") })
}

async fn csrf(session: Session) -> Result<String, SessionError> {
    session.csrf_token()
}
