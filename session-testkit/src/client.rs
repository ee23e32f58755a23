//! A browser with one cookie jar, driving a storage through the same per-request path as every
//! middleware adapter ([`RequestSession`]).

use std::sync::Arc;

use session_core::middleware::RequestSession;
use session_core::{AbstractStorage, Error, SessionState};

/// A client that keeps the storage's cookie between requests, as a browser would, and runs each request
/// through the middleware's own steps: find the cookie, load, run the handler, save if changed, keep
/// what `Set-Cookie` says.
///
/// ```
/// # session_testkit::block_on(async {
/// use std::sync::Arc;
/// use session_testkit::TestClient;
/// # use session_core::storage::{AbstractStorage, CookieAction, Loaded, Origin};
/// # use session_core::{Error, SessionState, StorageConfig};
/// # struct PlainCookie(StorageConfig);
/// # #[async_trait::async_trait]
/// # impl AbstractStorage for PlainCookie {
/// #     fn config(&self) -> &StorageConfig { &self.0 }
/// #     async fn load_session(&self, c: Option<&str>) -> Result<Loaded, Error> {
/// #         Ok(c.map_or_else(|| self.new_state(), |t| self.0.open("plain", None, t)).into())
/// #     }
/// #     async fn save_session(&self, s: &mut SessionState, _: Origin) -> Result<CookieAction, Error> { Ok(CookieAction::Set(self.0.encode(s)?)) }
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

/// A request that has loaded its session and not finished yet: two of them on one client are two
/// concurrent requests of one browser.
pub struct OpenRequest {
    request: RequestSession,
}

impl OpenRequest {
    /// Runs `handler` on the request's session.
    pub fn with<R>(&self, handler: impl FnOnce(&mut SessionState) -> R) -> Result<R, Error> {
        self.request.with(handler)
    }

    /// The request's `reset()`: a fresh session under a new id.
    pub fn reset(&self) -> Result<(), Error> {
        self.request.reset()
    }

    /// The request's `login(user)`: a fresh session under a new id, attached to `user`.
    pub fn login(&self, user: &str) -> Result<(), Error> {
        self.request.login(user)
    }

    /// The request's `cycle_id()`.
    pub fn cycle_id(&self) -> Result<(), Error> {
        self.request.cycle_id()
    }

    /// Ends the request with status 200: saves the session if it changed, and answers the `Set-Cookie`
    /// header value sent, if any (the client's jar is not touched; see [`TestClient::accept`]).
    pub async fn finish(self) -> Result<Option<String>, Error> {
        match self.request.finish(200) {
            Some(pending) => pending.save().await,
            None => Ok(None),
        }
    }
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

    /// One request whose handler gets the session.
    pub async fn request<R>(&mut self, handler: impl FnOnce(&mut SessionState) -> R) -> Result<Exchange<R>, Error> {
        let request = self.begin().await?;
        let output = request.with(handler)?;
        let set_cookie = request.finish().await?;
        if let Some(header) = &set_cookie {
            self.accept(header);
        }
        Ok(Exchange { output, set_cookie })
    }

    /// Logs `user` in as an app's login handler does (`login`, then `user` stored as data too), and keeps
    /// the new cookie; the request's `Set-Cookie`.
    pub async fn login(&mut self, user: &str) -> Result<String, Error> {
        let request = self.begin().await?;
        request.login(user)?;
        request.with(|session| session.insert("user", user))??;
        let set_cookie = request.finish().await?.ok_or(Error::NotLoaded)?;
        self.accept(&set_cookie);
        Ok(set_cookie)
    }

    /// A request that has loaded the session and waits for [`OpenRequest::finish`].
    pub async fn begin(&self) -> Result<OpenRequest, Error> {
        let request = RequestSession::new(Arc::clone(&self.storage));
        let name = self.storage.config().cookie().name();
        let header = self.cookie.as_ref().map(|raw| format!("{name}={raw}"));
        request.load(header.as_deref()).await?;
        Ok(OpenRequest { request })
    }

    /// The session as the next request would load it (nothing is saved).
    pub async fn session(&self) -> Result<SessionState, Error> {
        let request = self.begin().await?;
        // Taken out of a request that is then dropped unfinished: nothing is saved.
        request.with(|session| std::mem::replace(session, self.storage.new_state()))
    }

    /// Keeps what a `Set-Cookie` header value says: the new value, or nothing after `Max-Age=0`.
    pub fn accept(&mut self, set_cookie: &str) {
        self.cookie = read_set_cookie(set_cookie).and_then(|(_, value)| value).map(str::to_owned);
    }
}

/// A `Set-Cookie` header value as a browser keeps it: the cookie's name, and its value or `None` when
/// the header removes it (`Max-Age=0`). `None` for a header without `name=value`.
pub(crate) fn read_set_cookie(set_cookie: &str) -> Option<(&str, Option<&str>)> {
    let mut attributes = set_cookie.split("; ");
    let (name, value) = attributes.next()?.split_once('=')?;
    let removed = attributes.any(|attribute| attribute.eq_ignore_ascii_case("Max-Age=0"));
    Some((name, (!removed).then_some(value)))
}
