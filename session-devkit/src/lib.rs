//! What only this repository's own tests and benchmarks use (not published): the reference vectors of
//! the real aiohttp-session, forged-cookie checks and log capture; with features, the reference app of
//! the HTTP suite on axum (`axum`) and on actix-web (`actix`), and the criterion workloads every storage
//! runs (`bench`). Third-party storages need `session-testkit`, not this.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

#[cfg(feature = "actix")]
pub mod actix_app;
#[cfg(feature = "axum")]
pub mod axum_app;
#[cfg(feature = "bench")]
pub mod bench;
pub mod forgery;
pub mod logs;
pub mod vectors;
