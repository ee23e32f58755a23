//! Secrets never reach the logs or `Debug`: not the key, not the cookie, not what the session holds.
//! And the wiring mistakes an app can make are logged so that the log says what to fix.
//!
//! These run the app in-process with `actix_web::test` (on this thread), so the thread's log capture
//! sees what the middleware logs.

use std::time::Duration;

use actix_web::http::header::{COOKIE, SET_COOKIE};
use actix_web::{App, test, web};
use session_actix::{Session, SessionError, SessionMiddleware};
use session_cookie::EncryptedCookieStorage;
use session_core::StorageConfig;
use session_devkit::logs;
use session_devkit::vectors::KEY_BASE64;

const SECRET_VALUE: &str = "alice-credit-card-4111111111111111";

#[actix_web::test]
async fn logs_hold_neither_keys_nor_cookies_nor_session_data() {
    let (_guard, logs) = logs::capture();
    let storage = EncryptedCookieStorage::new(KEY_BASE64)
        .expect("key")
        .with_config(StorageConfig::new().with_max_age(Duration::from_secs(60)));
    let debug_of_storage = format!("{storage:?}");
    let app = test::init_service(
        App::new()
            .wrap(SessionMiddleware::new(storage))
            .route("/", web::get().to(|s: Session| async move { s.insert("card", SECRET_VALUE).map(|()| "stored") }))
            .route(
                "/read",
                web::get().to(|s: Session| async move { Ok::<_, SessionError>(format!("{:?} {s:?}", s.keys()?)) }),
            ),
    )
    .await;
    let stored = test::call_service(&app, test::TestRequest::get().uri("/").to_request()).await;
    let set_cookie = stored.headers().get(SET_COOKIE).expect("Set-Cookie").to_str().expect("text").to_owned();
    let pair = set_cookie.split(';').next().expect("name=value").to_owned();
    let cookie = pair.trim_start_matches("AIOHTTP_SESSION=").trim_matches('"').to_owned();
    let read = test::TestRequest::get().uri("/read").insert_header((COOKIE, pair.as_str())).to_request();
    let debug_of_session = String::from_utf8_lossy(&test::call_and_read_body(&app, read).await).into_owned();
    // A tampered cookie is logged as rejected: with the reason, not the value.
    let tampered = format!("AIOHTTP_SESSION={}x", &cookie[..cookie.len() - 3]);
    test::call_service(&app, test::TestRequest::get().uri("/read").insert_header((COOKIE, tampered)).to_request())
        .await;

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

#[actix_web::test]
async fn wiring_mistakes_are_logged_with_what_to_fix() {
    struct Other;
    let (_guard, logs) = logs::capture();
    let app = test::init_service(
        App::new()
            .wrap(SessionMiddleware::new(EncryptedCookieStorage::new(KEY_BASE64).expect("key")))
            .service(
                web::scope("/twice")
                    .wrap(
                        SessionMiddleware::new(EncryptedCookieStorage::new(KEY_BASE64).expect("key")).tagged::<Other>(),
                    )
                    .route("", web::get().to(|| async { "unreachable" })),
            )
            .route("/other", web::get().to(|_: Session<Other>| async { "unreachable" })),
    )
    .await;
    let missing = test::call_service(&app, test::TestRequest::get().uri("/other").to_request()).await;
    assert_eq!(missing.status(), 500);
    assert!(
        logs.text().contains("no SessionMiddleware with this tag wraps the route"),
        "a missing middleware is logged: {}",
        logs.text()
    );
    let twice = test::call_service(&app, test::TestRequest::get().uri("/twice").to_request()).await;
    assert_eq!(twice.status(), 500);
    assert!(logs.text().contains("AIOHTTP_SESSION"), "the conflict names the cookie: {}", logs.text());
}
