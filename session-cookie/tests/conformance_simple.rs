//! The conformance suite for `SimpleCookieStorage` (unsigned: no tamper rule).

use session_cookie::SimpleCookieStorage;

session_testkit::conformance_suite! {
    make = |config| async move { SimpleCookieStorage::new().with_config(config) },
    tamper_evident = false,
}
