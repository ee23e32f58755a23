//! What the example apps share: choosing a storage from command-line flags, and serving an axum or
//! actix-web app until Ctrl-C. Each app is a module with its router (or, for actix-web, its
//! `App::configure` function); its binary parses flags and serves it.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

#[cfg(feature = "axum")]
pub mod accounts;
mod app_main;
#[cfg(feature = "axum")]
pub mod cart;
pub mod last_visit;
#[cfg(feature = "actix")]
pub mod last_visit_actix;
#[cfg(all(feature = "axum", feature = "cookie", feature = "redis"))]
pub mod mixed;
mod server;
mod storage_args;

#[cfg(feature = "axum")]
pub use app_main::run;
#[cfg(feature = "actix")]
pub use app_main::run_actix;
pub use app_main::{Listen, Prepared, fail, prepare};
#[cfg(feature = "axum")]
pub use server::serve;
#[cfg(feature = "actix")]
pub use server::serve_actix;
pub use server::{bind, check_store, describe, init_logging, resolve};
#[cfg(feature = "redis")]
pub use storage_args::redis;
pub use storage_args::{
    ConcurrencyFlag, Configured, SetupError, StorageArgs, StorageKind, secret_key, without_password,
};

/// The repository README's examples (axum and actix-web), compiled as doc tests so they cannot rot.
#[cfg(all(doctest, feature = "axum", feature = "actix", feature = "cookie", feature = "redis", feature = "nacl"))]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;
