//! The macro that writes the storage conformance suite, and the one list of the rules of each kind
//! that both the macro and [`rules::of`](crate::rules::of) read.

/// Writes the conformance suite for one storage: a module `$name` with one `#[test]` per rule of its
/// kind ([`rules`](crate::rules)), each on its own tokio runtime, so `cargo test $name::` runs them and
/// a failure names the rule. Call it as often as you like in one file, with different names (a storage
/// with both concurrency modes runs both kinds).
///
/// The kind is one of `plain_cookie`, `sealed_cookie`, `revocable_cookie` (a sealed cookie given a store
/// for log-out-everywhere), `server_side`, `merging_server_side` and `devices` (the rules of a storage
/// that lists a user's devices, alone: its suite is made with `Suite::with_devices`); the last
/// expression is evaluated inside each test (it may `.await`, to start a server) and gives the
/// [`Suite`](crate::Suite).
///
/// ```
/// # use session_core::storage::{AbstractStorage, CookieAction, Loaded, Origin};
/// # use session_core::{Error, SessionState, StorageConfig};
/// # struct PlainCookie(StorageConfig);
/// # #[async_trait::async_trait]
/// # impl AbstractStorage for PlainCookie {
/// #     fn config(&self) -> &StorageConfig { &self.0 }
/// #     async fn load_session(&self, c: Option<&str>) -> Result<Loaded, Error> {
/// #         Ok(c.map_or_else(|| self.new_state(), |t| self.0.open("plain", None, t)).into())
/// #     }
/// #     async fn save_session(&self, s: &mut SessionState, _: Origin) -> Result<CookieAction, Error> {
/// #         Ok(CookieAction::Set(self.0.encode(s)?))
/// #     }
/// # }
/// use session_testkit::Suite;
///
/// session_testkit::conformance_suite!(plain, plain_cookie, async {
///     Suite::new(|config| async move { PlainCookie(config) })
/// });
/// # fn main() {}
/// ```
#[macro_export]
macro_rules! conformance_suite {
    ($name:ident, $kind:ident, $suite:expr $(,)?) => {
        #[allow(unused_imports)]
        mod $name {
            use super::*;
            $crate::__rules_of! { $kind => __rule_tests { $kind, $suite } }
        }
    };
}

/// The rules of each kind, once: the suite macro and [`rules::of`](crate::rules::of) both read them.
#[doc(hidden)]
#[macro_export]
macro_rules! __rules_of {
    ($kind:ident => $then:ident { $($args:tt)* }) => {
        $crate::__rules_of! { @$kind => $then { $($args)* } [
            new_session_without_cookie,
            round_trip_of_typed_values,
            arbitrary_values_round_trip,
            unchanged_session_is_not_saved,
            write_resets_created_but_changed_does_not,
            empty_payload_loads_as_new_without_identity,
            invalidate_empties_the_session,
            set_new_identity_only_when_new,
            reset_replaces_the_data,
            cycle_id_keeps_the_data,
            truncated_cookie_gives_fresh_session,
            garbage_cookie_gives_fresh_session,
            empty_cookie_gives_fresh_session,
            cookie_attributes_follow_config,
            cookie_size_is_guarded,
            flashes_are_taken_once_in_order,
            custom_codec_reads_and_writes,
            sessions_are_isolated,
            many_sessions_with_interleaved_writes_stay_isolated,
            concurrent_requests_on_different_sessions,
            max_age_counts_from_the_last_write,
            reads_keep_an_idle_session_alive,
            a_read_refreshes_at_most_once_per_interval,
            absolute_timeout_ends_an_active_session,
            login_starts_a_fresh_session_with_the_user,
            remember_me_outlives_the_idle_limit_up_to_the_remember_limit,
            a_session_that_ends_with_the_browser_sends_no_max_age,
            without_a_limit_a_session_ends_two_weeks_after_its_last_write,
        ] }
    };
    (@revocable_cookie => $then:ident { $($args:tt)* } [$($common:ident),* $(,)?]) => {
        $crate::$then! { $($args)*; $($common),*,
            tampered_cookie_gives_fresh_session,
            log_out_everywhere_reads_no_clock,
            a_user_id_of_a_thousand_bytes_logs_out_everywhere,
        }
    };
    (@devices => $then:ident { $($args:tt)* } [$($common:ident),* $(,)?]) => {
        $crate::$then! { $($args)*;
            devices_list_every_login_of_the_user,
            ending_a_device_leaves_the_others,
            log_out_everywhere_empties_the_device_list,
        }
    };
    (@plain_cookie => $then:ident { $($args:tt)* } [$($common:ident),* $(,)?]) => {
        $crate::$then! { $($args)*; $($common),* }
    };
    (@sealed_cookie => $then:ident { $($args:tt)* } [$($common:ident),* $(,)?]) => {
        $crate::$then! { $($args)*; $($common),*, tampered_cookie_gives_fresh_session }
    };
    (@server_side => $then:ident { $($args:tt)* } [$($common:ident),* $(,)?]) => {
        $crate::$then! { $($args)*; $($common),*,
            tampered_cookie_gives_fresh_session,
            logged_out_id_finds_nothing_and_its_entry_is_gone,
            expired_entry_leaves_the_store,
            two_tabs_logging_out_at_once_both_succeed,
            entries_expire_without_max_age,
            reset_deletes_the_replaced_entry,
            cycle_id_deletes_the_old_entry,
            large_payloads_round_trip,
            ids_of_every_character_the_factory_makes,
            log_out_everywhere_ends_only_that_users_sessions,
            an_ended_session_gets_a_new_id,
            an_entry_ends_with_the_absolute_timeout,
            rotations_in_one_request_delete_the_stored_entry,
            a_new_id_never_takes_over_a_stored_session,
            a_write_after_logout_is_a_new_session_under_a_new_id,
            login_deletes_the_entry_it_replaced,
            entries_live_as_long_as_their_session_is_kept,
            log_out_everywhere_reads_no_clock,
            a_user_id_of_a_thousand_bytes_logs_out_everywhere,
            a_logout_racing_writers_never_comes_back,
            a_cycled_id_racing_writers_never_comes_back,
            a_replaced_session_racing_writers_never_comes_back,
            log_out_everywhere_racing_writers_never_comes_back,
        }
    };
    (@merging_server_side => $then:ident { $($args:tt)* } [$($common:ident),* $(,)?]) => {
        $crate::__rules_of! { @server_side => $then { $($args)* } [$($common),*,
            concurrent_writes_to_different_keys_both_survive,
            concurrent_writes_to_one_key_keep_the_later,
            invalidate_wins_over_a_concurrent_write,
            a_python_logout_wins_over_concurrent_writes,
            many_writers_on_one_session_keep_every_write,
            parallel_flashes_and_csrf_tokens_are_all_kept,
        ] }
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __rule_tests {
    ($kind:ident, $suite:expr; $($rule:ident),+ $(,)?) => {
        $(
            #[test]
            fn $rule() {
                $crate::block_on(async {
                    let suite: $crate::Suite = $suite.await;
                    $crate::rules::$rule(&suite).await;
                });
            }
        )+
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __rule_list {
    (; $($rule:ident),+ $(,)?) => {
        vec![$((stringify!($rule), (|suite| Box::pin($crate::rules::$rule(suite))) as $crate::Rule)),+]
    };
}
