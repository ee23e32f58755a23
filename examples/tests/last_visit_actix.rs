//! The actix-web demo as a new user runs it: the real binary on a free port, a browser with a cookie
//! jar; the same answers as the axum `last_visit`.

mod common;

use common::Demo;
use session_testkit::Browser;

const KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

fn last_visit(body: &str) -> Option<f64> {
    let value = body.strip_prefix("Last visited: ").unwrap_or_else(|| panic!("unexpected body {body:?}"));
    (value != "None").then(|| value.parse().expect("a float"))
}

#[tokio::test]
async fn the_demo_remembers_the_last_visit_and_forgets_it_on_logout() {
    let demo = Demo::start(env!("CARGO_BIN_EXE_last_visit_actix"), &["--secret-key", KEY]).await;
    assert!(
        demo.first_line.ends_with("(loopback only: the session cookie is sent without Secure)"),
        "{}",
        demo.first_line
    );
    let mut browser = Browser::new(demo.address);
    let first = browser.get("/").await;
    assert_eq!(last_visit(&first.body), None);
    let cookie = first.set_cookie("AIOHTTP_SESSION").expect("a cookie");
    assert!(cookie.contains("HttpOnly") && !cookie.contains("Secure"), "{cookie}");
    let stored = last_visit(&browser.get("/").await.body).expect("the first visit's time");
    assert!(stored > 1.7e9, "{stored}");
    let second = last_visit(&browser.get("/").await.body).expect("the second visit's time");
    assert!(second >= stored);
    assert_eq!(browser.get("/logout").await.body, "Logged out");
    assert!(browser.jar.is_empty(), "the cookie is deleted");
    assert_eq!(last_visit(&browser.get("/").await.body), None);
}

#[tokio::test]
async fn a_malformed_key_is_the_same_clear_error() {
    let refused = common::refused(env!("CARGO_BIN_EXE_last_visit_actix"), &["--secret-key", "not-a-key"]).await;
    assert_eq!(refused.code, Some(2));
    let error = refused.stderr.lines().filter(|line| line.starts_with("error: ")).collect::<Vec<_>>();
    assert!(error.len() == 1 && error[0].contains("secret key"), "{}", refused.stderr);
    assert!(!refused.stderr.contains("not-a-key"), "the key is never printed: {}", refused.stderr);
}
