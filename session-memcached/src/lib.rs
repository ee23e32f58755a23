//! `MemcachedStorage`: sessions in memcached (one server or many), wire-compatible with
//! aiohttp-session's `MemcachedStorage`. A Python service on the same memcached reads our sessions and we
//! read its.
//!
//! The cookie holds the session id (32 lowercase hex characters, 128 bits from the OS CSPRNG); memcached
//! holds the JSON payload under `<cookie_name>_<id>` with client flags 0, as aiomcache writes it. Expiry
//! follows aiohttp-session: none without `max_age`, `max_age` seconds up to 30 days, and beyond that the
//! absolute time now + `max_age` (memcached reads any exptime above 30 days as a Unix time). One `get`
//! to load, one `set` to save; `invalidate()`, `reset` and `cycle_id` delete the old key.
//!
//! - A cookie that cannot form a valid memcached key (over 250 bytes, white space, control characters)
//!   is a fresh session, without a network call; aiohttp-session answers 500 there.
//! - A stored value that does not decode is a fresh session with a new id.
//! - Failures are [`session_core::Error::Backend`] with a [`MemcachedStorageError`] source, and one
//!   deadline bounds all memcached does for a request ([`MemcachedBackend::with_timeout`]; past it,
//!   [`session_core::Error::Timeout`]); the middleware turns them into a 500, and the next request after
//!   memcached is back succeeds.
//! - Writes say what they expect: a new id is an `add` (never over another session), a loaded
//!   session's last-writer-wins update a `replace` (never bringing back one that was removed meanwhile).
//! - Every entry expires: when its session ends by the expiry policy, two weeks after its last write
//!   without a limit ([`DEFAULT_LIFETIME`](session_core::expiry::DEFAULT_LIFETIME)), as long as a
//!   remembered session is kept ([`remember_for`](session_core::SessionState::remember_for)).
//! - Concurrent requests on one session keep each other's writes: loads carry memcached's CAS token
//!   (`mg … c`), saves are `ms … C<cas>` (an `add` for a new id), and on a conflict the save reloads
//!   and re-applies only its own changes ([`Concurrency::Merge`],
//!   the default). Still one round trip per load and per save without a conflict.
//!
//! # The client
//!
//! This crate uses the `memcache` crate's async meta-protocol client (`memcache::exp`, feature `tokio`)
//! rather than its blocking client: it never blocks the executor, pools connections per server without
//! a health-check round trip, bounds every exchange, and routes keys over several servers by rendezvous
//! hashing. Exchanges that overlap in time are sent together, pipelined on one connection per server,
//! as Redis's multiplexed connection does (src/pipeline.rs says why). Measured against the blocking
//! client behind `spawn_blocking`
//! (`cargo bench -p session-memcached --bench client_choice`), it does more operations per second at
//! lower latency (the figures are in BENCHMARKS.md). The crate's default `tls` (OpenSSL) feature is
//! off.
//!
//! ```no_run
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! use std::time::Duration;
//! use session_memcached::{MemcachedBackend, MemcachedStorage, StorageConfig};
//!
//! let backend = MemcachedBackend::connect(["10.0.0.1:11211", "10.0.0.2:11211", "10.0.0.3:11211"])
//!     .await?
//!     .with_timeout(Duration::from_millis(500));
//! let storage = MemcachedStorage::new(backend)
//!     .with_config(StorageConfig::new().with_idle_timeout(Duration::from_secs(3600)));
//! # Ok::<(), session_memcached::MemcachedStorageError>(())
//! # }).unwrap();
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod backend;
mod error;
mod pipeline;

pub use backend::{DEFAULT_TIMEOUT, MemcachedBackend};
pub use error::{ClientError, ClientErrorKind, MemcachedStorageError};
/// What building the storage takes besides the backend: the settings every storage has, and how
/// concurrent saves combine.
pub use session_core::{Concurrency, StorageConfig};

/// Sessions in memcached: [`ServerSideStorage`](session_core::server_side::ServerSideStorage) over a
/// [`MemcachedBackend`].
///
/// Build it with `MemcachedStorage::new(backend)`, then `with_config`, `with_key_factory`,
/// `with_key_prefix`, `with_concurrency`.
pub type MemcachedStorage = session_core::server_side::ServerSideStorage<MemcachedBackend>;

/// The README's examples, compiled as doc tests so they cannot rot.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
