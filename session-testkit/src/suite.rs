//! The conformance suite: a macro that writes one test per rule for a storage.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use session_core::{AbstractStorage, StorageConfig};

/// Builds a storage of the kind under test from the configuration a rule chooses (cookie settings,
/// codec, a manual clock). Every rule calls it once or more; storages it builds in one test must share
/// their backend (one Redis, one memcached), as two instances of one app would.
///
/// Any `Fn(StorageConfig) -> impl Future<Output = impl AbstractStorage>` is a `MakeStorage`.
pub trait MakeStorage: Send + Sync {
    /// A storage configured with `config`.
    fn make(&self, config: StorageConfig) -> Pin<Box<dyn Future<Output = Arc<dyn AbstractStorage>> + Send + '_>>;
}

impl<F, Fut, S> MakeStorage for F
where
    F: Fn(StorageConfig) -> Fut + Send + Sync,
    Fut: Future<Output = S> + Send + 'static,
    S: AbstractStorage + 'static,
{
    fn make(&self, config: StorageConfig) -> Pin<Box<dyn Future<Output = Arc<dyn AbstractStorage>> + Send + '_>> {
        let storage = self(config);
        Box::pin(async move { Arc::new(storage.await) as Arc<dyn AbstractStorage> })
    }
}

/// Pins a closure's argument type to [`StorageConfig`] so `|config| async move { ... }` needs no
/// annotation in the macro.
#[doc(hidden)]
pub fn storage_factory<F, Fut, S>(make: F) -> F
where
    F: Fn(StorageConfig) -> Fut,
    Fut: Future<Output = S>,
{
    make
}

/// Runs `future` to completion on a fresh current-thread tokio runtime with I/O and timers, which is
/// what `#[tokio::test]` does; the suite uses it so the calling crate need not name tokio.
pub fn block_on<F: Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime for the test")
        .block_on(future)
}

/// Writes the whole conformance suite for one storage: a module `conformance` with one `#[test]` per
/// rule of [`rules`](crate::rules), each on its own tokio runtime, so a failure names the rule.
///
/// `make` is evaluated inside each test (it may `.await`) and must give a [`MakeStorage`]: usually a
/// closure from a `StorageConfig` to a future of the storage. Keep what the storage needs alive in
/// it, such as a test server.
///
/// `tamper_evident = false` leaves out the rule that a changed cookie gives a fresh session, for
/// storages whose cookie is not signed (`SimpleCookieStorage`). `merges_concurrent_writes = true` adds
/// the rules of storages that merge concurrent saves (compare-and-set): writes to different keys both
/// survive, the later write to one key wins, an invalidation wins over a late write.
///
/// ```text
/// session_testkit::conformance_suite! {
///     make = |config| async move { EncryptedCookieStorage::new(KEY).unwrap().with_config(config) },
/// }
///
/// session_testkit::conformance_suite! {
///     make = {
///         let server = session_testkit::RedisServer::start().await;
///         move |config| {
///             let url = server.url();
///             async move { RedisStorage::from_url(&url).unwrap().with_config(config) }
///         }
///     },
/// }
/// ```
#[macro_export]
macro_rules! conformance_suite {
    (make = $make:expr $(,)?) => {
        $crate::conformance_suite!(make = $make, tamper_evident = true, merges_concurrent_writes = false);
    };
    (make = $make:expr, tamper_evident = $tamper:tt $(,)?) => {
        $crate::conformance_suite!(make = $make, tamper_evident = $tamper, merges_concurrent_writes = false);
    };
    (make = $make:expr, merges_concurrent_writes = $merges:tt $(,)?) => {
        $crate::conformance_suite!(make = $make, tamper_evident = true, merges_concurrent_writes = $merges);
    };
    (make = $make:expr, tamper_evident = $tamper:tt, merges_concurrent_writes = $merges:tt $(,)?) => {
        mod conformance {
            #[allow(unused_imports)]
            use super::*;
            $crate::__rule_tests!($make;
                new_session_without_cookie,
                round_trip_of_typed_values,
                arbitrary_values_round_trip,
                unchanged_session_is_not_saved,
                write_resets_created_but_changed_does_not,
                idle_expiry_follows_max_age,
                empty_payload_loads_as_new_without_identity,
                invalidate_empties_the_session,
                set_new_identity_only_when_new,
                truncated_cookie_gives_fresh_session,
                garbage_cookie_gives_fresh_session,
                empty_cookie_gives_fresh_session,
                cookie_attributes_follow_config,
                cookie_size_is_guarded,
                custom_codec_reads_and_writes,
                sessions_are_isolated,
            );
            $crate::__optional_rules!($make; tamper_evident = $tamper);
            $crate::__optional_rules!($make; merges_concurrent_writes = $merges);
        }
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __optional_rules {
    ($make:expr; tamper_evident = true) => {
        $crate::__rule_tests!($make; tampered_cookie_gives_fresh_session);
    };
    ($make:expr; merges_concurrent_writes = true) => {
        $crate::__rule_tests!($make;
            concurrent_writes_to_different_keys_both_survive,
            concurrent_writes_to_one_key_keep_the_later,
            invalidate_wins_over_a_concurrent_write,
        );
    };
    ($make:expr; $flag:ident = false) => {};
}

#[doc(hidden)]
#[macro_export]
macro_rules! __rule_tests {
    ($make:expr; $($rule:ident),+ $(,)?) => {
        $(
            #[test]
            fn $rule() {
                $crate::block_on(async {
                    let make = $crate::__private::storage_factory($make);
                    $crate::rules::$rule(&make).await;
                });
            }
        )+
    };
}
