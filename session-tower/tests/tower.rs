//! What the HTTP suite does not cover: tower's own wiring (a missing layer, one load per request, a
//! failing save), handlers with their own error type, and plain tower services.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use axum::Router;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use session_cookie::SimpleCookieStorage;
use session_core::server_side::ServerSideStorage;
use session_core::storage::{AbstractStorage, CookieAction, Loaded, Origin};
use session_core::{Error, SessionState, StorageConfig};
use session_devkit::axum_app::serve;
use session_testkit::Browser;
use session_testkit::zoo::MemoryStore;
use session_tower::{Session, SessionError, SessionLayer};

fn memory() -> (MemoryStore, ServerSideStorage<MemoryStore>) {
    let store = MemoryStore::new();
    (store.clone(), ServerSideStorage::new(store))
}

#[tokio::test]
async fn a_missing_layer_is_a_500() {
    struct Other;
    let (_, storage) = memory();
    let app =
        Router::new().route("/", get(|_: Session<Other>| async { "unreachable" })).layer(SessionLayer::new(storage));
    let reply = Browser::new(serve(app).await).get("/").await;
    assert_eq!(reply.status, StatusCode::INTERNAL_SERVER_ERROR);
}

#[tokio::test]
async fn the_same_tag_on_two_layers_is_an_error() {
    let (_, first) = memory();
    let second =
        StorageConfig::new().with_cookie(session_core::CookieConfig::builder().name("OTHER").build().expect("valid"));
    let app = Router::new()
        .route("/", get(|s: Session| async move { s.insert("k", 1) }))
        .layer(SessionLayer::new(first))
        .layer(SessionLayer::new(ServerSideStorage::new(MemoryStore::new()).with_config(second)));
    let reply = Browser::new(serve(app).await).get("/").await;
    assert_eq!(reply.status, StatusCode::INTERNAL_SERVER_ERROR, "two layers answer to `Session`");
    assert!(reply.set_cookies.is_empty());
}

/// A storage that counts its loads.
struct Counting {
    inner: Arc<dyn AbstractStorage>,
    loads: AtomicUsize,
}

#[async_trait]
impl AbstractStorage for Counting {
    fn config(&self) -> &StorageConfig {
        self.inner.config()
    }
    async fn load_session(&self, cookie: Option<&str>) -> Result<Loaded, Error> {
        self.loads.fetch_add(1, Ordering::SeqCst);
        self.inner.load_session(cookie).await
    }
    async fn save_session(&self, session: &mut SessionState, origin: Origin) -> Result<CookieAction, Error> {
        self.inner.save_session(session, origin).await
    }
}

#[tokio::test]
async fn a_session_is_loaded_at_most_once_per_request() {
    let storage = Arc::new(Counting { inner: Arc::new(memory().1), loads: AtomicUsize::new(0) });
    let app = Router::new()
        .route(
            "/",
            get(|a: Session, b: Session| async move {
                a.insert("k", 1)?;
                Ok::<_, SessionError>(format!("{:?}", b.get::<i32>("k")?))
            }),
        )
        .route("/static", get(|| async { "" }))
        .layer(SessionLayer::new(Arc::clone(&storage)));
    let mut browser = Browser::new(serve(app).await);
    assert_eq!(browser.get("/").await.body, "Some(1)", "both extractors share one session");
    assert_eq!(storage.loads.load(Ordering::SeqCst), 1);
    browser.get("/static").await;
    assert_eq!(storage.loads.load(Ordering::SeqCst), 1, "routes that do not ask load nothing");
}

#[tokio::test]
async fn a_failing_save_is_the_error_response_without_a_cookie() {
    let (store, storage) = memory();
    let app = Router::new()
        .route(
            "/",
            get(move |session: Session| async move {
                session.insert("k", 1)?;
                store.set_down(true);
                Ok::<_, SessionError>("handler said ok")
            }),
        )
        .layer(SessionLayer::new(storage).on_error(|error| {
            assert!(error.is_backend());
            let mut response = axum::http::Response::new("sessions are down".to_owned());
            *response.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
            response
        }));
    let reply = Browser::new(serve(app).await).get("/").await;
    assert_eq!((reply.status, reply.body.as_str()), (StatusCode::SERVICE_UNAVAILABLE, "sessions are down"));
    assert!(reply.set_cookies.is_empty());
}

/// An application error type that session errors convert into, so `?` works on both.
enum AppError {
    Session(SessionError),
    NotFound,
}

impl From<SessionError> for AppError {
    fn from(error: SessionError) -> Self {
        AppError::Session(error)
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        match self {
            AppError::Session(error) => error.into_response(),
            AppError::NotFound => StatusCode::NOT_FOUND.into_response(),
        }
    }
}

#[tokio::test]
async fn handlers_with_their_own_error_type_use_question_mark() {
    async fn cart(session: Session) -> Result<String, AppError> {
        let items: Option<Vec<String>> = session.get("cart")?;
        let items = items.ok_or(AppError::NotFound)?;
        session.insert("seen", true)?;
        Ok(items.join(","))
    }
    async fn fill(session: Session) -> Result<(), AppError> {
        Ok(session.insert("cart", ["apple", "pear"])?)
    }
    async fn broken(session: Session) -> Result<String, AppError> {
        Ok(session.get::<u64>("cart")?.unwrap_or(0).to_string())
    }
    let (_, storage) = memory();
    let app = Router::new()
        .route("/cart", get(cart))
        .route("/fill", get(fill))
        .route("/broken", get(broken))
        .layer(SessionLayer::new(storage));
    let mut browser = Browser::new(serve(app).await);
    assert_eq!(browser.get("/cart").await.status, StatusCode::NOT_FOUND);
    browser.get("/fill").await;
    assert_eq!(browser.get("/cart").await.body, "apple,pear");
    let broken = browser.get("/broken").await;
    assert_eq!(broken.status, StatusCode::INTERNAL_SERVER_ERROR, "a list read as a number: the layer's 500");
    assert!(!broken.body.contains("apple"), "nothing of the session reaches the client");
}

#[tokio::test]
async fn replacing_the_session_inside_update_is_an_error_not_a_hang() {
    let (_, storage) = memory();
    let app = Router::new()
        .route(
            "/",
            get(|session: Session| async move {
                let nested = session.update(|_| Ok(session.reset()))?;
                Ok::<_, SessionError>(format!("{}", nested.is_err()))
            }),
        )
        .layer(SessionLayer::new(storage));
    let reply = tokio::time::timeout(Duration::from_secs(5), Browser::new(serve(app).await).get("/")).await;
    assert_eq!(reply.expect("no hang").body, "true");
}

#[tokio::test]
async fn a_python_quoted_cookie_is_read() {
    // What aiohttp-session's SimpleCookieStorage sends.
    let app = Router::new()
        .route(
            "/",
            get(|session: Session| async move {
                let n = session.get::<u64>("n")?.unwrap_or(0) + 1;
                session.insert("n", n)?;
                Ok::<_, SessionError>(n.to_string())
            }),
        )
        .layer(SessionLayer::new(SimpleCookieStorage::new()));
    let mut browser = Browser::new(serve(app).await);
    // Written now: a cookie older than the default lifetime (two weeks) loads empty.
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("after 1970").as_secs();
    browser.jar.insert(
        "AIOHTTP_SESSION".into(),
        format!(r#""{{\"created\": {now}\054 \"session\": {{\"user\": \"alice\"\054 \"n\": 41}}}}""#),
    );
    let reply = browser.get("/").await;
    assert_eq!(reply.body, "42");
    let written = reply.set_cookie("AIOHTTP_SESSION").expect("cookie");
    assert!(written.contains(r#"\"user\": \"alice\"\054 \"n\": 42}}""#), "{written}");
}

#[tokio::test]
async fn get_session_and_reset_session_serve_plain_tower_services() {
    use axum::body::Body;
    use axum::http::Request;
    async fn service(request: Request<Body>) -> Result<String, SessionError> {
        let session = if request.uri().path() == "/login" {
            session_tower::reset_session(&request).await?
        } else {
            session_tower::get_session(&request).await?
        };
        let n = session.get::<u64>("n")?.unwrap_or(0) + 1;
        session.insert("n", n)?;
        Ok(n.to_string())
    }
    let (_, storage) = memory();
    let app = Router::new().fallback(service).layer(SessionLayer::new(storage));
    let mut browser = Browser::new(serve(app).await);
    assert_eq!(browser.get("/").await.body, "1");
    assert_eq!(browser.get("/").await.body, "2");
    assert_eq!(browser.get("/login").await.body, "1", "a fresh session");
}

/// A handler reaches the layer's storage as its own type for what only it can do (a user's devices);
/// asking for another type, or a layer given a `dyn` storage, is the layer's 500.
#[tokio::test]
async fn a_handler_reaches_the_storage_as_its_own_type() {
    async fn devices(session: Session) -> Result<String, SessionError> {
        let user = session.user()?.unwrap_or_default();
        let storage = session.storage::<ServerSideStorage<MemoryStore>>()?;
        Ok(storage.devices(&user).await?.len().to_string())
    }
    async fn other(session: Session) -> Result<String, SessionError> {
        Ok(format!("{:?}", session.storage::<SimpleCookieStorage>()?.config().cookie().name()))
    }
    let routes = || {
        Router::new()
            .route("/login", get(|s: Session| async move { s.login("alice") }))
            .route("/devices", get(devices))
            .route("/other", get(other))
    };
    let (_, typed) = memory();
    let mut browser = Browser::new(serve(routes().layer(SessionLayer::new(typed))).await);
    browser.get("/login").await;
    assert_eq!(browser.get("/devices").await.body, "1", "alice's one device, through the typed storage");
    assert_eq!(browser.get("/other").await.status, StatusCode::INTERNAL_SERVER_ERROR, "not the layer's type");
    let (_, erased) = memory();
    let erased: Arc<dyn AbstractStorage> = Arc::new(erased);
    let mut browser = Browser::new(serve(routes().layer(SessionLayer::new(erased))).await);
    browser.get("/login").await;
    assert_eq!(browser.get("/devices").await.status, StatusCode::INTERNAL_SERVER_ERROR, "a dyn storage has no type");
}

/// A layer built without cache headers leaves the app's caching headers as they are.
#[tokio::test]
async fn a_layer_without_cache_headers_adds_none() {
    let (_, storage) = memory();
    let app = Router::new()
        .route("/", get(|s: Session| async move { s.insert("k", 1) }))
        .layer(SessionLayer::new(storage).without_cache_headers());
    let reply = Browser::new(serve(app).await).get("/").await;
    assert_eq!(reply.set_cookies.len(), 1, "the session is saved");
    assert!(reply.headers.get("vary").is_none() && reply.headers.get("cache-control").is_none(), "{:?}", reply.headers);
}
