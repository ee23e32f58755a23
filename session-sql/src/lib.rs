//! `SqlStorage`: sessions in a SQL table, on Postgres, MySQL/MariaDB or SQLite through
//! [sqlx](https://docs.rs/sqlx). The rules are those of every server-side storage of session-core
//! (the cookie holds a 128-bit random id, the row holds the same JSON payload Redis and memcached
//! hold); what SQL adds is a `version` column, so concurrent requests on one session merge their
//! writes as on Redis ([`Concurrency::Merge`], the default), and an index of each user's sessions,
//! so log-out-everywhere and a user's devices work as on Redis.
//!
//! aiohttp-session has no SQL storage, so no Python peer shares these rows.
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use std::time::Duration;
//! use session_sql::{SqlBackend, SqlStorage};
//!
//! let backend = SqlBackend::connect_lazy("postgres://app:secret@127.0.0.1/app")?;
//! backend.migrate().await?; // CREATE TABLE IF NOT EXISTS sessions …
//! let backend = backend.spawn_reaper(Duration::from_secs(60), 1000);
//! let storage = SqlStorage::new(backend);
//! # let _ = storage; Ok(()) }
//! ```
//!
//! - Each load is one `SELECT`, each save one `INSERT` (a new id: never over a live row) or `UPDATE`
//!   (a loaded session: never bringing back a row a logout removed), merging saves an
//!   `UPDATE … WHERE version = $n`, each logout one `DELETE`.
//! - Expiry is the database's: `expires_at` is written as "the database's clock + TTL" and every load
//!   compares it with that clock, so app hosts whose clocks disagree agree on what has expired (SQLite,
//!   inside the app, has the host's clock). A load never serves an expired row; the reaper
//!   ([`SqlBackend::spawn_reaper`]) deletes them a bounded chunk of keys at a time.
//! - Failures are [`session_core::Error::Backend`] with a [`SqlStorageError`] source; one deadline
//!   bounds all the database does for a request ([`SqlBackend::with_timeout`]).
//!
//! # The tables
//!
//! [`SqlBackend::migrate`] creates them (`sessions` unless [`SqlBackend::with_table`] names another,
//! schema-qualified on Postgres). For teams that run their own migrations, on Postgres:
//!
//! ```sql
//! CREATE TABLE sessions (id VARCHAR(255) PRIMARY KEY, payload BYTEA NOT NULL,
//!                        version BIGINT NOT NULL, expires_at TIMESTAMPTZ);
//! CREATE TABLE sessions_index (index_key VARCHAR(255) NOT NULL, member VARCHAR(255) NOT NULL,
//!                              expires_at TIMESTAMPTZ, PRIMARY KEY (index_key, member));
//! ```
//!
//! `expires_at` has no index, on purpose: every save moves it, and on Postgres an update of an indexed
//! column is never a HOT update (it adds an entry to every index of the table: about 0.8× the
//! throughput of a load and a save). The reaper walks the primary key instead.
//!
//! On MySQL/MariaDB `payload` is `LONGBLOB`, `expires_at` `DATETIME(6)` (UTC), both tables
//! `CHARACTER SET ascii COLLATE ascii_bin`; on SQLite `payload` is `BLOB` and `expires_at` an
//! `INTEGER` of Unix milliseconds.
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

#[cfg(not(any(feature = "postgres", feature = "mysql", feature = "sqlite")))]
compile_error!("session-sql needs at least one of its features `postgres`, `mysql`, `sqlite`");

mod backend;
mod dialect;
mod error;
mod pool;
mod reaper;

pub use backend::{DEFAULT_TIMEOUT, SqlBackend};
pub use dialect::{InvalidTableName, TableName};
pub use error::SqlStorageError;
/// What building the storage takes besides the backend: the settings every storage has, and how
/// concurrent saves combine.
pub use session_core::{Concurrency, StorageConfig};

/// Sessions in a SQL table: [`ServerSideStorage`](session_core::server_side::ServerSideStorage) over
/// a [`SqlBackend`].
///
/// Build it with `SqlStorage::new(backend)`, then `with_config`, `with_key_prefix`,
/// `with_concurrency`.
pub type SqlStorage = session_core::server_side::ServerSideStorage<SqlBackend>;

/// The README's examples, compiled as doc tests so they cannot rot.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
