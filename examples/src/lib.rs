//! What the example apps share: choosing a storage from command-line flags, and serving an axum or
//! actix-web app until Ctrl-C. Each app is a module with its router (or, for actix-web, its
//! `App::configure` function); its binary parses flags and serves it.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod app_main;
pub mod cart;
pub mod last_visit;
pub mod last_visit_actix;
pub mod mixed;
mod server;
mod storage_args;

pub use app_main::{Listen, Prepared, fail, prepare, run, run_actix};
pub use server::{bind, check_store, describe, init_logging, resolve, serve, serve_actix};
pub use storage_args::{ConcurrencyFlag, Configured, SetupError, StorageArgs, StorageKind, redis, secret_key};

/// The repository README's examples (axum and actix-web), compiled as doc tests so they cannot rot.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;
