//! What the session layer counts, through the [`metrics`](https://docs.rs/metrics) facade, with the
//! `metrics` feature: the app installs any exporter (Prometheus, StatsD, ...) and these appear in it.
//! Without the feature the calls compile to nothing. No label ever holds an id, a value or a user.
//!
//! | name | kind | labels | counts |
//! |---|---|---|---|
//! | `session_loads_total` | counter | `outcome`: `loaded`, `new`, `error` | sessions a request loaded (`new`: no valid cookie or entry) |
//! | `session_saves_total` | counter | `outcome`: `set`, `removed`, `kept`, `error` | saves at the end of a request (`kept`: removed meanwhile, nothing written) |
//! | `session_store_seconds` | histogram | `op`: `load`, `save` | time the storage took for one load or save, store round trips included |
//! | `session_conflicts_total` | counter | | compare-and-set writes that found the entry changed by another request |
//! | `session_retries_total` | counter | | merges tried again after a conflict (reload, fold, write) |
//! | `session_timeouts_total` | counter | | requests whose store work outlived its deadline (`Error::Timeout`) |
//! | `session_store_errors_total` | counter | | loads and saves that failed in the store (`Error::Backend`) |
//! | `session_refreshes_total` | counter | | reads that renewed an idle session's expiry (each is a save) |
//! | `session_logouts_total` | counter | `scope`: `session`, `everywhere` | sessions ended by `invalidate` (saved as a removal), users logged out everywhere |
//!
//! The app installs its exporter's recorder once, at start (`metrics::set_global_recorder`, or the
//! exporter's own `install`); before that, and without one, the counts go nowhere.

use std::time::Duration;

use crate::error::Error;

/// One request's load: its outcome and the storage's time.
pub(crate) fn loaded(outcome: &'static str, took: Option<Duration>) {
    emit::counter("session_loads_total", &[("outcome", outcome)]);
    emit::histogram("session_store_seconds", "load", took);
}

/// One request's save: its outcome and the storage's time.
pub(crate) fn saved(outcome: &'static str, took: Option<Duration>) {
    emit::counter("session_saves_total", &[("outcome", outcome)]);
    emit::histogram("session_store_seconds", "save", took);
    if outcome == "removed" {
        emit::counter("session_logouts_total", &[("scope", "session")]);
    }
}

/// A failed load or save, counted by what failed.
pub(crate) fn failed(error: &Error) {
    match error {
        Error::Timeout { .. } => emit::counter("session_timeouts_total", &[]),
        Error::Backend(_) => emit::counter("session_store_errors_total", &[]),
        _ => {}
    }
}

/// A compare-and-set that found the entry changed.
pub(crate) fn conflict() {
    emit::counter("session_conflicts_total", &[]);
}

/// A merge tried again after a conflict.
pub(crate) fn retry() {
    emit::counter("session_retries_total", &[]);
}

/// A read that renewed an idle session.
pub(crate) fn refreshed() {
    emit::counter("session_refreshes_total", &[]);
}

/// A user logged out everywhere.
pub(crate) fn logged_out_everywhere() {
    emit::counter("session_logouts_total", &[("scope", "everywhere")]);
}

#[cfg(feature = "metrics")]
mod emit {
    use std::time::Duration;

    pub(super) fn counter(name: &'static str, labels: &[(&'static str, &'static str)]) {
        match labels {
            [] => metrics::counter!(name).increment(1),
            [(key, value), ..] => metrics::counter!(name, *key => *value).increment(1),
        }
    }

    pub(super) fn histogram(name: &'static str, op: &'static str, took: Option<Duration>) {
        if let Some(took) = took {
            metrics::histogram!(name, "op" => op).record(took.as_secs_f64());
        }
    }
}

#[cfg(not(feature = "metrics"))]
mod emit {
    use std::time::Duration;

    pub(super) fn counter(_: &'static str, _: &[(&'static str, &'static str)]) {}

    pub(super) fn histogram(_: &'static str, _: &'static str, _: Option<Duration>) {}
}
