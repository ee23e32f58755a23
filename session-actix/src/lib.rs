//! Sessions for actix-web apps: the Rust twin of aiohttp-session's `setup()`, `get_session()` and
//! `new_session()`, over any [`session_core::AbstractStorage`]. The same model and the same cookies as
//! `session-tower`, so an axum service, an actix-web service and a Python aiohttp service can share one
//! session.
//!
//! | aiohttp-session | here |
//! |---|---|
//! | `setup(app, storage)` | `App::new().wrap(SessionMiddleware::new(storage))` |
//! | `session = await get_session(request)` | a [`Session`] handler argument (or [`get_session`]) |
//! | `session = await new_session(request)` | `session.new_session()?` (or [`new_session`]) |
//! | `session["k"] = v`, `session.get("k")` | `session.insert("k", v)?`, `session.get::<T>("k")?` |
//! | `session.invalidate()` | `session.invalidate()?` |
//!
//! # One request
//!
//! 1. **Cookie in.** [`SessionMiddleware`] puts the request's session in its extensions. Nothing else:
//!    the `Cookie` header is not even read yet.
//! 2. **Loaded lazily.** The first [`Session`] extractor (or [`get_session`]) finds the storage's
//!    cookie, loads the session once, and keeps it for the rest of the request. A route that never asks
//!    pays for nothing.
//! 3. **The handler runs**, reading and writing through the `Session` methods; each returns a
//!    [`SessionError`], an actix-web `ResponseError` that `?` turns into the middleware's error
//!    response.
//! 4. **Saved if changed.** After the handler, a changed session is saved on every response below 500,
//!    redirects and 4xx included (aiohttp-session saves on HTTP exceptions too); a 5xx response saves
//!    nothing. An unchanged session is not written and sends no cookie.
//! 5. **Cookie out.** The storage's `Set-Cookie` is appended to the response. If the handler called
//!    [`Session::new_session`] or [`Session::cycle_id`], the store entry of the replaced session is
//!    deleted after the new one is saved.
//!
//! The framework-neutral part of this path is `session_core::middleware`; this crate maps it to
//! actix-web types. It reads the `Cookie` header itself, so actix-web's `cookies` feature is not
//! needed. A store that fails on load or save turns the response into a 500 (or what you give to
//! [`SessionMiddleware::on_error`]); the error and its cause are logged with `tracing`, never sent to
//! the client. A bad cookie is not a failure: it loads as a fresh session and logs a warning.
//!
//! ```
//! use std::time::Duration;
//! use actix_web::{App, web};
//! use session_actix::{Session, SessionError, SessionMiddleware};
//! use session_cookie::EncryptedCookieStorage;
//! use session_core::StorageConfig;
//!
//! async fn index(session: Session) -> Result<String, SessionError> {
//!     let last: Option<f64> = session.get("last_visit")?;
//!     session.insert("last_visit", 1_700_000_000.5)?;
//!     Ok(format!("Last visited: {last:?}"))
//! }
//!
//! let storage = EncryptedCookieStorage::new(EncryptedCookieStorage::generate_key())?
//!     .with_config(StorageConfig::new().with_max_age(Duration::from_secs(3600)));
//! let sessions = SessionMiddleware::new(storage);
//! // `HttpServer::new` calls this once per worker.
//! let app = move || App::new().wrap(sessions.clone()).route("/", web::get().to(index));
//! # let _ = app;
//! # Ok::<(), session_core::sealed::KeyError>(())
//! ```
//!
//! # Several storages in one app
//!
//! Give each its own cookie name and a tag type: `SessionMiddleware::new(storage).tagged::<Prefs>()`
//! is reached with `Session<Prefs>`, and both middlewares save their own session after the handler.
//! Two middlewares of one route with the same cookie name (or the same tag) answer 500 and log an
//! error that names the cookie.
//!
//! # Handlers with their own error type
//!
//! Give it a `From<SessionError>` and, in its `ResponseError::error_response`, return the
//! `SessionError`'s: the middleware's error response, with the cause logged. A handler returning
//! `Result<_, actix_web::Error>` needs nothing: `?` converts a `SessionError` into it.
//!
//! # What is not guaranteed
//!
//! - Concurrent requests on one session merge their writes only with storages that compare-and-set
//!   (Redis, memcached); with cookie storages the last response's cookie wins, as in aiohttp-session.
//! - A `Session` kept past the response (in a spawned task) cannot change the session any more: its
//!   writes are [`session_core::Error::Finished`].
//! - If the handler sets a cookie with the session's name itself, both `Set-Cookie` headers are sent.
//! - An error that an inner middleware returns as `Err` (instead of an error response) skips the save:
//!   actix-web turns it into a response after this middleware has run.
//! - Nothing of a session error reaches the client, but [`SessionError::error`] hands the error to
//!   your own code: keep it out of responses too.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod extract;
mod handle;
mod middleware;
mod shared;

pub use handle::{Session, SessionError, get_session, new_session};
pub use middleware::{ResponseFuture, SessionMiddleware, SessionService};

/// This crate's README, compiled as doc tests so its example cannot rot.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
