//! Secrets never reach the logs or `Debug`: not the key, not the cookie, not what the session holds.

use std::time::Duration;

use axum::Router;
use axum::routing::get;
use session_cookie::EncryptedCookieStorage;
use session_core::StorageConfig;
use session_devkit::axum_app::serve;
use session_devkit::logs;
use session_devkit::vectors::KEY_BASE64;
use session_testkit::Browser;
use session_tower::{Session, SessionError, SessionLayer};

const SECRET_VALUE: &str = "alice-credit-card-4111111111111111";

#[tokio::test]
async fn logs_hold_neither_keys_nor_cookies_nor_session_data() {
    let (_guard, logs) = logs::capture();
    let storage = EncryptedCookieStorage::new(KEY_BASE64)
        .expect("key")
        .with_config(StorageConfig::new().with_max_age(Duration::from_secs(60)));
    let debug_of_storage = format!("{storage:?}");
    let app = Router::new()
        .route("/", get(|s: Session| async move { s.insert("card", SECRET_VALUE) }))
        .route("/read", get(|s: Session| async move { Ok::<_, SessionError>(format!("{:?} {s:?}", s.keys()?)) }))
        .layer(SessionLayer::new(storage));
    let mut browser = Browser::new(serve(app).await);
    browser.get("/").await;
    let cookie = browser.jar["AIOHTTP_SESSION"].trim_matches('"').to_owned();
    let debug_of_session = browser.get("/read").await.body;
    // A tampered cookie is logged as rejected: with the reason, not the value.
    browser.jar.insert("AIOHTTP_SESSION".into(), format!("{}x", &cookie[..cookie.len() - 3]));
    browser.get("/read").await;

    let logged = logs.text();
    assert!(logged.contains("session rejected"), "the rejection is logged: {logged}");
    for (span, outcome) in [("session.load", "loaded"), ("session.load", "new"), ("session.save", "set")] {
        assert!(logs.span_closed(span, outcome), "a {span} span closes with outcome {outcome}: {logged}");
    }
    for (what, shown) in
        [("logs", &logged), ("Debug of the storage", &debug_of_storage), ("Debug of the session", &debug_of_session)]
    {
        assert!(!shown.contains(KEY_BASE64) && !shown.contains("AAECAwQF"), "{what} show the key: {shown}");
        assert!(!shown.contains(&cookie[..40]), "{what} show the cookie: {shown}");
        assert!(!shown.contains(SECRET_VALUE), "{what} show the session's data: {shown}");
    }
}
