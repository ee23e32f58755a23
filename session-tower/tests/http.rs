//! The middleware over real HTTP: an axum server on loopback, a hyper client with a cookie jar.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use axum::Router;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use axum::routing::get;
use http::Response;
use session_cookie::{EncryptedCookieStorage, SimpleCookieStorage};
use session_core::{AbstractStorage, CookieAction, CookieConfig, Error, Session as CoreSession, StorageConfig};
use session_testkit::Browser;
use session_testkit::scenarios::serve;
use session_tower::{Session, SessionLayer};

const KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

fn encrypted() -> EncryptedCookieStorage {
    EncryptedCookieStorage::new(KEY).expect("key")
}

async fn count(session: Session) -> String {
    let mut session = session.lock();
    let n = session.get::<u64>("n").ok().flatten().unwrap_or(0) + 1;
    session.insert("n", n).expect("int");
    n.to_string()
}

async fn peek(session: Session) -> String {
    format!("{:?}", session.lock().get::<u64>("n").ok().flatten())
}

fn counter_app(layer: SessionLayer) -> Router {
    Router::new()
        .route("/", get(count))
        .route("/peek", get(peek))
        .route("/static", get(|| async { "no session here" }))
        .route("/logout", get(|session: Session| async move { session.lock().invalidate() }))
        .layer(layer)
}

#[tokio::test]
async fn a_session_survives_between_requests() {
    let mut browser = Browser::new(serve(counter_app(SessionLayer::new(encrypted()))).await);
    let first = browser.get("/").await;
    assert_eq!((first.status, first.body.as_str()), (StatusCode::OK, "1"));
    let cookie = first.set_cookie("AIOHTTP_SESSION").expect("Set-Cookie");
    assert!(
        cookie.contains("; HttpOnly") && cookie.contains("; Path=/") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    assert_eq!(browser.get("/").await.body, "2");
    assert_eq!(browser.get("/").await.body, "3");
}

#[tokio::test]
async fn untouched_and_read_only_requests_send_no_cookie() {
    let mut browser = Browser::new(serve(counter_app(SessionLayer::new(encrypted()))).await);
    let untouched = browser.get("/static").await;
    assert_eq!((untouched.status, untouched.set_cookies.len()), (StatusCode::OK, 0));
    browser.get("/").await;
    let read = browser.get("/peek").await;
    assert_eq!(read.body, "Some(1)");
    assert!(read.set_cookies.is_empty(), "{:?}", read.set_cookies);
}

#[tokio::test]
async fn a_garbage_cookie_is_a_fresh_session_not_an_error() {
    let mut browser = Browser::new(serve(counter_app(SessionLayer::new(encrypted()))).await);
    browser.jar.insert("AIOHTTP_SESSION".into(), "\"gAAAA\\054garbage\"".into());
    let reply = browser.get("/").await;
    assert_eq!((reply.status, reply.body.as_str()), (StatusCode::OK, "1"));
    let untouched = browser.get("/static").await;
    assert_eq!(untouched.status, StatusCode::OK);
}

#[tokio::test]
async fn logout_removes_the_cookie() {
    let mut browser = Browser::new(serve(counter_app(SessionLayer::new(encrypted()))).await);
    browser.get("/").await;
    let logout = browser.get("/logout").await;
    let removal = logout.set_cookie("AIOHTTP_SESSION").expect("removal cookie");
    assert!(removal.contains("Max-Age=0"), "{removal}");
    assert!(browser.jar.is_empty());
    assert_eq!(browser.get("/").await.body, "1");
}

#[tokio::test]
async fn saves_on_redirects_and_client_errors_but_not_on_server_errors() {
    async fn write_then(session: Session, status: StatusCode) -> axum::response::Response {
        session.lock().insert("wrote", status.as_u16()).expect("int");
        if status.is_redirection() { Redirect::to("/peek").into_response() } else { status.into_response() }
    }
    let app = Router::new()
        .route("/302", get(|s: Session| write_then(s, StatusCode::FOUND)))
        .route("/404", get(|s: Session| write_then(s, StatusCode::NOT_FOUND)))
        .route("/500", get(|s: Session| write_then(s, StatusCode::INTERNAL_SERVER_ERROR)))
        .route("/503", get(|s: Session| write_then(s, StatusCode::SERVICE_UNAVAILABLE)))
        .route("/wrote", get(|s: Session| async move { format!("{:?}", s.lock().get::<u16>("wrote").ok().flatten()) }))
        .layer(SessionLayer::new(encrypted()));
    let address = serve(app).await;

    let mut browser = Browser::new(address);
    assert!(browser.get("/302").await.set_cookie("AIOHTTP_SESSION").is_some());
    assert_eq!(browser.get("/wrote").await.body, "Some(302)");
    assert!(browser.get("/404").await.set_cookie("AIOHTTP_SESSION").is_some());
    assert_eq!(browser.get("/wrote").await.body, "Some(404)");
    for path in ["/500", "/503"] {
        let failed = browser.get(path).await;
        assert!(failed.set_cookies.is_empty(), "{path}: {:?}", failed.set_cookies);
    }
    assert_eq!(browser.get("/wrote").await.body, "Some(404)", "5xx responses saved nothing");
}

/// Two storages under two cookie names in one app, each reachable from one handler.
#[tokio::test]
async fn two_storages_side_by_side() {
    struct Prefs;
    async fn both(login: Session, prefs: Session<Prefs>) -> String {
        let mut login = login.lock();
        let mut prefs = prefs.lock();
        let seen = format!(
            "user={:?} theme={:?}",
            login.get::<String>("user").ok().flatten(),
            prefs.get::<String>("theme").ok().flatten()
        );
        login.insert("user", "alice").expect("str");
        prefs.insert("theme", "dark").expect("str");
        seen
    }
    let prefs_storage = SimpleCookieStorage::new().with_config(CookieConfig::new().name("PREFS"));
    let app = Router::new()
        .route("/", get(both))
        .layer(SessionLayer::new(encrypted()))
        .layer(SessionLayer::<Prefs>::tagged(prefs_storage));
    let mut browser = Browser::new(serve(app).await);
    let first = browser.get("/").await;
    assert_eq!(first.body, "user=None theme=None");
    assert!(first.set_cookie("AIOHTTP_SESSION").expect("login cookie").contains("gAAAAA"));
    assert!(first.set_cookie("PREFS").expect("prefs cookie").contains(r#"\"theme\": \"dark\""#));
    assert_eq!(browser.get("/").await.body, r#"user=Some("alice") theme=Some("dark")"#);
}

#[tokio::test]
async fn a_missing_layer_is_a_500() {
    struct Other;
    let app = Router::new()
        .route("/", get(|_: Session<Other>| async { "unreachable" }))
        .layer(SessionLayer::new(encrypted()));
    let reply = Browser::new(serve(app).await).get("/").await;
    assert_eq!(reply.status, StatusCode::INTERNAL_SERVER_ERROR);
}

/// A store that works until told to fail, keeping sessions in memory under generated identities.
#[derive(Default)]
struct MemoryStore {
    config: StorageConfig,
    entries: Mutex<HashMap<String, String>>,
    next_id: AtomicUsize,
    loads: AtomicUsize,
    down: std::sync::atomic::AtomicBool,
}

impl MemoryStore {
    fn check(&self) -> Result<(), Error> {
        if self.down.load(Ordering::SeqCst) {
            Err(Error::backend(std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "store is down")))
        } else {
            Ok(())
        }
    }
}

#[async_trait]
impl AbstractStorage for MemoryStore {
    fn config(&self) -> &StorageConfig {
        &self.config
    }
    async fn load_session(&self, cookie: Option<&str>) -> Result<CoreSession, Error> {
        self.check()?;
        self.loads.fetch_add(1, Ordering::SeqCst);
        let stored = cookie.and_then(|id| self.entries.lock().unwrap().get(id).cloned().map(|text| (id, text)));
        Ok(match stored {
            Some((id, text)) => self.config.open("memory", Some(id.to_owned()), &text),
            None => self.new_session(),
        })
    }
    async fn save_session(&self, session: &mut CoreSession) -> Result<CookieAction, Error> {
        self.check()?;
        let id = match session.identity() {
            Some(id) => id.to_owned(),
            None => format!("id{}", self.next_id.fetch_add(1, Ordering::SeqCst)),
        };
        if session.is_empty() {
            self.entries.lock().unwrap().remove(&id);
            return Ok(CookieAction::Remove);
        }
        self.entries.lock().unwrap().insert(id.clone(), self.config.encode(session)?);
        Ok(CookieAction::Set(id))
    }
    async fn remove_session(&self, identity: &str) -> Result<(), Error> {
        self.check()?;
        self.entries.lock().unwrap().remove(identity);
        Ok(())
    }
}

#[tokio::test]
async fn a_failing_store_is_a_500_and_the_app_recovers_when_it_is_back() {
    let store = Arc::new(MemoryStore::default());
    let mut browser = Browser::new(serve(counter_app(SessionLayer::new(store.clone()))).await);
    assert_eq!(browser.get("/").await.body, "1");
    store.down.store(true, Ordering::SeqCst);
    let failed = browser.get("/").await;
    assert_eq!(failed.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(failed.set_cookies.is_empty());
    assert!(!failed.body.contains("store is down"), "error details stay in the log");
    assert_eq!(browser.get("/static").await.status, StatusCode::OK, "routes without sessions still work");
    store.down.store(false, Ordering::SeqCst);
    assert_eq!(browser.get("/").await.body, "2", "nothing acknowledged was lost");
}

#[tokio::test]
async fn a_failing_save_is_a_500_without_a_cookie() {
    let store = Arc::new(MemoryStore::default());
    let app = Router::new()
        .route(
            "/",
            get({
                let store = store.clone();
                move |session: Session| async move {
                    session.lock().insert("k", 1).expect("int");
                    store.down.store(true, Ordering::SeqCst);
                    "handler said ok"
                }
            }),
        )
        .layer(SessionLayer::new(store.clone()));
    let reply = Browser::new(serve(app).await).get("/").await;
    assert_eq!(reply.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(reply.set_cookies.is_empty());
    assert!(store.entries.lock().unwrap().is_empty());
}

#[tokio::test]
async fn the_app_can_supply_its_own_error_response() {
    let store = Arc::new(MemoryStore::default());
    store.down.store(true, Ordering::SeqCst);
    let layer = SessionLayer::new(store).on_error(|error| {
        assert!(error.is_backend());
        let mut response = Response::new("sessions are down".to_owned());
        *response.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
        response
    });
    let reply = Browser::new(serve(counter_app(layer)).await).get("/").await;
    assert_eq!((reply.status, reply.body.as_str()), (StatusCode::SERVICE_UNAVAILABLE, "sessions are down"));
}

#[tokio::test]
async fn a_session_is_loaded_at_most_once_per_request() {
    let store = Arc::new(MemoryStore::default());
    let app = Router::new()
        .route(
            "/",
            get(|a: Session, b: Session| async move {
                a.lock().insert("k", 1).expect("int");
                format!("{:?}", b.lock().get::<i32>("k").ok().flatten())
            }),
        )
        .route("/static", get(|| async { "" }))
        .layer(SessionLayer::new(store.clone()));
    let mut browser = Browser::new(serve(app).await);
    assert_eq!(browser.get("/").await.body, "Some(1)", "both extractors share one session");
    assert_eq!(store.loads.load(Ordering::SeqCst), 1);
    browser.get("/static").await;
    assert_eq!(store.loads.load(Ordering::SeqCst), 1, "routes that do not ask load nothing");
}

#[tokio::test]
async fn new_session_gets_a_new_identity_and_removes_the_old_entry_after_saving() {
    let store = Arc::new(MemoryStore::default());
    let app = Router::new()
        .route("/", get(count))
        .route(
            "/login",
            get(|session: Session| async move {
                let mut fresh = session.new_session();
                assert!(fresh.is_new() && fresh.is_empty());
                fresh.insert("user", "alice").expect("str");
            }),
        )
        .route("/renew-only", get(|session: Session| async move { drop(session.new_session()) }))
        .layer(SessionLayer::new(store.clone()));
    let mut browser = Browser::new(serve(app).await);
    browser.get("/").await;
    let before = browser.jar["AIOHTTP_SESSION"].clone();

    // A new session that is never written saves nothing and keeps the old entry.
    assert!(browser.get("/renew-only").await.set_cookies.is_empty());
    assert!(store.entries.lock().unwrap().contains_key(&before));

    browser.get("/login").await;
    let after = browser.jar["AIOHTTP_SESSION"].clone();
    assert_ne!(before, after);
    let entries = store.entries.lock().unwrap();
    assert!(!entries.contains_key(&before), "the replaced entry is gone");
    assert!(entries[&after].contains("alice"));
}

#[tokio::test]
async fn a_python_quoted_cookie_is_read() {
    // V1 of the reference study: what aiohttp-session's SimpleCookieStorage sends.
    let mut browser = Browser::new(serve(counter_app(SessionLayer::new(SimpleCookieStorage::new()))).await);
    browser.jar.insert(
        "AIOHTTP_SESSION".into(),
        r#""{\"created\": 1700000000\054 \"session\": {\"user\": \"alice\"\054 \"n\": 41}}""#.into(),
    );
    let reply = browser.get("/").await;
    assert_eq!(reply.body, "42");
    let written = reply.set_cookie("AIOHTTP_SESSION").expect("cookie");
    assert!(written.contains(r#"\"user\": \"alice\"\054 \"n\": 42}}""#), "{written}");
}
