//! What the HTTP suite does not cover: actix-web's own wiring (a missing middleware, one load per
//! request, a failing save), handlers with their own error type or `actix_web::Error`, `!Send`
//! handlers, `get_session` and `reset_session` on an `HttpRequest`, and the test server's lifetime.

use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, ResponseError, web};
use async_trait::async_trait;
use session_actix::{Session, SessionError, SessionMiddleware};
use session_cookie::SimpleCookieStorage;
use session_core::server_side::ServerSideStorage;
use session_core::storage::{AbstractStorage, CookieAction, Loaded, Origin};
use session_core::{CookieConfig, Error, SessionState, StorageConfig};
use session_devkit::actix_app::serve;
use session_testkit::Browser;
use session_testkit::zoo::MemoryStore;

fn memory() -> (MemoryStore, ServerSideStorage<MemoryStore>) {
    let store = MemoryStore::new();
    (store.clone(), ServerSideStorage::new(store))
}

#[test]
fn the_handle_and_the_middleware_are_send_and_sync() {
    fn send_sync<X: Send + Sync + Clone>() {}
    send_sync::<Session>();
    send_sync::<Session<u8>>();
    send_sync::<SessionMiddleware>();
    send_sync::<SessionMiddleware<u8>>();
}

#[tokio::test]
async fn a_missing_middleware_is_a_500() {
    struct Other;
    let sessions = SessionMiddleware::new(memory().1);
    let address = serve(move |config| {
        config.service(
            web::scope("")
                .wrap(sessions.clone())
                .route("/", web::get().to(|_: Session<Other>| async { "unreachable" }))
                .route("/untagged", web::get().to(|s: Session| async move { s.keys().map(|k| k.len().to_string()) })),
        );
    })
    .await;
    let mut browser = Browser::new(address);
    let reply = browser.get("/").await;
    assert_eq!((reply.status.as_u16(), reply.body.as_str()), (500, "Internal Server Error"));
    assert_eq!(browser.get("/untagged").await.body, "0", "the untagged session is there");
}

#[tokio::test]
async fn the_same_tag_on_two_middlewares_is_an_error() {
    let (_, first) = memory();
    let second = StorageConfig::new().with_cookie(CookieConfig::builder().name("OTHER").build().expect("valid"));
    let (first, second) = (
        SessionMiddleware::new(first),
        SessionMiddleware::new(ServerSideStorage::new(MemoryStore::new()).with_config(second)),
    );
    let called = Arc::new(AtomicUsize::new(0));
    let calls = Arc::clone(&called);
    let address = serve(move |config| {
        let calls = Arc::clone(&calls);
        config.service(web::scope("").wrap(first.clone()).wrap(second.clone()).route(
            "/",
            web::get().to(move |s: Session| {
                calls.fetch_add(1, Ordering::SeqCst);
                async move { s.insert("k", 1).map(|()| "written") }
            }),
        ));
    })
    .await;
    let reply = Browser::new(address).get("/").await;
    assert_eq!(reply.status, 500, "two middlewares answer to `Session`");
    assert!(reply.set_cookies.is_empty());
    assert_eq!(called.load(Ordering::SeqCst), 0, "the handler is not called");
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
    let sessions = SessionMiddleware::new(Arc::clone(&storage));
    let address = serve(move |config| {
        config.service(
            web::scope("")
                .wrap(sessions.clone())
                .route(
                    "/",
                    web::get().to(|a: Session, b: Session| async move {
                        a.insert("k", 1)?;
                        Ok::<_, SessionError>(format!("{:?}", b.get::<i32>("k")?))
                    }),
                )
                .route("/static", web::get().to(|| async { "" })),
        );
    })
    .await;
    let mut browser = Browser::new(address);
    assert_eq!(browser.get("/").await.body, "Some(1)", "both extractors share one session");
    assert_eq!(storage.loads.load(Ordering::SeqCst), 1);
    browser.get("/static").await;
    assert_eq!(storage.loads.load(Ordering::SeqCst), 1, "routes that do not ask load nothing");
}

#[tokio::test]
async fn a_failing_save_is_the_error_response_without_a_cookie() {
    let (store, storage) = memory();
    let sessions = SessionMiddleware::new(storage).on_error(|error| {
        assert!(error.is_backend());
        HttpResponse::ServiceUnavailable().body("sessions are down")
    });
    let address = serve(move |config| {
        let store = store.clone();
        config.service(web::scope("").wrap(sessions.clone()).route(
            "/",
            web::get().to(move |session: Session| {
                let store = store.clone();
                async move {
                    session.insert("k", 1)?;
                    store.set_down(true);
                    Ok::<_, SessionError>("handler said ok")
                }
            }),
        ));
    })
    .await;
    let reply = Browser::new(address).get("/").await;
    assert_eq!((reply.status.as_u16(), reply.body.as_str()), (503, "sessions are down"));
    assert!(reply.set_cookies.is_empty());
}

/// An application error type that session errors convert into, so `?` works on both.
#[derive(Debug)]
enum AppError {
    Session(SessionError),
    NotFound,
}

impl std::fmt::Display for AppError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AppError::Session(error) => error.fmt(f),
            AppError::NotFound => f.write_str("not found"),
        }
    }
}

impl From<SessionError> for AppError {
    fn from(error: SessionError) -> Self {
        AppError::Session(error)
    }
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        match self {
            AppError::Session(error) => error.status_code(),
            AppError::NotFound => StatusCode::NOT_FOUND,
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            AppError::Session(error) => error.error_response(),
            AppError::NotFound => HttpResponse::NotFound().finish(),
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
    async fn fill(session: Session) -> Result<HttpResponse, AppError> {
        session.insert("cart", ["apple", "pear"])?;
        Ok(HttpResponse::Ok().finish())
    }
    async fn broken(session: Session) -> Result<String, AppError> {
        Ok(session.get::<u64>("cart")?.unwrap_or(0).to_string())
    }
    /// `actix_web::Error` takes a `SessionError` with `?` as it is.
    async fn plain(session: Session) -> Result<String, actix_web::Error> {
        Ok(session.get::<u64>("cart")?.unwrap_or(0).to_string())
    }
    let sessions = SessionMiddleware::new(memory().1);
    let address = serve(move |config| {
        config.service(
            web::scope("")
                .wrap(sessions.clone())
                .route("/cart", web::get().to(cart))
                .route("/fill", web::get().to(fill))
                .route("/broken", web::get().to(broken))
                .route("/plain", web::get().to(plain)),
        );
    })
    .await;
    let mut browser = Browser::new(address);
    assert_eq!(browser.get("/cart").await.status, 404);
    browser.get("/fill").await;
    assert_eq!(browser.get("/cart").await.body, "apple,pear");
    for path in ["/broken", "/plain"] {
        let broken = browser.get(path).await;
        assert_eq!(broken.status, 500, "{path}: a list read as a number is a 500");
        assert!(!broken.body.contains("apple"), "{path}: nothing of the session reaches the client");
        assert!(broken.set_cookies.is_empty(), "{path}: a 5xx saves nothing");
    }
}

#[tokio::test]
async fn session_errors_answer_with_the_on_error_response_and_status() {
    let sessions =
        SessionMiddleware::new(memory().1).on_error(|_| HttpResponse::ServiceUnavailable().body("session error"));
    let address = serve(move |config| {
        config.service(web::scope("").wrap(sessions.clone()).route(
            "/",
            web::get().to(|session: Session| async move {
                session.insert("n", "text")?;
                let error = session.get::<u64>("n").expect_err("a string is not a number");
                assert!(matches!(error.error(), Some(Error::Decode(_))), "{error:?}");
                assert!(std::error::Error::source(&error).is_some());
                Err::<String, _>(error)
            }),
        ));
    })
    .await;
    let reply = Browser::new(address).get("/").await;
    assert_eq!((reply.status.as_u16(), reply.body.as_str()), (503, "session error"));
    assert!(reply.set_cookies.is_empty());
}

#[tokio::test]
async fn replacing_the_session_inside_update_is_an_error_not_a_hang() {
    let sessions = SessionMiddleware::new(memory().1);
    let address = serve(move |config| {
        config.service(web::scope("").wrap(sessions.clone()).route(
            "/",
            web::get().to(|session: Session| async move {
                let nested = session.update(|_| Ok(session.reset()))?;
                Ok::<_, SessionError>(format!("{}", nested.is_err()))
            }),
        ));
    })
    .await;
    let reply = tokio::time::timeout(Duration::from_secs(5), Browser::new(address).get("/")).await;
    assert_eq!(reply.expect("no hang").body, "true");
}

#[tokio::test]
async fn a_handler_whose_future_is_not_send_uses_the_session() {
    async fn counter(session: Session) -> Result<String, SessionError> {
        // An `Rc` held across an `.await`: this future is not `Send`, which actix-web allows.
        let local = Rc::new(session.get::<u64>("n")?.unwrap_or(0) + 1);
        actix_web::rt::task::yield_now().await;
        session.insert("n", *local)?;
        Ok(local.to_string())
    }
    let sessions = SessionMiddleware::new(memory().1);
    let address = serve(move |config| {
        config.service(web::scope("").wrap(sessions.clone()).route("/", web::get().to(counter)));
    })
    .await;
    let mut browser = Browser::new(address);
    assert_eq!(browser.get("/").await.body, "1");
    assert_eq!(browser.get("/").await.body, "2");
}

#[tokio::test]
async fn a_python_quoted_cookie_is_read() {
    // What aiohttp-session's SimpleCookieStorage sends.
    let sessions = SessionMiddleware::new(SimpleCookieStorage::new());
    let address = serve(move |config| {
        config.service(web::scope("").wrap(sessions.clone()).route(
            "/",
            web::get().to(|session: Session| async move {
                let n = session.get::<u64>("n")?.unwrap_or(0) + 1;
                session.insert("n", n)?;
                Ok::<_, SessionError>(n.to_string())
            }),
        ));
    })
    .await;
    let mut browser = Browser::new(address);
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
async fn get_session_and_reset_session_serve_handlers_that_take_the_request() {
    async fn handler(request: HttpRequest) -> Result<String, SessionError> {
        let session = if request.path() == "/login" {
            session_actix::reset_session(&request).await?
        } else {
            session_actix::get_session(&request).await?
        };
        let n = session.get::<u64>("n")?.unwrap_or(0) + 1;
        session.insert("n", n)?;
        Ok(n.to_string())
    }
    let sessions = SessionMiddleware::new(memory().1);
    let address = serve(move |config| {
        config.service(web::scope("").wrap(sessions.clone()).default_service(web::to(handler)));
    })
    .await;
    let mut browser = Browser::new(address);
    assert_eq!(browser.get("/").await.body, "1");
    assert_eq!(browser.get("/").await.body, "2");
    assert_eq!(browser.get("/login").await.body, "1", "a fresh session");
}

#[tokio::test]
async fn middlewares_on_one_scope_and_the_app_save_their_own_cookies() {
    struct Prefs;
    let prefs_cookie = StorageConfig::new().with_cookie(CookieConfig::builder().name("PREFS").build().expect("valid"));
    let login = SessionMiddleware::new(memory().1);
    let prefs = SessionMiddleware::new(memory().1.with_config(prefs_cookie)).tagged::<Prefs>();
    let address = serve(move |config| {
        config.service(web::scope("").wrap(login.clone()).service(web::scope("/app").wrap(prefs.clone()).route(
            "/",
            web::get().to(|login: Session, prefs: Session<Prefs>| async move {
                login.insert("user", "alice")?;
                prefs.insert("theme", "dark")?;
                Ok::<_, SessionError>(format!("{login:?}"))
            }),
        )));
    })
    .await;
    let reply = Browser::new(address).get("/app/").await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert!(reply.set_cookie("AIOHTTP_SESSION").is_some() && reply.set_cookie("PREFS").is_some());
    assert!(!reply.body.contains("alice"), "Debug shows no session data: {}", reply.body);
}

#[test]
fn the_test_server_stops_when_its_runtime_ends() {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let address = runtime.block_on(serve(|config| {
        config.route("/", web::get().to(|| async { "up" }));
    }));
    runtime.block_on(async { assert_eq!(Browser::new(address).get("/").await.body, "up") });
    drop(runtime);
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(address).is_ok() {
        assert!(std::time::Instant::now() < deadline, "the server still listens");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A handler reaches the middleware's storage as its own type for what only it can do (a user's
/// devices); asking for another type, or a middleware given a `dyn` storage, is the middleware's 500.
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
    async fn app(sessions: SessionMiddleware) -> Browser {
        let address = serve(move |config| {
            config.service(
                web::scope("")
                    .wrap(sessions.clone())
                    .route("/login", web::get().to(|s: Session| async move { s.login("alice") }))
                    .route("/devices", web::get().to(devices))
                    .route("/other", web::get().to(other)),
            );
        })
        .await;
        Browser::new(address)
    }
    let mut browser = app(SessionMiddleware::new(memory().1)).await;
    browser.get("/login").await;
    assert_eq!(browser.get("/devices").await.body, "1", "alice's one device, through the typed storage");
    assert_eq!(browser.get("/other").await.status.as_u16(), 500, "not the middleware's type");
    let erased: Arc<dyn AbstractStorage> = Arc::new(memory().1);
    let mut browser = app(SessionMiddleware::new(erased)).await;
    browser.get("/login").await;
    assert_eq!(browser.get("/devices").await.status.as_u16(), 500, "a dyn storage has no type");
}

/// A middleware built without cache headers leaves the app's caching headers as they are.
#[tokio::test]
async fn a_middleware_without_cache_headers_adds_none() {
    let sessions = SessionMiddleware::new(memory().1).without_cache_headers();
    let address = serve(move |config| {
        config.service(
            web::scope("")
                .wrap(sessions.clone())
                .route("/", web::get().to(|s: Session| async move { s.insert("k", 1) })),
        );
    })
    .await;
    let reply = Browser::new(address).get("/").await;
    assert_eq!(reply.set_cookies.len(), 1, "the session is saved");
    assert!(reply.headers.get("vary").is_none() && reply.headers.get("cache-control").is_none(), "{:?}", reply.headers);
}
