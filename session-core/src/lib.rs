//! Framework-neutral sessions, wire-compatible with Python's aiohttp-session 2.12.
//!
//! This crate is the model every other crate of the workspace shares. It has no network code and no
//! cryptography; backends and framework adapters live in their own crates, so an application compiles
//! only what it uses:
//!
//! | crate | holds |
//! |---|---|
//! | `session-tower` | the tower layer and axum extractor: the crate an axum app imports |
//! | `session-actix` | the same for actix-web |
//! | `session-cookie` | `EncryptedCookieStorage` (Fernet), `SimpleCookieStorage` (plain JSON, tests only) |
//! | `session-nacl` | `NaClCookieStorage` (XSalsa20-Poly1305 secretbox) |
//! | `session-redis` | `RedisStorage` (one node or a cluster) |
//! | `session-memcached` | `MemcachedStorage` (one server or many) |
//! | `session-testkit` | the conformance suites every storage and adapter runs |
//!
//! An application names one adapter and one storage crate in its `Cargo.toml`; both re-export what it
//! touches of this crate. This crate's own face is for storage authors ([`storage`], [`sealed`],
//! [`server_side`], [`codec`]) and adapter authors ([`middleware`]).
//!
//! # Names
//!
//! One name per idea, here and in the adapters; aiohttp-session's names are doc aliases, so a search
//! for them finds ours.
//!
//! | aiohttp-session | here | what it does |
//! |---|---|---|
//! | `setup(app, storage)` | `SessionLayer::new(storage)` (tower), `SessionMiddleware::new(storage)` (actix-web) | one session per request, saved after the handler |
//! | `get_session(request)` | the `Session` extractor, or `get_session(&request)` | the request's session, loaded once, on first use |
//! | `new_session(request)` | `session.reset()`, or `reset_session(&request)` | a fresh, empty session under a new id (at login) |
//! | – | `session.cycle_id()` | a new id, the same data (Django's `cycle_key`, actix-session's `renew`) |
//! | `session.invalidate()` | `session.invalidate()` | empties the session; the cookie and the stored entry go |
//! | `session[k] = v`, `session.get(k)`, `session.pop(k)` | `insert(k, v)`, `get::<T>(k)`, `remove::<T>(k)` | typed through serde |
//! | `session.changed()`, `session.clear()` | `changed()`, `clear()` | the same |
//! | `session.max_age` | `set_max_age(d)`, `StorageConfig::with_max_age(d)` | `Duration`s |
//! | `Session` (the class) | [`SessionState`] | the model; the adapters' `Session` is the handle a handler holds over it |
//! | `AbstractStorage`, `storage.new_session()` | [`AbstractStorage`], [`AbstractStorage::new_state`] | a storage, and a fresh model from it |
//! | `key_factory`, `encoder`/`decoder` | [`with_key_factory`](server_side::ServerSideStorage::with_key_factory), [`StorageConfig::with_codec`] | ids and payload text |
//! | – | `session.log_out_everywhere(user)` | ends every session of a user |
//!
//! # The model
//!
//! A session is a JSON object that one browser carries from request to request, plus bookkeeping
//! ([`SessionState`]):
//!
//! - `created`: Unix seconds of the last write. [`SessionState::insert`] and [`SessionState::remove`] reset it, so
//!   `max_age` is an **idle timeout** counted from the last write, as in aiohttp-session. An idle
//!   timeout that reads refresh, and an absolute lifetime, are options ([`Expiry`]).
//! - `new`: the session was made in this request, not loaded.
//! - `changed`: the session will be saved. Writes set it; so does [`SessionState::changed`], which you call
//!   after mutating a value in place (the session cannot see that) and which leaves `created` alone.
//! - `identity`: the backend key of server-side storages; cookie storages keep none.
//! - `max_age`: the lifetime written with this session.
//!
//! On load, an empty payload `{}` is a new session without identity (a replayed, logged-out session id
//! cannot be revived: the session-fixation guard), and a session past a limit loses its data.
//!
//! # One request
//!
//! 1. **Cookie in.** The middleware finds the storage's cookie in the `Cookie` headers (last one wins,
//!    Python quoting undone).
//! 2. **Loaded lazily.** Nothing is parsed or fetched until the handler asks for the session; then the
//!    storage loads it once and it is kept for the request.
//! 3. **The handler runs** and reads or writes the session.
//! 4. **Saved if changed**, on every response below 500 (redirects and 4xx included). An unchanged
//!    session costs no write and no `Set-Cookie`.
//! 5. **Cookie out.** The storage says set this value or remove the cookie; the `Set-Cookie` header gets
//!    Python quoting and the attributes of the [`CookieConfig`].
//!
//! [`middleware::RequestSession`] is that path, once, for every framework adapter.
//!
//! # The layers of this crate, bottom up
//!
//! | module | for | holds |
//! |---|---|---|
//! | [`Error`], [`Clock`] | everyone | what goes wrong; where "now" comes from |
//! | [`cookie`] | applications, middleware authors | [`CookieConfig`], finding the cookie, Python's quoting |
//! | [`codec`] | storage authors | the payload as text: JSON byte-identical to Python's `json.dumps` |
//! | [`SessionState`], [`Expiry`] | applications | the session and when it ends |
//! | [`storage`] | storage authors | [`AbstractStorage`], [`StorageConfig`] and the load and save rules |
//! | [`middleware`] | middleware (adapter) authors | one request's session, from cookie in to cookie out, and the handle's methods |
//! | [`sealed`] | cipher authors | cookie storages over any cipher, with key rotation |
//! | [`server_side`] | backend authors | storages over any key-value store, with merging saves |
//!
//! # Wire compatibility
//!
//! A Python aiohttp-session service and one built on these crates can share a cookie (and a Redis or
//! memcached): the payload is `{"created": <int>, "session": {...}}` written exactly as `json.dumps`
//! writes it, cookie values are quoted as Python's `http.cookies` quotes them, and every storage keeps
//! aiohttp-session's encoding. Where we differ, it is on the safe side and invisible on the wire: a
//! malformed payload is a fresh session instead of a 500, a cookie over 4096 bytes is an error instead
//! of a cookie the browser drops, `Secure` and `SameSite=Lax` are the defaults.
//!
//! # What is not guaranteed
//!
//! - **Concurrent requests on one session merge only with server-side storages** that can
//!   compare-and-set (Redis, memcached; [`Concurrency::Merge`]): each save re-applies just what its
//!   request changed. Cookie storages, and [`Concurrency::LastWriterWins`], keep aiohttp-session's
//!   behaviour: of two requests that load the same session and both write it, the later save wins whole.
//! - **Cookie storages cannot revoke a cookie.** Logging out deletes the cookie in the browser; a copy
//!   someone kept stays valid until it expires, or forever without a limit.
//! - **Values mutated in place are not noticed.** Call [`SessionState::changed`] after doing so.
//! - JSON numbers follow `serde_json`: integers beyond 64 bits and Python's `NaN`/`Infinity` do not
//!   load (the session starts fresh).
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod accounts;
mod backend;
mod clock;
pub mod codec;
pub mod cookie;
pub mod csrf;
mod deadline;
mod error;
pub mod expiry;
mod flash;
mod hex;
mod items;
mod meta;
pub mod metrics;
pub mod middleware;
mod python_json;
mod queue;
pub mod sealed;
pub mod server_side;
mod session;
pub mod storage;

pub use clock::{Clock, ManualClock};
pub use cookie::{CookieConfig, SameSite};
pub use error::{BoxError, Error};
pub use expiry::Expiry;
pub use flash::{Flash, FlashLevel};
pub use sealed::SecretKey;
pub use server_side::Concurrency;
pub use session::SessionState;
pub use storage::{AbstractStorage, StorageConfig};

/// Re-exported so storages and applications name one version of the JSON value type.
pub use serde_json::{Map, Value};

/// What [`middleware::handle_methods!`] names; not part of the API.
#[doc(hidden)]
pub mod __private {
    pub use serde::Serialize;
    pub use serde::de::DeserializeOwned;
}

/// The README's examples, compiled as doc tests so they cannot rot.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
