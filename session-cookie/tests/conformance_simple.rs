//! The conformance suite for `SimpleCookieStorage` (unsigned: a client may edit it, so no tamper rule).

use session_cookie::SimpleCookieStorage;
use session_testkit::Suite;

session_testkit::conformance_suite!(simple, plain_cookie, async {
    Suite::new(|config| async move { SimpleCookieStorage::new().with_config(config) })
});
