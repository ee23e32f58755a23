//! What only this repository's own tests and benchmarks use (not published): the reference vectors of
//! the real aiohttp-session, the criterion workloads every storage runs, forged-cookie checks and log
//! capture, the reference app of the HTTP suite on axum. Third-party storages need `session-testkit`,
//! not this.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod actix_app;
pub mod axum_app;
pub mod bench;
pub mod forgery;
pub mod logs;
pub mod vectors;
