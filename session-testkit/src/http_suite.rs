//! The HTTP conformance suite every middleware adapter runs (`session-tower`, `session-actix`, yours):
//! a real server, a real HTTP client with a cookie jar, and the rules of one request's session.
//!
//! # The reference app
//!
//! An adapter under test implements [`HttpAdapter`]: it serves this app on 127.0.0.1 with its own
//! middleware, the main session on [`ReferenceApp::storage`], a second session (its own tag) on
//! [`ReferenceApp::second`], and the app's error response set to status **503** with the body
//! **`session error`** for every session error.
//!
//! | route | the handler |
//! |---|---|
//! | `GET /count` | adds 1 to the number `n` (0 when absent) and answers it |
//! | `GET /peek` | answers `n`, or `None`, without writing |
//! | `GET /static` | answers `static`, never asks for the session |
//! | `GET /write/{status}` | stores `n` = status, answers with that status (`Location: /peek` for 3xx) |
//! | `POST /items/{item}` | stores `item:<item>` = `true` |
//! | `GET /items` | answers how many `item:` keys the session holds |
//! | `GET /login/{user}` | `login(user)`, stores `user`, labels the device with the `User-Agent` (or `unknown`) |
//! | `GET /whoami` | answers `user=<user()>;id=<id()>` (`None` when absent) |
//! | `GET /devices` | answers the handles of the logged-in user's devices ([`ReferenceApp::devices`]), one per line, sorted (`nobody` when no one is logged in) |
//! | `POST /devices/{device}/end` | ends that device of the logged-in user ([`ReferenceApp::end_device`]): answers `ended`, `unknown` or `nobody` |
//! | `GET /logout-everywhere` | `log_out_everywhere(user)` for the logged-in user, answers `done` (`nobody` when no one is logged in) |
//! | `GET /remember/{seconds}` | `remember_for(seconds)` |
//! | `GET /cycle` | `cycle_id()` |
//! | `GET /user` | answers `user`, or `None` |
//! | `GET /logout` | `invalidate()` |
//! | `GET /both` | answers `user=<user of the main session>;theme=<theme of the second>` (`None` when absent), then stores `user` = `alice` in the main session and `theme` = `dark` in the second |
//! | `GET /wrong-type` | returns the error of reading `user` as a number (`?` in the handler) |
//! | `GET /cache/{directives}` | increments `n` and answers with `Cache-Control: {directives}` (`public` or `no-store`) |
//! | `GET /library-error` | stores `touched`, then returns a key error (`SecretKey::from_base64("not a key")?`) |
//! | `GET /nested` | returns the error of using the session handle inside its own `update` |
//! | `GET /debug` | inside `update`, formats the session handle with `{:?}` (it must not wait), answers `ok` |
//! | `GET /flash/{text}` | `flash(Info, text)`, answers `303 See Other` with `Location: /flashes` |
//! | `POST /flash/{text}` | `flash(Info, text)`, answers `queued` |
//! | `GET /flashes` | `take_flashes()`: their texts joined with `,` (`none` when there are none) |
//! | `GET /csrf` | answers `csrf_token()` |
//! | `POST /form` | answers `accepted` |
//!
//! The adapter's CSRF guard wraps the routes (inside the main session's layer), configured with
//! [`ReferenceApp::csrf_config`] (the paths `/items`, `/devices` and `/flash` exempt): `POST /form` needs the token, in the `X-CSRF-Token` header
//! or the `csrf_token` field of a form.
//!
//! Run it with [`http_suite!`](macro@crate::http_suite).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use http::{Method, StatusCode};
use session_core::accounts::{DeviceId, Devices};
use session_core::middleware::CsrfConfig;
use session_core::server_side::ServerSideStorage;
use session_core::{AbstractStorage, CookieConfig, StorageConfig};

use crate::browser::{Browser, Reply};
use crate::suite::BoxFuture;
use crate::zoo::MemoryStore;

/// What an adapter serves for one rule.
pub struct ReferenceApp {
    /// The main session's storage (the adapter's untagged session).
    pub storage: Arc<dyn AbstractStorage>,
    /// The second session's storage (a tagged session), for `/both`.
    pub second: Arc<dyn AbstractStorage>,
    /// The main storage's devices, when it lists them (`/devices`); what an app reaches with its
    /// handle's `storage::<S>()`.
    pub accounts: Option<Arc<dyn Devices>>,
}

impl ReferenceApp {
    /// The CSRF guard's settings of the reference app: the defaults, with `/items`, `/devices` and
    /// `/flash` exempt (the rules post there without a token).
    pub fn csrf_config() -> CsrfConfig {
        CsrfConfig::new().exempt("/items").exempt("/devices").exempt("/flash")
    }

    /// The app with `storage` as the main session and an in-memory second one (cookie `PREFS`).
    pub fn new(storage: Arc<dyn AbstractStorage>) -> Self {
        ReferenceApp { storage, second: self::storage(&MemoryStore::new(), "PREFS"), accounts: None }
    }

    /// `GET /devices`: the handles of `user`'s devices, one per line, sorted (`unsupported` when the
    /// storage lists none).
    pub async fn devices(&self, user: &str) -> Result<String, session_core::Error> {
        let Some(accounts) = &self.accounts else { return Ok("unsupported".to_owned()) };
        let mut handles: Vec<String> =
            accounts.devices(user).await?.into_iter().map(|device| device.id.to_string()).collect();
        handles.sort();
        Ok(handles.join("\n"))
    }

    /// `POST /devices/{device}/end`: `ended` or `unknown`.
    pub async fn end_device(&self, user: &str, device: &str) -> Result<&'static str, session_core::Error> {
        let (Some(accounts), Ok(device)) = (&self.accounts, device.parse()) else { return Ok("unknown") };
        Ok(if accounts.end_device(user, &device).await? { "ended" } else { "unknown" })
    }
}

/// The main storage of a rule, and its devices.
fn accounts(store: &MemoryStore, cookie: &str) -> (Arc<dyn AbstractStorage>, Arc<dyn Devices>) {
    let cookie = CookieConfig::builder().name(cookie).build().expect("a valid cookie name");
    let storage = Arc::new(ServerSideStorage::new(store.clone()).with_config(StorageConfig::new().with_cookie(cookie)));
    (Arc::clone(&storage) as Arc<dyn AbstractStorage>, storage as Arc<dyn Devices>)
}

/// A middleware adapter under test: serves the [reference app](self) with its own middleware.
pub trait HttpAdapter: Send + Sync {
    /// Serves `app` on 127.0.0.1 at a port the OS picks until the test's runtime ends; its address.
    fn serve(&self, app: ReferenceApp) -> BoxFuture<'_, SocketAddr>;
}

/// The stores of one rule: a merging store for the main session, another for the second.
struct Fixture {
    store: MemoryStore,
    address: SocketAddr,
}

fn storage(store: &MemoryStore, cookie: &str) -> Arc<dyn AbstractStorage> {
    let cookie = CookieConfig::builder().name(cookie).build().expect("a valid cookie name");
    Arc::new(ServerSideStorage::new(store.clone()).with_config(StorageConfig::new().with_cookie(cookie)))
}

async fn fixture(adapter: &dyn HttpAdapter) -> Fixture {
    let (store, second) = (MemoryStore::new(), MemoryStore::new());
    let (storage, devices) = accounts(&store, "SID");
    let app = ReferenceApp { storage, second: self::storage(&second, "PREFS"), accounts: Some(devices) };
    let address = adapter.serve(app).await;
    Fixture { store, address }
}

fn session_cookie(reply: &Reply) -> Option<&str> {
    reply.set_cookie("SID")
}

#[track_caller]
fn assert_session_error(reply: &Reply, what: &str) {
    assert_eq!(
        (reply.status, reply.body.as_str()),
        (StatusCode::SERVICE_UNAVAILABLE, "session error"),
        "{what}: the app's own error response"
    );
}

/// A session survives between requests; its cookie is `HttpOnly`, `Path=/`, `SameSite=Lax` and
/// `Secure` by default.
pub async fn a_session_survives_between_requests(adapter: &dyn HttpAdapter) {
    let app = fixture(adapter).await;
    let mut browser = Browser::new(app.address);
    let first = browser.get("/count").await;
    assert_eq!((first.status, first.body.as_str()), (StatusCode::OK, "1"));
    let cookie = session_cookie(&first).expect("Set-Cookie");
    for attribute in ["HttpOnly", "Path=/", "SameSite=Lax", "Secure"] {
        assert!(cookie.split("; ").any(|a| a == attribute), "{cookie} lacks {attribute}");
    }
    assert_eq!(browser.get("/count").await.body, "2");
    assert_eq!(browser.get("/count").await.body, "3");
}

/// Our cookie is found whatever the other cookies hold (UTF-8 text, a Latin-1 byte, invalid UTF-8:
/// anyone who can set one cookie on the domain must not log users out) and in whichever of several
/// `Cookie` headers it comes (HTTP/2 clients split them).
pub async fn other_cookies_with_any_bytes_or_split_headers_keep_the_session(adapter: &dyn HttpAdapter) {
    let app = fixture(adapter).await;
    let mut browser = Browser::new(app.address);
    assert_eq!(browser.get("/count").await.body, "1");
    let ours = format!("SID={}", browser.jar["SID"]);
    let ours = ours.as_bytes();
    let beside: &[u8] = b"lang=fran\xe7ais; emoji=\xf0\x9f\x8d\xaa; broken=\xff\xfe\xc3";
    let together = [beside, b"; ", ours].concat();
    let tries: [(&str, Vec<&[u8]>); 4] = [
        ("other cookies' bytes in the same header", vec![&together]),
        ("ours in the last of three headers", vec![b"a=1", beside, ours]),
        ("ours in the first of two headers", vec![ours, beside]),
        ("ours between two others", vec![b"a=1; b=2", ours, b"c=3"]),
    ];
    for (n, (what, headers)) in tries.into_iter().enumerate() {
        let reply = browser.get_with_cookie_headers("/count", &headers).await;
        assert_eq!((reply.status, reply.body), (StatusCode::OK, (n + 2).to_string()), "{what}: the session is kept");
    }
}

/// What caches are told: a response whose handler used the session varies with `Cookie`; one that
/// sets the session cookie is `private`, merged with what the app said (`public` goes, `no-store`
/// stays); a route that never asks for the session is left alone.
pub async fn responses_that_use_the_session_are_kept_from_shared_caches(adapter: &dyn HttpAdapter) {
    let app = fixture(adapter).await;
    let mut browser = Browser::new(app.address);
    let header = |reply: &Reply, name: http::header::HeaderName| -> Vec<String> {
        reply.headers.get_all(name).iter().map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned()).collect()
    };
    let vary = |reply: &Reply| header(reply, http::header::VARY).join(", ");
    let cache_control = |reply: &Reply| header(reply, http::header::CACHE_CONTROL).join(", ");
    let untouched = browser.get("/static").await;
    assert_eq!((vary(&untouched), cache_control(&untouched)), (String::new(), String::new()), "no session asked");
    let written = browser.get("/count").await;
    assert!(session_cookie(&written).is_some());
    assert_eq!((vary(&written), cache_control(&written)), ("Cookie".into(), "private".into()), "a cookie set");
    let read = browser.get("/peek").await;
    assert_eq!((vary(&read), cache_control(&read)), ("Cookie".into(), String::new()), "read: it varies, no cookie");
    let public = browser.get("/cache/public").await;
    assert_eq!(cache_control(&public), "private", "a public page that sets the cookie becomes private");
    let no_store = browser.get("/cache/no-store").await;
    assert_eq!((vary(&no_store), cache_control(&no_store)), ("Cookie".into(), "no-store".into()), "no-store stays");
    let logout = browser.get("/logout").await;
    assert_eq!(cache_control(&logout), "private", "removing the cookie is private too");
}

/// A route that never asks, and a request that only reads, send no cookie and write nothing.
pub async fn untouched_and_read_only_requests_send_no_cookie(adapter: &dyn HttpAdapter) {
    let app = fixture(adapter).await;
    let mut browser = Browser::new(app.address);
    let untouched = browser.get("/static").await;
    assert_eq!((untouched.status, untouched.set_cookies.len()), (StatusCode::OK, 0));
    assert!(app.store.is_empty(), "nothing stored for a route that never asks");
    browser.get("/count").await;
    let read = browser.get("/peek").await;
    assert_eq!(read.body, "1");
    assert!(read.set_cookies.is_empty(), "a read sends no cookie: {:?}", read.set_cookies);
}

/// A changed session is saved with a redirect or a client error, not with a server error.
pub async fn saves_below_500_only(adapter: &dyn HttpAdapter) {
    let app = fixture(adapter).await;
    let mut browser = Browser::new(app.address);
    for (status, saved) in [(302, true), (404, true), (500, false), (503, false)] {
        let reply = browser.get(&format!("/write/{status}")).await;
        assert_eq!(reply.status.as_u16(), status);
        assert_eq!(session_cookie(&reply).is_some(), saved, "a {status} response saves: {saved}");
    }
    assert_eq!(browser.get("/peek").await.body, "404", "the 5xx responses saved nothing");
}

/// Logout sends a removal cookie and deletes the stored entry; the next request is a new session.
pub async fn logout_removes_the_cookie_and_the_entry(adapter: &dyn HttpAdapter) {
    let app = fixture(adapter).await;
    let mut browser = Browser::new(app.address);
    browser.get("/login/alice").await;
    assert_eq!(app.store.len(), 1);
    let old_jar = browser.jar.clone();
    let logout = browser.get("/logout").await;
    assert!(session_cookie(&logout).is_some_and(|c| c.contains("Max-Age=0")), "{:?}", logout.set_cookies);
    assert!(browser.jar.is_empty());
    assert!(app.store.is_empty(), "the entry is deleted");
    browser.jar = old_jar;
    assert_eq!(browser.get("/user").await.body, "None", "the logged-out id replayed finds nothing");
}

/// A garbage session cookie is a fresh session, never an error.
pub async fn a_garbage_cookie_is_a_fresh_session(adapter: &dyn HttpAdapter) {
    let app = fixture(adapter).await;
    let mut browser = Browser::new(app.address);
    browser.jar.insert("SID".into(), "\"gAAAA\\054garbage\"".into());
    let reply = browser.get("/count").await;
    assert_eq!((reply.status, reply.body.as_str()), (StatusCode::OK, "1"));
}

/// Login with `reset()`: a new cookie, and the entry of the replaced session is deleted.
pub async fn login_replaces_the_session_and_deletes_the_old_entry(adapter: &dyn HttpAdapter) {
    let app = fixture(adapter).await;
    let mut browser = Browser::new(app.address);
    browser.get("/count").await;
    let before = browser.jar.get("SID").cloned();
    browser.get("/login/alice").await;
    assert_ne!(browser.jar.get("SID"), before.as_ref(), "a new session id");
    assert_eq!(app.store.len(), 1, "only the new entry remains");
    assert_eq!(browser.get("/peek").await.body, "None", "the new session starts empty");
    assert_eq!(browser.get("/user").await.body, "alice");
}

/// `cycle_id()`: a new cookie, the same data, the old entry deleted.
pub async fn cycle_id_keeps_the_data_under_a_new_id(adapter: &dyn HttpAdapter) {
    let app = fixture(adapter).await;
    let mut browser = Browser::new(app.address);
    browser.get("/login/alice").await;
    let before = browser.jar.get("SID").cloned();
    let cycled = browser.get("/cycle").await;
    assert!(session_cookie(&cycled).is_some(), "the new id is sent");
    assert_ne!(browser.jar.get("SID"), before.as_ref());
    assert_eq!(browser.get("/user").await.body, "alice");
    assert_eq!(app.store.len(), 1, "the old entry is gone");
}

/// While the store is down every request that asks for the session gets the app's error response and
/// no cookie; once it is back, the same browser is served again.
pub async fn a_store_outage_gives_the_apps_error_then_recovers(adapter: &dyn HttpAdapter) {
    let app = fixture(adapter).await;
    let mut browser = Browser::new(app.address);
    assert_eq!(browser.get("/count").await.body, "1");
    app.store.set_down(true);
    let down = browser.get("/count").await;
    assert_session_error(&down, "store down");
    assert!(down.set_cookies.is_empty());
    assert_eq!(browser.get("/static").await.status, StatusCode::OK, "routes without a session still work");
    app.store.set_down(false);
    assert_eq!(browser.get("/count").await.body, "2", "recovered, the session intact");
}

/// Two storages under two cookie names: each handler reaches both, each saves its own cookie.
pub async fn two_storages_keep_their_cookies_apart(adapter: &dyn HttpAdapter) {
    let app = fixture(adapter).await;
    let mut browser = Browser::new(app.address);
    let first = browser.get("/both").await;
    assert_eq!(first.body, "user=None;theme=None");
    assert!(first.set_cookie("SID").is_some() && first.set_cookie("PREFS").is_some(), "{:?}", first.set_cookies);
    assert_ne!(browser.jar["SID"], browser.jar["PREFS"]);
    assert_eq!(browser.get("/both").await.body, "user=alice;theme=dark");
}

/// Two layers of one route with the same cookie name would overwrite each other's cookie: every
/// request that reaches them is a 500, never a silent overwrite.
pub async fn one_cookie_name_on_two_layers_is_an_error(adapter: &dyn HttpAdapter) {
    let store = MemoryStore::new();
    let address = adapter
        .serve(ReferenceApp { storage: storage(&store, "SID"), second: storage(&store, "SID"), accounts: None })
        .await;
    let mut browser = Browser::new(address);
    let reply = browser.get("/count").await;
    assert_eq!(reply.status, StatusCode::INTERNAL_SERVER_ERROR, "{}", reply.body);
    assert!(reply.set_cookies.is_empty());
}

/// A session error a handler returns with `?` (a value of another type, a nested use, any library
/// error such as a bad key) is the app's error response, and what the failed handler wrote is not
/// saved; formatting the session inside `update` does not wait.
pub async fn handler_errors_are_the_apps_error_response(adapter: &dyn HttpAdapter) {
    let app = fixture(adapter).await;
    let mut browser = Browser::new(app.address);
    browser.get("/login/alice").await;
    assert_session_error(&browser.get("/wrong-type").await, "a string read as a number");
    assert_session_error(&browser.get("/nested").await, "the handle used inside its own update");
    let library = browser.get("/library-error").await;
    assert_session_error(&library, "a key error returned with `?`");
    assert!(library.set_cookies.is_empty(), "a handler that failed saves nothing: {:?}", library.set_cookies);
    let debug = tokio::time::timeout(Duration::from_secs(5), browser.get("/debug")).await;
    assert_eq!(debug.expect("Debug inside update must not wait").body, "ok");
    assert_eq!(browser.get("/user").await.body, "alice", "the session is intact");
}

/// A login gives a new id (the old entry deleted) and the handle answers who is logged in and under
/// which id.
pub async fn login_answers_who_and_under_which_id(adapter: &dyn HttpAdapter) {
    let app = fixture(adapter).await;
    let mut browser = Browser::new(app.address);
    assert_eq!(browser.get("/whoami").await.body, "user=None;id=None");
    browser.get("/count").await;
    let before = browser.jar.get("SID").cloned().expect("a session");
    let login = browser.get("/login/alice").await;
    let id = session_cookie(&login).and_then(|c| c.split("; ").next()).and_then(|p| p.strip_prefix("SID="));
    let id = id.expect("a new cookie").to_owned();
    assert_ne!(id, before, "a login gives a new id");
    assert_eq!(app.store.entry(&format!("SID_{before}")), None, "and deletes the entry it replaced");
    assert_eq!(browser.get("/whoami").await.body, format!("user=alice;id={id}"));
    browser.get("/logout").await;
    assert_eq!(browser.get("/whoami").await.body, "user=None;id=None");
}

/// A user's devices: each login is listed; ending one logs that browser out and leaves the others.
pub async fn devices_are_listed_and_ended_one_by_one(adapter: &dyn HttpAdapter) {
    let app = fixture(adapter).await;
    let (mut laptop, mut phone, mut bob) =
        (Browser::new(app.address), Browser::new(app.address), Browser::new(app.address));
    for (browser, user) in [(&mut laptop, "alice"), (&mut phone, "alice"), (&mut bob, "bob")] {
        assert_eq!(browser.get(&format!("/login/{user}")).await.status, StatusCode::OK);
    }
    let handle = |browser: &Browser| DeviceId::of(browser.jar.get("SID").expect("a session")).to_string();
    let mut expected = [handle(&laptop), handle(&phone)];
    expected.sort();
    assert_eq!(laptop.get("/devices").await.body, expected.join("\n"), "alice's two devices, not bob's");
    let ended = laptop.send(Method::POST, &format!("/devices/{}/end", handle(&phone))).await;
    assert_eq!(ended.body, "ended");
    assert_eq!(phone.get("/whoami").await.body, "user=None;id=None", "the phone is logged out");
    assert!(laptop.get("/whoami").await.body.starts_with("user=alice;"), "the laptop is not");
    assert_eq!(laptop.get("/devices").await.body, handle(&laptop));
    let bobs = laptop.send(Method::POST, &format!("/devices/{}/end", handle(&bob))).await;
    assert_eq!(bobs.body, "unknown", "another user's device");
    assert!(bob.get("/whoami").await.body.starts_with("user=bob;"));
}

/// Log-out-everywhere from one browser ends every session of the user, and a later login lives.
pub async fn log_out_everywhere_ends_every_session_and_a_later_login_lives(adapter: &dyn HttpAdapter) {
    let app = fixture(adapter).await;
    let (mut laptop, mut phone) = (Browser::new(app.address), Browser::new(app.address));
    laptop.get("/login/alice").await;
    phone.get("/login/alice").await;
    assert_eq!(laptop.get("/logout-everywhere").await.body, "done");
    for browser in [&mut laptop, &mut phone] {
        assert_eq!(browser.get("/whoami").await.body, "user=None;id=None");
    }
    phone.get("/login/alice").await;
    assert!(phone.get("/whoami").await.body.starts_with("user=alice;"), "a later login lives");
}

/// Remember-me: the cookie lasts as long as the session is remembered.
pub async fn a_remembered_session_sends_its_lifetime(adapter: &dyn HttpAdapter) {
    let app = fixture(adapter).await;
    let mut browser = Browser::new(app.address);
    browser.get("/login/alice").await;
    let remembered = browser.get("/remember/604800").await;
    let cookie = session_cookie(&remembered).expect("a cookie");
    assert!(cookie.split("; ").any(|a| a == "Max-Age=604800"), "{cookie}");
}

/// Fifty requests of one browser at once, each adding an item: all fifty are kept (the main store
/// merges).
pub async fn concurrent_requests_keep_their_writes(adapter: &dyn HttpAdapter) {
    let app = fixture(adapter).await;
    let mut browser = Browser::new(app.address);
    assert_eq!(browser.send(Method::POST, "/items/first").await.status, StatusCode::OK);
    post_at_once(&browser, (0..50).map(|n| format!("/items/{n}"))).await;
    assert_eq!(browser.get("/items").await.body, "51");
}

/// A `POST` to each of `paths` at once, each from a tab with `browser`'s cookies; every one answers 200.
async fn post_at_once(browser: &Browser, paths: impl Iterator<Item = String>) {
    let requests: Vec<_> = paths
        .map(|path| {
            let mut tab = browser.tab();
            tokio::spawn(async move { tab.send(Method::POST, &path).await.status })
        })
        .collect();
    for request in requests {
        assert_eq!(request.await.expect("request task"), StatusCode::OK);
    }
}

/// Writes the HTTP suite for one adapter: a module `$name` with one `#[test]` per rule, each on a
/// multi-threaded tokio runtime. The expression is evaluated inside each test and gives the
/// [`HttpAdapter`].
///
/// ```text
/// session_testkit::http_suite!(axum, MyAdapter);
/// ```
#[cfg_attr(docsrs, doc(cfg(feature = "http")))]
#[macro_export]
macro_rules! http_suite {
    ($name:ident, $adapter:expr $(,)?) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            $crate::__http_rule_tests!($adapter;
                a_session_survives_between_requests,
                other_cookies_with_any_bytes_or_split_headers_keep_the_session,
                untouched_and_read_only_requests_send_no_cookie,
                responses_that_use_the_session_are_kept_from_shared_caches,
                saves_below_500_only,
                logout_removes_the_cookie_and_the_entry,
                a_garbage_cookie_is_a_fresh_session,
                login_replaces_the_session_and_deletes_the_old_entry,
                cycle_id_keeps_the_data_under_a_new_id,
                a_store_outage_gives_the_apps_error_then_recovers,
                two_storages_keep_their_cookies_apart,
                one_cookie_name_on_two_layers_is_an_error,
                handler_errors_are_the_apps_error_response,
                login_answers_who_and_under_which_id,
                devices_are_listed_and_ended_one_by_one,
                log_out_everywhere_ends_every_session_and_a_later_login_lives,
                a_remembered_session_sends_its_lifetime,
                concurrent_requests_keep_their_writes,
                a_flash_shows_once_after_the_redirect,
                parallel_flashes_are_all_kept,
                a_post_needs_the_sessions_csrf_token,
            );
        }
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __http_rule_tests {
    ($adapter:expr; $($rule:ident),+ $(,)?) => {
        $(
            #[test]
            fn $rule() {
                $crate::__private::tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .enable_all()
                    .build()
                    .expect("a tokio runtime for the test")
                    .block_on(async {
                        let adapter = $adapter;
                        $crate::http_suite::$rule(&adapter).await;
                    });
            }
        )+
    };
}

/// A flash queued before a redirect is shown once, after it, and the messages keep their order.
pub async fn a_flash_shows_once_after_the_redirect(adapter: &dyn HttpAdapter) {
    let app = fixture(adapter).await;
    let mut browser = Browser::new(app.address);
    let redirect = browser.get("/flash/saved").await;
    assert_eq!(redirect.status, StatusCode::SEE_OTHER);
    assert_eq!(redirect.headers.get(http::header::LOCATION).map(|l| l.as_bytes()), Some(&b"/flashes"[..]));
    assert_eq!(browser.get("/flashes").await.body, "saved", "shown after the redirect");
    assert_eq!(browser.get("/flashes").await.body, "none", "and only once");
    browser.get("/flash/first").await;
    browser.get("/flash/second").await;
    assert_eq!(browser.get("/flashes").await.body, "first,second");
}

/// Thirty-two requests of one browser at once, each queueing a flash: all thirty-two are shown (the
/// main store merges, and a queue merges by keeping every request's messages).
pub async fn parallel_flashes_are_all_kept(adapter: &dyn HttpAdapter) {
    let app = fixture(adapter).await;
    let mut browser = Browser::new(app.address);
    assert_eq!(browser.send(Method::POST, "/flash/start").await.status, StatusCode::OK);
    post_at_once(&browser, (0..32).map(|n| format!("/flash/m{n}"))).await;
    let shown = browser.get("/flashes").await.body;
    let mut shown: Vec<&str> = shown.split(',').collect();
    assert_eq!(shown.first(), Some(&"start"), "the first message stays first");
    shown.sort_unstable();
    let mut expected: Vec<String> = (0..32).map(|n| format!("m{n}")).collect();
    expected.push("start".to_owned());
    expected.sort_unstable();
    assert_eq!(shown, expected, "every parallel request's flash is kept");
}

/// An unsafe request needs the session's CSRF token: 403 without it or with a wrong one, 200 with it
/// in the header or the form field; exempt paths pass; after a login, the old token fails and the new
/// one works.
pub async fn a_post_needs_the_sessions_csrf_token(adapter: &dyn HttpAdapter) {
    let app = fixture(adapter).await;
    let mut browser = Browser::new(app.address);
    let token = browser.get("/csrf").await.body;
    assert_eq!(token.len(), 64, "a token: {token}");
    assert_eq!(browser.get("/csrf").await.body, token, "one token per session");

    assert_eq!(browser.send(Method::POST, "/form").await.status, StatusCode::FORBIDDEN, "no token");
    let wrong = browser.send_with_header(Method::POST, "/form", "X-CSRF-Token", &"0".repeat(64)).await;
    assert_eq!(wrong.status, StatusCode::FORBIDDEN, "a wrong token");
    let header = browser.send_with_header(Method::POST, "/form", "X-CSRF-Token", &token).await;
    assert_eq!((header.status, header.body.as_str()), (StatusCode::OK, "accepted"), "the token in the header");
    let form = browser.send_body(Method::POST, "/form", format!("name=x&csrf_token={token}")).await;
    assert_eq!((form.status, form.body.as_str()), (StatusCode::OK, "accepted"), "the token in the form");
    assert_eq!(browser.send(Method::DELETE, "/form").await.status, StatusCode::FORBIDDEN, "DELETE is checked too");
    assert_eq!(browser.send(Method::POST, "/items/exempt").await.status, StatusCode::OK, "an exempt path");

    let mut stranger = Browser::new(app.address);
    let theirs = stranger.get("/csrf").await.body;
    let forged = browser.send_with_header(Method::POST, "/form", "X-CSRF-Token", &theirs).await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN, "another session's token");

    browser.get("/login/alice").await;
    let old = browser.send_with_header(Method::POST, "/form", "X-CSRF-Token", &token).await;
    assert_eq!(old.status, StatusCode::FORBIDDEN, "the token from before the login");
    let fresh = browser.get("/csrf").await.body;
    assert_ne!(fresh, token);
    let after = browser.send_with_header(Method::POST, "/form", "X-CSRF-Token", &fresh).await;
    assert_eq!(after.status, StatusCode::OK, "the token made after the login");
}
