//! A real browser for end-to-end tests: Debian's headless Chromium, driven through chromedriver's
//! WebDriver API (HTTP and JSON) on a free loopback port. Its profile (cookies included) lives in a
//! folder of its own, so a second launch on the same [`BrowserProfile`] is the same browser after a
//! restart.
//!
//! Needs the Debian packages `chromium` and `chromium-driver` (`./scripts/test` installs them).

use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use http::{Method, Request};
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde_json::{Value, json};

use crate::process::{ServerProcess, TempDir, start_on_free_port};

/// The key WebDriver names an element by.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// How long a click's navigation may take before [`Chromium::click`] gives up.
const NAVIGATION_TIMEOUT: Duration = Duration::from_secs(10);

/// How often [`Chromium::click`] looks whether the new page is there.
const POLL_INTERVAL: Duration = Duration::from_millis(20);

/// A browser profile: the folder Chromium keeps its cookies in, removed on drop.
#[derive(Debug)]
pub struct BrowserProfile(TempDir);

impl BrowserProfile {
    /// A new, empty profile.
    pub fn new() -> io::Result<Self> {
        Ok(BrowserProfile(TempDir::new("chromium")?))
    }

    /// Starts headless Chromium on this profile. Quit it ([`Chromium::quit`]) before launching
    /// another on the same profile: a profile is one browser's at a time.
    pub async fn launch(&self) -> io::Result<Chromium> {
        let (driver, port) = start_on_free_port(
            None,
            |port| ServerProcess::start("chromedriver", "chromium-driver", vec![format!("--port={port}")]),
            b"GET /status HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
            b"HTTP/1.1 200",
        )
        .await?;
        let mut chromium = Chromium {
            _driver: driver,
            address: SocketAddr::from((Ipv4Addr::LOCALHOST, port)),
            client: Client::builder(TokioExecutor::new()).build_http(),
            session: String::new(),
        };
        // The flags that keep a headless Chromium from reaching out to the network on its own.
        let args = [
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            &format!("--user-data-dir={}", self.0.path().display()),
        ];
        let capabilities = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {"binary": "/usr/bin/chromium", "args": args},
        }}});
        let created = chromium.command(Method::POST, "/session", Some(capabilities)).await?;
        chromium.session = created["sessionId"]
            .as_str()
            .ok_or_else(|| io::Error::other(format!("chromedriver made no session: {created}")))?
            .to_owned();
        Ok(chromium)
    }
}

/// A running headless Chromium (and its chromedriver, killed on drop).
pub struct Chromium {
    _driver: ServerProcess,
    address: SocketAddr,
    client: Client<HttpConnector, Full<Bytes>>,
    session: String,
}

/// Whether a WebDriver error says the element's document is no longer the page shown.
fn is_gone(error: &io::Error) -> bool {
    let message = error.to_string();
    message.contains("stale element") || message.contains("does not belong to the document")
}

impl Chromium {
    /// Opens `url` and waits for the page to load.
    pub async fn goto(&self, url: &str) -> io::Result<()> {
        self.session_command(Method::POST, "/url", Some(json!({ "url": url }))).await.map(drop)
    }

    /// Types `text` into the element `css` selects.
    pub async fn fill(&self, css: &str, text: &str) -> io::Result<()> {
        let element = self.element(css).await?;
        self.session_command(Method::POST, &format!("/element/{element}/value"), Some(json!({ "text": text })))
            .await
            .map(drop)
    }

    /// Clicks the element `css` selects, a submit button, and waits until the page its form's answer
    /// leads to (after any redirect) has loaded.
    ///
    /// WebDriver's click returns once the click is dispatched, not once the navigation it starts has
    /// ended, so the page shown right after may still be the old one, or be replaced under a reader.
    /// The old page's `<html>` element going stale says the new document is in place.
    pub async fn click(&self, css: &str) -> io::Result<()> {
        let old_page = self.element("html").await?;
        let element = self.element(css).await?;
        self.session_command(Method::POST, &format!("/element/{element}/click"), Some(json!({}))).await?;
        let deadline = tokio::time::Instant::now() + NAVIGATION_TIMEOUT;
        let old_page_name = format!("/element/{old_page}/name");
        poll_until(
            deadline,
            || format!("clicking {css:?} loaded no new page"),
            async || match self.session_command(Method::GET, &old_page_name, None).await {
                Ok(_) => Ok(false),
                // Chromedriver says "stale element reference", or, when the old document is torn down
                // mid-command, "Node with given id does not belong to the document": gone either way.
                Err(error) if is_gone(&error) => Ok(true),
                Err(error) => Err(error),
            },
        )
        .await?;
        poll_until(
            deadline,
            || format!("the page after clicking {css:?} did not finish loading"),
            async || {
                let script = json!({"script": "return document.readyState", "args": []});
                Ok(self.session_command(Method::POST, "/execute/sync", Some(script)).await? == "complete")
            },
        )
        .await
    }

    /// The text the page shows.
    pub async fn text(&self) -> io::Result<String> {
        let element = self.element("body").await?;
        let text = self.session_command(Method::GET, &format!("/element/{element}/text"), None).await?;
        Ok(text.as_str().unwrap_or_default().to_owned())
    }

    /// The address of the page shown.
    pub async fn url(&self) -> io::Result<String> {
        let url = self.session_command(Method::GET, "/url", None).await?;
        Ok(url.as_str().unwrap_or_default().to_owned())
    }

    /// Closes the browser the way a user does, so it writes its cookies to the profile.
    pub async fn quit(self) -> io::Result<()> {
        self.session_command(Method::DELETE, "", None).await.map(drop)
    }

    async fn element(&self, css: &str) -> io::Result<String> {
        let found = self
            .session_command(Method::POST, "/element", Some(json!({"using": "css selector", "value": css})))
            .await?;
        found[ELEMENT]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| io::Error::other(format!("no element {css:?}: {found}")))
    }

    /// A command of this browser's WebDriver session (`path` under `/session/{id}`).
    async fn session_command(&self, method: Method, path: &str, body: Option<Value>) -> io::Result<Value> {
        self.command(method, &format!("/session/{}{path}", self.session), body).await
    }

    /// One WebDriver command: its answer's `value`, or an error with WebDriver's message.
    async fn command(&self, method: Method, path: &str, body: Option<Value>) -> io::Result<Value> {
        let body = body.map(|body| body.to_string()).unwrap_or_default();
        let request = Request::builder()
            .method(method)
            .uri(format!("http://{}{path}", self.address))
            .header(http::header::CONTENT_TYPE, "application/json")
            .body(Full::new(Bytes::from(body)))
            .map_err(io::Error::other)?;
        let response = self.client.request(request).await.map_err(io::Error::other)?;
        let status = response.status();
        let bytes = response.into_body().collect().await.map_err(io::Error::other)?.to_bytes();
        let mut answer: Value = serde_json::from_slice(&bytes).map_err(io::Error::other)?;
        if !status.is_success() {
            return Err(io::Error::other(format!("WebDriver {path}: {status} {}", answer["value"])));
        }
        Ok(answer["value"].take())
    }
}

/// Asks `done` every [`POLL_INTERVAL`] until it answers yes; past `deadline`, the error `late` words.
async fn poll_until(
    deadline: tokio::time::Instant,
    late: impl Fn() -> String,
    mut done: impl AsyncFnMut() -> io::Result<bool>,
) -> io::Result<()> {
    loop {
        if done().await? {
            return Ok(());
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(io::Error::other(late()));
        }
        tokio::time::sleep(POLL_INTERVAL).await;
    }
}
