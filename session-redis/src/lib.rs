//! `RedisStorage`: sessions in Redis (one node or a Redis Cluster), wire-compatible with
//! aiohttp-session's `RedisStorage`. A Python service pointed at the same Redis reads our sessions and
//! we read its.
//!
//! The cookie holds the session id (32 lowercase hex characters, 128 bits from the OS CSPRNG); Redis
//! holds the JSON payload under `<cookie_name>_<id>`, e.g. `AIOHTTP_SESSION_0123…cdef`, written with
//! `SET key payload [EX max_age]` (inside a compare-and-set script, see below) and read with `GET key`:
//! one round trip to load, one to save, never
//! `KEYS`. `invalidate()` deletes the key (aiohttp overwrites it with `{}`; a Python reader sees a new
//! session either way), and the entry of a session replaced by `reset` or `cycle_id` is deleted once the new
//! one is saved.
//!
//! - A cookie that is not a plausible id is a fresh session, without a round trip.
//! - A stored value that does not decode is a fresh session with a new id, where aiohttp-session
//!   answers 500.
//! - Redis failures are [`session_core::Error::Backend`] with a [`RedisStorageError`] source (pool,
//!   command, reply), which the middleware turns into a 500; nothing panics. One deadline bounds all
//!   Redis does for a request ([`RedisBackend::with_timeout`]): past it, [`session_core::Error::Timeout`].
//! - Writes say what they expect: a new id is `SET … NX` (never over another session), a loaded
//!   session's update `SET … XX` (never bringing back one a logout or `cycle_id` removed meanwhile).
//! - Every entry expires: when its session ends by the expiry policy, two weeks after its last write
//!   without a limit ([`DEFAULT_LIFETIME`](session_core::expiry::DEFAULT_LIFETIME)), as long as a
//!   remembered session is kept ([`remember_for`](session_core::SessionState::remember_for)).
//! - Concurrent requests on one session keep each other's writes: a save is a compare-and-set that
//!   writes only if the entry still holds the bytes the request loaded (a short Lua script; the value
//!   stays the bare Python-format payload); on a conflict the save reloads and re-applies only its own
//!   changes ([`Concurrency::Merge`], the default; `LastWriterWins`
//!   sends `SET … XX`). Still one round trip per load and per save without a conflict.
//!
//! ```no_run
//! use std::time::Duration;
//! use session_redis::{RedisBackend, RedisStorage, StorageConfig};
//!
//! // From a URL (this crate builds the pool)...
//! let storage = RedisStorage::new(RedisBackend::from_url("redis://127.0.0.1:6379")?)
//!     .with_config(StorageConfig::new().with_idle_timeout(Duration::from_secs(3600)));
//!
//! // ...or from a pool you built.
//! let pool = deadpool_redis::Config::from_url("redis://127.0.0.1:6379")
//!     .create_pool(Some(deadpool_redis::Runtime::Tokio1))
//!     .expect("valid URL");
//! let storage = RedisStorage::new(RedisBackend::from(pool));
//! # Ok::<(), session_redis::RedisStorageError>(())
//! ```
//!
//! # Redis Cluster
//!
//! With the `cluster` feature, a `deadpool_redis::cluster::Pool` (or
//! [`RedisBackend::from_cluster_urls`]) takes the place of the pool and nothing else changes: every
//! command touches one key, so the cluster routes it to the key's node.
//!
//! # TLS
//!
//! With the `tls` feature (rustls and ring, no OpenSSL), `rediss://` URLs connect over TLS, checked
//! against the system's trust store; [`RedisBackend::from_url_with_certificates`] trusts a private CA
//! or presents a client certificate. Without it, [`RedisBackend::from_url`] refuses `rediss://` with an
//! error naming the feature.
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod backend;
mod error;

pub use backend::{DEFAULT_TIMEOUT, RedisBackend};
pub use error::RedisStorageError;
/// What building the storage takes besides the backend: the settings every storage has, and how
/// concurrent saves combine.
pub use session_core::{Concurrency, StorageConfig};

/// Sessions in Redis: [`ServerSideStorage`](session_core::server_side::ServerSideStorage) over a
/// [`RedisBackend`].
///
/// Build it with `RedisStorage::new(backend)`, then `with_config`, `with_key_factory`,
/// `with_key_prefix`, `with_concurrency`.
pub type RedisStorage = session_core::server_side::ServerSideStorage<RedisBackend>;

/// The README's examples, compiled as doc tests so they cannot rot.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
