//! The demo as a new user runs it: the real binary on a free port, a browser with a cookie jar.

use std::net::SocketAddr;
use std::process::Stdio;
use std::time::Duration;

use session_testkit::Browser;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};
use tokio::process::{Child, ChildStderr, Command};

const KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

/// The `last_visit` binary, serving on a port the OS picked; killed on drop.
struct Demo {
    _child: Child,
    address: SocketAddr,
    stderr: ChildStderr,
}

impl Demo {
    async fn start(args: &[&str]) -> Demo {
        let mut child = Command::new(env!("CARGO_BIN_EXE_last_visit"))
            .args(args)
            .args(["--port", "0"])
            .env_remove("SESSION_SECRET_KEY")
            .env_remove("SESSION_STORAGE")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("start last_visit");
        let stdout = child.stdout.take().expect("stdout");
        let mut lines = BufReader::new(stdout).lines();
        let line = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
            .await
            .expect("last_visit prints its URL")
            .expect("read stdout")
            .expect("a line");
        let address = line
            .strip_prefix("Serving on http://")
            .and_then(|a| a.parse().ok())
            .unwrap_or_else(|| panic!("unexpected first line {line:?}"));
        let stderr = child.stderr.take().expect("stderr");
        Demo { _child: child, address, stderr }
    }
}

fn last_visit(body: &str) -> Option<f64> {
    let value = body.strip_prefix("Last visited: ").unwrap_or_else(|| panic!("unexpected body {body:?}"));
    (value != "None").then(|| value.parse().expect("a float"))
}

#[tokio::test]
async fn the_demo_remembers_the_last_visit_and_forgets_it_on_logout() {
    let demo = Demo::start(&["--secret-key", KEY]).await;
    let mut browser = Browser::new(demo.address);
    assert_eq!(last_visit(&browser.get("/").await.body), None);
    let first = browser.get("/").await;
    let stored = last_visit(&first.body).expect("the first visit's time");
    assert!(stored > 1.7e9, "{stored}");
    let second = last_visit(&browser.get("/").await.body).expect("the second visit's time");
    assert!(second >= stored);
    assert_eq!(browser.get("/logout").await.body, "Logged out");
    assert!(browser.jar.is_empty(), "the cookie is deleted");
    assert_eq!(last_visit(&browser.get("/").await.body), None);
}

#[tokio::test]
async fn the_nacl_storage_serves_the_same_demo() {
    let demo = Demo::start(&["--storage", "nacl", "--secret-key", KEY]).await;
    let mut browser = Browser::new(demo.address);
    assert_eq!(last_visit(&browser.get("/").await.body), None);
    let cookie = browser.jar["AIOHTTP_SESSION"].trim_matches('"').to_owned();
    assert!(!cookie.contains(['-', '_']), "standard base64: {cookie}");
    assert!(last_visit(&browser.get("/").await.body).is_some());
    browser.get("/logout").await;
    assert_eq!(last_visit(&browser.get("/").await.body), None);
}

#[tokio::test]
async fn sessions_survive_a_restart_with_the_same_key() {
    let mut jar = {
        let demo = Demo::start(&["--secret-key", KEY]).await;
        let mut browser = Browser::new(demo.address);
        browser.get("/").await;
        browser.jar
    };
    let demo = Demo::start(&["--secret-key", KEY, "--max-age", "3600"]).await;
    let mut browser = Browser::new(demo.address);
    std::mem::swap(&mut browser.jar, &mut jar);
    let reply = browser.get("/").await;
    assert!(last_visit(&reply.body).is_some(), "{}", reply.body);
    assert!(reply.set_cookie("AIOHTTP_SESSION").expect("cookie").contains("Max-Age=3600"));
}

#[tokio::test]
async fn without_a_key_the_demo_warns_that_sessions_end_at_restart() {
    let mut demo = Demo::start(&["--cookie-name", "DEMO"]).await;
    let mut browser = Browser::new(demo.address);
    browser.get("/").await;
    assert!(browser.jar.contains_key("DEMO"));
    assert!(last_visit(&browser.get("/").await.body).is_some());
    let mut warning = String::new();
    let mut lines = BufReader::new(&mut demo.stderr).lines();
    while let Ok(Ok(Some(line))) = tokio::time::timeout(Duration::from_secs(5), lines.next_line()).await {
        if line.contains("will not survive a restart") {
            warning = line;
            break;
        }
    }
    assert!(warning.starts_with("warning: no --secret-key given"), "{warning:?}");
}

#[tokio::test]
async fn the_simple_storage_serves_the_same_demo() {
    let demo = Demo::start(&["--storage", "simple"]).await;
    let mut browser = Browser::new(demo.address);
    browser.get("/").await;
    let cookie = &browser.jar["AIOHTTP_SESSION"];
    assert!(cookie.starts_with(r#""{\"created\": "#), "{cookie}");
    assert!(last_visit(&browser.get("/").await.body).is_some());
}

#[tokio::test]
async fn a_malformed_key_is_a_clear_error() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_last_visit"))
        .args(["--secret-key", "not-a-key", "--port", "0"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("start last_visit");
    let mut stderr = String::new();
    child.stderr.take().expect("stderr").read_to_string(&mut stderr).await.expect("read");
    let status = child.wait().await.expect("exit");
    assert_eq!(status.code(), Some(2));
    assert!(stderr.contains("secret key"), "{stderr}");
    assert!(!stderr.contains("not-a-key"), "the key is never printed: {stderr}");
}
