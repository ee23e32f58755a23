//! One function per rule of the storage contract. The [`conformance_suite!`](crate::conformance_suite)
//! macro turns each rule of a storage's kind into a named test; [`of`] lists them for code that runs
//! them itself (the zoo of broken backends does).
//!
//! Every rule builds its storages through the [`Suite`] with a [`ManualClock`] standing at [`T`], so
//! no rule sleeps, except the one where the store's own expiry is under test.
//!
//! | group | file | rules |
//! |---|---|---|
//! | the session model | `session.rs` | new, round trips, unchanged sessions not saved, `created`, `{}`, invalidate, identity, reset, cycle_id, isolation |
//! | what a client sends | `cookie.rs` | tampered, truncated, garbage and empty cookies; attributes; the size guard; the codec |
//! | expiry | `expiry.rs` | `max_age` from the last write, idle timeout refreshed by reads, absolute timeout |
//! | the store | `store.rs` | logged-out and replaced entries gone, two tabs logging out at once, entries expire (never served, purged within the suite's bound) (with and without `max_age`, with what is left of the absolute timeout), an ended session gets a new id, rotations, a new id never takes over another session, large payloads, every id character |
//! | races | `races.rs` | a logout, `cycle_id`, `reset` or log-out-everywhere racing 32 writers never comes back (both concurrency modes) |
//! | accounts | `accounts.rs` | login, remember-me, a browser-session cookie, the two-week default lifetime; log-out-everywhere without clocks and for any user id; a user's devices listed and ended |
//! | concurrency | `concurrency.rs` | concurrent writers on one session keep their writes, a Python peer's logout wins (merging stores) |

mod accounts;
mod concurrency;
mod cookie;
mod expiry;
mod races;
mod session;
mod store;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::Poll;

pub use accounts::*;
pub use concurrency::*;
pub use cookie::*;
pub use expiry::*;
pub use races::*;
pub use session::*;
pub use store::*;

use session_core::{AbstractStorage, ManualClock, SessionState, StorageConfig};

use crate::client::TestClient;
use crate::suite::{Kind, Rule, Suite};

/// The time every rule starts at (the reference vectors' 2023-11-14T22:13:20Z).
pub const T: i64 = 1_700_000_000;

/// The rules of `kind`, by name, in the order the suite macro writes them.
pub fn of(kind: Kind) -> Vec<(&'static str, Rule)> {
    match kind {
        Kind::PlainCookie => crate::__rules_of!(plain_cookie => __rule_list {}),
        Kind::SealedCookie => crate::__rules_of!(sealed_cookie => __rule_list {}),
        Kind::ServerSide => crate::__rules_of!(server_side => __rule_list {}),
        Kind::MergingServerSide => crate::__rules_of!(merging_server_side => __rule_list {}),
        Kind::RevocableCookie => crate::__rules_of!(revocable_cookie => __rule_list {}),
        Kind::Devices => crate::__rules_of!(devices => __rule_list {}),
    }
}

/// Runs every rule of `kind`, `parallel` at a time, each on its own thread and runtime with a suite
/// from `suite`, and answers the names of those that failed (their panic messages are printed as
/// they fail). For stores whose servers are too slow to start once per test (a SQL database): one
/// test starts the server and runs every rule against it.
///
/// ```no_run
/// use session_core::server_side::ServerSideStorage;
/// use session_testkit::zoo::MemoryStore;
/// use session_testkit::{Kind, Suite, rules};
///
/// // Your store here; the zoo's in-memory one stands in for it.
/// let store = MemoryStore::new();
/// let suite = move || {
///     let (made, probed) = (store.clone(), store.clone());
///     Suite::new(move |config| {
///         let store = made.clone();
///         async move { ServerSideStorage::new(store).with_config(config) }
///     })
///     .probe(move |key: String| {
///         let entry = probed.entry(&key);
///         async move { entry }
///     })
/// };
/// let failed = rules::failing(Kind::MergingServerSide, 8, suite);
/// assert!(failed.is_empty(), "failed: {failed:?}");
/// ```
pub fn failing(kind: Kind, parallel: usize, suite: impl Fn() -> Suite + Send + Sync + 'static) -> Vec<&'static str> {
    let suite = Arc::new(suite);
    let mut failed = Vec::new();
    let all = of(kind);
    for wave in all.chunks(parallel.max(1)) {
        let running: Vec<_> = wave
            .iter()
            .map(|&(name, rule)| {
                let suite = Arc::clone(&suite);
                (name, std::thread::spawn(move || crate::suite::block_on(async move { rule(&suite()).await })))
            })
            .collect();
        failed.extend(running.into_iter().filter_map(|(name, thread)| thread.join().is_err().then_some(name)));
    }
    failed
}

async fn storage_at(suite: &Suite, clock: &ManualClock, config: StorageConfig) -> Arc<dyn AbstractStorage> {
    suite.storage(config.with_clock(clock.clock())).await
}

async fn default_storage(suite: &Suite, clock: &ManualClock) -> Arc<dyn AbstractStorage> {
    storage_at(suite, clock, StorageConfig::default()).await
}

#[track_caller]
fn assert_fresh(session: &SessionState, what: &str) {
    assert!(session.is_new(), "{what}: the session must be new");
    assert!(session.is_empty(), "{what}: the session must be empty, has keys {:?}", session.keys().collect::<Vec<_>>());
    assert_eq!(session.identity(), None, "{what}: a fresh session has no identity");
}

/// A client whose session holds `user = "alice"`.
async fn logged_in(storage: Arc<dyn AbstractStorage>) -> TestClient {
    let mut client = TestClient::new(storage);
    let saved = client.request(|s| s.insert("user", "alice")).await.expect("save");
    saved.output.expect("insert");
    assert!(saved.set_cookie.is_some(), "a changed session sends a cookie");
    client
}

/// The store key of the session `client` holds: `<cookie_name>_<id>` (the suite's storages use no key
/// prefix).
fn key_of(client: &TestClient) -> String {
    let name = client.storage().config().cookie().name();
    let id = client.cookie().expect("a session cookie");
    format!("{name}_{}", session_core::cookie::unquote(id))
}

/// The user of a loaded session, as a string.
fn user(session: &SessionState) -> Option<String> {
    session.get::<String>("user").expect("a string")
}

/// Runs the futures concurrently on this task and answers their outputs in order. The rules' futures
/// borrow the suite, so they are polled here rather than spawned.
async fn join_all<F: Future>(futures: impl IntoIterator<Item = F>) -> Vec<F::Output> {
    let mut running: Vec<Pin<Box<F>>> = futures.into_iter().map(Box::pin).collect();
    let mut outputs: Vec<Option<F::Output>> = running.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (future, output) in running.iter_mut().zip(outputs.iter_mut()) {
            if output.is_none() {
                match future.as_mut().poll(cx) {
                    Poll::Ready(value) => *output = Some(value),
                    Poll::Pending => pending = true,
                }
            }
        }
        if pending { Poll::Pending } else { Poll::Ready(()) }
    })
    .await;
    outputs.into_iter().flatten().collect()
}
