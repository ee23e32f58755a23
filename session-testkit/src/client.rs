//! A browser with one cookie jar, driving a storage the way the middleware does.

use std::sync::Arc;

use session_core::{AbstractStorage, Error, Session, find_cookie, save_if_changed};

/// A client that keeps the storage's cookie between requests, as a browser would, and runs each request
/// through the same steps as the middleware: find the cookie, load, run the handler, save if changed,
/// store what `Set-Cookie` says.
///
/// ```
/// # session_testkit::block_on(async {
/// use std::sync::Arc;
/// use session_testkit::TestClient;
/// # use session_core::{AbstractStorage, CookieAction, Error, Session, StorageConfig};
/// # struct PlainCookie(StorageConfig);
/// # #[async_trait::async_trait]
/// # impl AbstractStorage for PlainCookie {
/// #     fn config(&self) -> &StorageConfig { &self.0 }
/// #     async fn load_session(&self, c: Option<&str>) -> Result<Session, Error> {
/// #         Ok(c.map_or_else(|| self.new_session(), |t| self.0.open("plain", None, t)))
/// #     }
/// #     async fn save_session(&self, s: &mut Session) -> Result<CookieAction, Error> { Ok(CookieAction::Set(self.0.encode(s)?)) }
/// # }
/// let mut browser = TestClient::new(Arc::new(PlainCookie(StorageConfig::default())));
/// browser.request(|session| session.insert("visits", 1)).await?.output?;
/// let visits = browser.request(|session| session.get::<i64>("visits")).await?.output?;
/// assert_eq!(visits, Some(1));
/// # Ok::<(), Error>(())
/// # }).unwrap();
/// ```
pub struct TestClient {
    storage: Arc<dyn AbstractStorage>,
    /// The cookie value as the browser sends it back (still quoted).
    cookie: Option<String>,
}

/// What one request produced.
#[derive(Debug)]
pub struct Exchange<R> {
    /// What the handler returned.
    pub output: R,
    /// The `Set-Cookie` header value, if the session was saved.
    pub set_cookie: Option<String>,
}

impl TestClient {
    /// A client with an empty jar.
    pub fn new(storage: Arc<dyn AbstractStorage>) -> Self {
        TestClient { storage, cookie: None }
    }

    /// The storage it talks to.
    pub fn storage(&self) -> &Arc<dyn AbstractStorage> {
        &self.storage
    }

    /// The cookie value it holds, as it would send it (quoted where Python quotes).
    pub fn cookie(&self) -> Option<&str> {
        self.cookie.as_deref()
    }

    /// Replaces the cookie it holds: a tampered, replayed or foreign value.
    pub fn set_cookie(&mut self, raw: Option<String>) {
        self.cookie = raw;
    }

    /// One request whose handler gets the session (loaded as the middleware would load it).
    pub async fn request<R>(&mut self, handler: impl FnOnce(&mut Session) -> R) -> Result<Exchange<R>, Error> {
        let mut session = self.session().await?;
        let output = handler(&mut session);
        let set_cookie = save_if_changed(&*self.storage, &mut session).await?;
        if let Some(header) = &set_cookie {
            self.store(header);
        }
        Ok(Exchange { output, set_cookie })
    }

    /// The session as the next request would load it (nothing is saved).
    pub async fn session(&self) -> Result<Session, Error> {
        let name = self.storage.config().cookie().get_name();
        let header = self.cookie.as_ref().map(|raw| format!("{name}={raw}"));
        let value = find_cookie(header.as_deref(), name);
        self.storage.load_session(value.as_deref()).await
    }

    fn store(&mut self, set_cookie: &str) {
        let mut attributes = set_cookie.split("; ");
        let value = attributes.next().and_then(|pair| pair.split_once('=')).map(|(_, value)| value);
        let removed = attributes.any(|attribute| attribute.eq_ignore_ascii_case("Max-Age=0"));
        self.cookie = if removed { None } else { value.map(str::to_owned) };
    }
}
