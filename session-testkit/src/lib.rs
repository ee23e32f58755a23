//! The one conformance suite every `session-core` storage runs (ours and anyone's), and the pieces to
//! write more tests like it.
//!
//! # Running the suite for your storage
//!
//! Add the test kit as a dev-dependency and call the macro from an integration test with a closure
//! that builds your storage from a [`StorageConfig`](session_core::StorageConfig) (cookie settings,
//! codec and clock chosen by each rule). It expands to a module `conformance` with one `#[test]` per
//! rule, named after the rule, so `cargo test conformance::idle_expiry_follows_max_age` runs one and a
//! failure says which promise broke.
//!
//! ```
//! // tests/conformance.rs of a crate with a storage:
//! # use session_core::{AbstractStorage, CookieAction, Error, Session, StorageConfig};
//! # struct MyStorage(StorageConfig);
//! # #[async_trait::async_trait]
//! # impl AbstractStorage for MyStorage {
//! #     fn config(&self) -> &StorageConfig { &self.0 }
//! #     async fn load_session(&self, c: Option<&str>) -> Result<Session, Error> {
//! #         Ok(c.map_or_else(|| self.new_session(), |t| self.0.open("mine", None, t)))
//! #     }
//! #     async fn save_session(&self, s: &mut Session) -> Result<CookieAction, Error> {
//! #         Ok(CookieAction::Set(self.0.encode(s)?))
//! #     }
//! # }
//! session_testkit::conformance_suite! {
//!     make = |config| async move { MyStorage(config) },
//!     tamper_evident = false, // this one is plain JSON: a client can edit it
//! }
//! ```
//!
//! Storages with a backend keep the backend alive in the closure; the storages one test builds must
//! share it:
//!
//! ```text
//! session_testkit::conformance_suite! {
//!     make = {
//!         let server = MyServer::start().await;
//!         move |config| {
//!             let address = server.address();
//!             async move { MyStorage::connect(address).with_config(config) }
//!         }
//!     },
//! }
//! ```
//!
//! The rules ([`rules`]) cover design §2–§5 of the project: a new session without a cookie; every JSON
//! type round-trips; no write and no cookie when nothing changed; `created` reset on writes but not on
//! `changed()`; idle expiry at `max_age` (checked with a [`ManualClock`](session_core::ManualClock), no
//! sleeping); `{}` loads as new without identity; `invalidate`; `set_new_identity` only when new;
//! tampered, truncated, garbage and empty cookies give a fresh session; cookie attributes follow the
//! `CookieConfig`; the 4096-byte cookie guard; the codec is used on both sides; sessions are isolated.
//!
//! # Real servers
//!
//! [`RedisServer`], [`RedisCluster`] and [`MemcachedServer`] start `redis-server` and `memcached`
//! processes on free 127.0.0.1 ports, wait until they answer, and kill them on drop; a missing binary
//! is an error that names the Debian package to install. Tests never use a fixed port or another host.
//!
//! # Other helpers
//!
//! - [`TestClient`]: a browser with a cookie jar that runs requests through a storage exactly as the
//!   middleware does, for your own tests.
//! - `Browser` (feature `http`): a real HTTP client with a cookie jar, for tests through the
//!   middleware of a real server; `scenarios` (feature `http`): whole-app checks such as an app that
//!   survives a store restart.
//! - [`ReversedJsonCodec`] and [`ForgedPayloadCodec`]: a codec that counts its use, and one that stores
//!   any payload you choose through a storage's real write path.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

#[cfg(feature = "bench")]
pub mod bench;
#[cfg(feature = "http")]
mod browser;
mod client;
mod codecs;
pub mod forgery;
#[cfg(feature = "http")]
pub mod logs;
mod memcached_server;
mod process;
mod redis_server;
pub mod rules;
#[cfg(feature = "http")]
pub mod scenarios;
pub mod strategies;
mod suite;
pub mod vectors;

#[cfg(feature = "http")]
pub use browser::{Browser, Reply};
pub use client::{Exchange, TestClient};
pub use codecs::{ForgedPayloadCodec, ReversedJsonCodec};
pub use memcached_server::MemcachedServer;
pub use redis_server::{RedisCluster, RedisServer};
pub use suite::{MakeStorage, block_on};

#[doc(hidden)]
pub mod __private {
    pub use crate::suite::storage_factory;
}
