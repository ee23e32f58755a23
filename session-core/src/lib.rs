//! Framework-neutral sessions, wire-compatible with Python's aiohttp-session 2.12.
//!
//! This crate is the model every other crate of the workspace shares: the [`Session`], the
//! [`AbstractStorage`] trait that backends implement, the cookie settings ([`CookieConfig`]), the codec
//! (JSON byte-identical to Python's `json.dumps`), the clock, and the errors. It has no network code and
//! no cryptography; backends live in their own crates so an application compiles only what it uses:
//!
//! | crate | storage |
//! |---|---|
//! | `session-cookie` | `SimpleCookieStorage` (plain JSON, tests only), `EncryptedCookieStorage` (Fernet) |
//! | `session-nacl` | `NaClCookieStorage` (XSalsa20-Poly1305 secretbox) |
//! | `session-redis` | `RedisStorage` (one node or a cluster) |
//! | `session-memcached` | `MemcachedStorage` (one server or many) |
//! | `session-tower` | the tower `Layer` and axum extractors (`setup`, `get_session`, `new_session`) |
//! | `session-testkit` | the conformance suite every storage runs |
//!
//! # The model
//!
//! A session is a JSON object that one browser carries from request to request, plus bookkeeping:
//!
//! - `created`: Unix seconds of the last write. [`Session::insert`] and [`Session::remove`] reset it, so
//!   the storage's `max_age` is an **idle timeout** counted from the last write, not from login.
//! - `new`: the session was made in this request, not loaded.
//! - `changed`: the session will be saved. Writes set it; so does [`Session::changed`], which you call
//!   after mutating a value in place (the session cannot see that) and which leaves `created` alone.
//! - `identity`: the backend key of server-side storages; cookie storages keep none.
//! - `max_age`: the lifetime written with this session; the storage's `max_age` decides expiry on load.
//!
//! On load, an empty payload `{}` is a new session without identity (a replayed, logged-out session id
//! cannot be revived: the session-fixation guard), and a session idle for longer than `max_age` loses
//! its data. `age == max_age` is still valid.
//!
//! # One request
//!
//! 1. **Cookie in.** The middleware finds the storage's cookie in the `Cookie` headers
//!    ([`find_cookie`]; last one wins, Python quoting undone).
//! 2. **Loaded lazily.** Nothing is parsed or fetched until the handler asks for the session; then
//!    [`AbstractStorage::load_session`] runs once and the session is cached for the request.
//! 3. **The handler runs** and reads or writes the session.
//! 4. **Saved if changed.** [`save_if_changed`] calls [`AbstractStorage::save_session`] only for a
//!    changed session, on every response below 500 (redirects and 4xx included). An unchanged session
//!    costs no write and no `Set-Cookie`.
//! 5. **Cookie out.** The storage says set this value or remove the cookie ([`CookieAction`]); the
//!    `Set-Cookie` header gets Python quoting and the attributes of the [`CookieConfig`].
//!
//! ```
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! use async_trait::async_trait;
//! use session_core::{find_cookie, save_if_changed, AbstractStorage, CookieAction, Error, Session, StorageConfig};
//!
//! struct PlainCookie(StorageConfig);
//!
//! #[async_trait]
//! impl AbstractStorage for PlainCookie {
//!     fn config(&self) -> &StorageConfig { &self.0 }
//!     async fn load_session(&self, cookie: Option<&str>) -> Result<Session, Error> {
//!         Ok(cookie.map_or_else(|| self.new_session(), |text| self.0.open("plain", None, text)))
//!     }
//!     async fn save_session(&self, session: &mut Session) -> Result<CookieAction, Error> {
//!         Ok(CookieAction::Set(self.0.encode(session)?))
//!     }
//! }
//!
//! let storage = PlainCookie(StorageConfig::default());
//! let cookie = find_cookie([r#"AIOHTTP_SESSION="{\"created\": 1\054 \"session\": {\"n\": 1}}""#], "AIOHTTP_SESSION");
//! let mut session = storage.load_session(cookie.as_deref()).await?;   // loaded
//! let n: i64 = session.get("n")?.unwrap_or(0);                        // the handler runs
//! session.insert("n", n + 1)?;
//! let set_cookie = save_if_changed(&storage, &mut session).await?;   // saved, cookie out
//! assert!(set_cookie.unwrap().contains(r#"\"n\": 2"#));
//! # Ok::<(), Error>(())
//! # }).unwrap();
//! ```
//!
//! # Server-side storages
//!
//! [`ServerSideStorage`] keeps the payload in a key-value store under `<cookie_name>_<id>` and only the
//! id (32 hex characters of 128 random bits) in the cookie. A backend crate only implements
//! [`KeyValueBackend`] (fetch, store, delete); the session rules stay here.
//!
//! # Wire compatibility
//!
//! A Python aiohttp-session service and one built on these crates can share a cookie (and a Redis or
//! memcached): the payload is `{"created": <int>, "session": {...}}` written exactly as `json.dumps`
//! writes it, cookie values are quoted as Python's `http.cookies` quotes them, and every storage keeps
//! aiohttp-session's encoding. Where we differ, it is on the safe side and invisible on the wire: a
//! malformed payload is a fresh session instead of a 500, a cookie over 4096 bytes is an error instead
//! of a cookie the browser drops, and the default `SameSite` is `Lax`.
//!
//! # What is not guaranteed
//!
//! - **Concurrent requests on one session merge only with server-side storages** that can
//!   compare-and-set (Redis, memcached; [`Concurrency::Merge`]): each save re-applies just what its
//!   request changed. Cookie storages, and [`Concurrency::LastWriterWins`], keep aiohttp-session's
//!   behaviour: of two requests that load the same session and both write it, the later save wins whole.
//! - **Cookie storages cannot revoke a cookie.** Logging out deletes the cookie in the browser; a copy
//!   someone kept stays valid until `max_age` runs out, or forever without `max_age`.
//! - **Values mutated in place are not noticed.** Call [`Session::changed`] after doing so.
//! - JSON numbers follow `serde_json`: integers beyond 64 bits and Python's `NaN`/`Infinity` do not
//!   load (the session starts fresh).
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod changes;
mod clock;
mod codec;
mod cookie_config;
mod cookie_header;
mod error;
mod python_json;
mod quoting;
mod secret_key;
mod server_side;
mod session;
mod storage;
mod storage_config;

pub use clock::{Clock, ManualClock};
pub use codec::{Codec, JsonCodec, SessionRecord};
pub use cookie_config::{CookieConfig, MAX_COOKIE_SIZE, SameSite};
pub use cookie_header::find_cookie;
pub use error::{BoxError, Error};
pub use quoting::{cookie_quote, cookie_unquote};
pub use secret_key::{KeyError, KeyRing, SecretKey};
pub use server_side::{CasOutcome, Concurrency, KeyFactory, KeyValueBackend, RandomHexIds, ServerSideStorage, Version};
pub use session::Session;
pub use storage::{AbstractStorage, CookieAction, save_if_changed};
pub use storage_config::StorageConfig;

/// Re-exported so storages and applications name one version of the JSON value type.
pub use serde_json::{Map, Value};
