//! Sessions for tower and axum apps: the Rust twin of aiohttp-session's `setup()`, `get_session()` and
//! `new_session()`, over any storage of this workspace (or yours). This is the one crate an axum app
//! imports, beside its storage crate: it re-exports what an app touches ([`StorageConfig`],
//! [`CookieConfig`], [`Expiry`], [`Error`], …). The names of aiohttp-session map onto ours in
//! [one table](session_core#names).
//!
//! ```toml
//! [dependencies]
//! session-tower = { path = "…/session-tower" }    # this crate
//! session-cookie = { path = "…/session-cookie" }  # or session-nacl, session-redis, session-memcached
//! ```
//!
//! # One request
//!
//! 1. **Cookie in.** [`SessionLayer`] puts the request's session in its extensions. Nothing else: the
//!    `Cookie` header is not even read yet.
//! 2. **Loaded lazily.** The first [`Session`] extractor (or [`get_session`]) finds the storage's cookie,
//!    loads the session once, and keeps it for the rest of the request. A route that never asks pays
//!    for nothing.
//! 3. **The handler runs**, reading and writing through the `Session` methods; each returns a
//!    [`SessionError`] that `?` turns into the layer's error response. `?` works on every error of the
//!    library (a store's, a key's, the session's) in a handler returning `Result<_, SessionError>`.
//! 4. **Saved if changed.** After the handler, a changed session is saved on every response below 500,
//!    redirects and 4xx included (aiohttp-session saves on HTTP exceptions too); a 5xx response, or a
//!    handler that returned a session error, saves nothing. An unchanged session is not written and
//!    sends no cookie.
//! 5. **Cookie out.** The storage's `Set-Cookie` is appended to the response. If the handler called
//!    [`Session::reset`] or [`Session::cycle_id`], the store entry of the replaced session is deleted
//!    after the new one is saved.
//!
//! The framework-neutral part of this path is `session_core::middleware`; this crate maps it to tower
//! and axum types. A store that fails on load or save turns the response into a 500 (or what you give
//! to [`SessionLayer::on_error`]); the error and its cause are logged with `tracing`, never sent to the
//! client, so **install a `tracing` subscriber** (`tracing_subscriber::fmt::init()`) or a 500 says
//! nothing of why. A bad cookie is not a failure: it loads as a fresh session.
//!
//! ```
//! use std::time::Duration;
//! use axum::{Router, routing::get};
//! use session_cookie::EncryptedCookieStorage;
//! use session_tower::{Session, SessionError, SessionLayer, StorageConfig};
//!
//! async fn index(session: Session) -> Result<String, SessionError> {
//!     let last: Option<f64> = session.get("last_visit")?;
//!     session.insert("last_visit", 1_700_000_000.5)?;
//!     Ok(format!("Last visited: {last:?}"))
//! }
//!
//! let storage = EncryptedCookieStorage::new(EncryptedCookieStorage::generate_key())?
//!     .with_config(StorageConfig::new().with_max_age(Duration::from_secs(3600)));
//! let app: Router = Router::new().route("/", get(index)).layer(SessionLayer::new(storage));
//! # Ok::<(), session_cookie::KeyError>(())
//! ```
//!
//! # Errors with `?`
//!
//! A handler returning `Result<_, SessionError>` takes `?` on the session's own calls, on a
//! [`session_core::Error`] (from the storage: `log_out_everywhere`), on a key error and on a store's
//! error; each ends in the layer's error response, its cause logged:
//!
//! ```
//! use session_tower::{Error, Session, SessionError};
//!
//! async fn admin(session: Session) -> Result<&'static str, SessionError> {
//!     // A store error, from the handle.
//!     session.log_out_everywhere("mallory").await?;
//!     // A key error (an app that reads a key per tenant, say).
//!     let _key = session_cookie::SecretKey::from_base64("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=")?;
//!     // Any session_core::Error.
//!     let failed: Result<(), Error> = Err(Error::NotLoaded);
//!     failed?;
//!     Ok("done")
//! }
//! ```
//!
//! # Several storages in one app
//!
//! Give each its own cookie name and a tag type: `SessionLayer::new(storage).tagged::<Prefs>()` is
//! reached with `Session<Prefs>`, and both layers save their own session after the handler. Two layers
//! of one route with the same cookie name answer 500 and log an error that names the cookie.
//!
//! # What is not guaranteed
//!
//! - Concurrent requests on one session merge their writes only with storages that compare-and-set
//!   (Redis, memcached); with cookie storages the last response's cookie wins, as in aiohttp-session.
//! - A `Session` kept past the response (in a spawned task) cannot change the session any more: its
//!   writes are [`Error::Finished`].
//! - If the handler sets a cookie with the session's name itself, both `Set-Cookie` headers are sent.
//! - The layer needs a response body type that can be built from a `String` (axum's `Body`,
//!   `http_body_util::Full`, `String`) for its error responses.
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

#[cfg(feature = "axum")]
#[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
mod csrf;
#[cfg(feature = "axum")]
#[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
mod extract;
mod handle;
mod layer;
mod shared;

#[cfg(feature = "axum")]
pub use csrf::{CsrfConfig, CsrfLayer, CsrfService};
pub use handle::{Session, SessionError, get_session, reset_session};
pub use layer::{ResponseFuture, SessionLayer, SessionService};

// What an app touches besides the layer and the handle, so that it imports this crate and its storage
// crate only.
pub use session_core::cookie::CookieError;
pub use session_core::{
    AbstractStorage, Concurrency, CookieConfig, Error, Expiry, Flash, FlashLevel, SameSite, SessionState, StorageConfig,
};

/// The README's examples, compiled as doc tests so they cannot rot.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
