//! The conformance suite for `NaClCookieStorage`.

use session_nacl::NaClCookieStorage;
use session_testkit::Suite;

const KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

session_testkit::conformance_suite!(nacl, sealed_cookie, async {
    Suite::new(|config| async move { NaClCookieStorage::new(KEY).expect("valid key").with_config(config) })
});
