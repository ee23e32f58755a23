//! The conformance suites every `session-core` storage and middleware adapter runs (ours and anyone's),
//! the zoo of broken stores that proves the storage suite catches each kind of bug, and real
//! `redis-server` and `memcached` processes for tests.
//!
//! # Proving a storage right
//!
//! 1. **Implement** the storage: for a key-value store, [`KeyValueBackend`] (and [`CompareAndSet`]
//!    if the store can write conditionally) under a `ServerSideStorage`; for a cookie cipher,
//!    `session_core::sealed::CookieCipher` under a `SealedCookieStorage`; anything else,
//!    `AbstractStorage` itself.
//! 2. **Run the suite** from an integration test of your crate, with a closure that builds your storage
//!    from the [`StorageConfig`](session_core::StorageConfig) each rule chooses and, for a server-side
//!    store, a probe that looks into the store without your code (the test-only hook through which
//!    the suite sees a leaked or immortal entry):
//!
//!    ```
//!    use session_core::server_side::ServerSideStorage;
//!    use session_testkit::Suite;
//!    use session_testkit::zoo::MemoryStore; // your store here
//!
//!    session_testkit::conformance_suite!(memory, merging_server_side, async {
//!        let store = MemoryStore::new();
//!        let probe = store.clone();
//!        Suite::new(move |config| {
//!            let store = store.clone();
//!            async move { ServerSideStorage::new(store).with_config(config) }
//!        })
//!        .probe(move |key: String| {
//!            let entry = probe.entry(&key);
//!            async move { entry }
//!        })
//!    });
//!    # fn main() {}
//!    ```
//!
//!    The macro writes a module with one `#[test]` per rule of the kind (`plain_cookie`,
//!    `sealed_cookie`, `server_side`, `merging_server_side`), named after the rule, so a failure says
//!    which promise broke and `cargo test memory::` runs them all. Call it several times in one file
//!    with different names: a store with compare-and-set runs `merging_server_side` with its default
//!    storage and `server_side` with `Concurrency::LastWriterWins`.
//! 3. **Read the rules** ([`rules`]) when one fails: each says what a user (or the store) would see.
//!
//! | kind | rules |
//! |---|---|
//! | every storage | a new session without a cookie; every JSON type and arbitrary generated JSON round-trips; unchanged sessions are not saved; `created` on writes and `changed()`; `{}` is new without identity; invalidate; `set_new_identity`; `new_session` and `cycle_id`; truncated, garbage and empty cookies; cookie attributes; the 4096-byte guard; the codec on both sides; isolation of 2, 100 and 20 concurrent sessions; `max_age`, idle and absolute timeouts, refresh at most once per interval |
//! | sealed and server-side | a tampered cookie is a fresh session |
//! | server-side (both concurrency modes) | a logged-out id finds nothing and its entry is gone; an expired entry leaves the store (real time); entries expire without `max_age` and with what is left of the absolute timeout; an ended session gets a new id; `reset`, `cycle_id` and several rotations in one request delete the old entry; a new id never takes over a stored session; a logout, `cycle_id`, `reset` or log-out-everywhere racing 32 writers never comes back; 64 KiB payloads; ids of every character; log-out-everywhere |
//! | merging server-side | concurrent writers on different keys, on one key, against a logout, against a Python peer's logout, and 24 at once keep their writes (each writer on its own storage, as separate processes) |
//!
//! # The zoo
//!
//! [`zoo::MemoryStore`] is a correct in-memory store; [`zoo::Broken`] is that store with one
//! [`zoo::Bug`] (never deletes, never expires, ignores compare-and-set, truncates, one slot for every
//! key, an update that recreates a removed entry, a create that overwrites, …). This crate's `tests/zoo.rs` runs the suite against each and fails if any broken store
//! passes.
//!
//! # Proving a middleware adapter right (feature `http`)
//!
//! Implement [`http_suite::HttpAdapter`]: serve the reference app described in [`mod@http_suite`] with your
//! middleware, then `session_testkit::http_suite!(my_adapter, MyAdapter)`. The rules: save only below
//! 500, no `Set-Cookie` for an unchanged session, a removal cookie on logout, `reset` and
//! `cycle_id` delete the old entry, a store outage gives the app's error response then recovers, two
//! storages keep their cookies apart, one cookie name on two layers is an error, errors returned with
//! `?` are the app's error response, concurrent requests keep their writes, flash messages show once
//! after a redirect and survive parallel requests, unsafe requests need the session's CSRF token.
//!
//! # Real servers
//!
//! [`RedisServer`], [`RedisCluster`] and [`MemcachedServer`] start `redis-server` and `memcached`
//! processes on free 127.0.0.1 ports, wait until they answer, and kill them on drop; a missing binary
//! is an error that names the Debian package to install. Their `entry` methods are ready-made probes.
//! Tests never use a fixed port or another host.
//!
//! # Other helpers
//!
//! - [`TestClient`]: a browser with a cookie jar that runs requests through the middleware's own
//!   per-request path, for your own tests.
//! - [`Chromium`] (feature `http`): a real headless Chromium on a [`BrowserProfile`], driven through
//!   chromedriver, for end-to-end tests of pages and forms; relaunched on the same profile, it keeps
//!   its cookies as a user's browser does.
//! - [`ReversedJsonCodec`] and [`ForgedPayloadCodec`]: a codec that counts its use, and one that stores
//!   any payload you choose through a storage's real write path.
//!
//! [`KeyValueBackend`]: session_core::server_side::KeyValueBackend
//! [`CompareAndSet`]: session_core::server_side::CompareAndSet
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

#[cfg(feature = "http")]
mod browser;
#[cfg(feature = "tls")]
mod certificates;
#[cfg(feature = "http")]
mod chromium;
mod client;
mod codecs;
#[cfg(feature = "http")]
#[cfg_attr(docsrs, doc(cfg(feature = "http")))]
pub mod http_suite;
mod macros;
mod memcached_server;
mod process;
mod redis_server;
pub mod rules;
#[cfg(feature = "http")]
#[cfg_attr(docsrs, doc(cfg(feature = "http")))]
pub mod scenarios;
mod sql_servers;
pub mod strategies;
mod suite;
pub mod zoo;

#[cfg(feature = "http")]
#[cfg_attr(docsrs, doc(cfg(feature = "http")))]
pub use browser::{Browser, Reply};
#[cfg(feature = "http")]
#[cfg_attr(docsrs, doc(cfg(feature = "http")))]
pub use chromium::{BrowserProfile, Chromium};
pub use client::{Exchange, OpenRequest, TestClient};
pub use codecs::{ForgedPayloadCodec, ReversedJsonCodec};
pub use memcached_server::MemcachedServer;
pub use redis_server::{RedisCluster, RedisServer};
pub use sql_servers::{MariaDbServer, PostgresServer};
pub use suite::{BoxFuture, Entry, Kind, MakeDevices, MakeStorage, Rule, StoreProbe, Suite, block_on};

#[doc(hidden)]
pub mod __private {
    pub use tokio;
}

/// The README's examples, compiled as doc tests so they cannot rot.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
