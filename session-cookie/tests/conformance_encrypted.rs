//! The conformance suite for `EncryptedCookieStorage`.

use session_cookie::EncryptedCookieStorage;
use session_testkit::Suite;

const KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

session_testkit::conformance_suite!(encrypted, sealed_cookie, async {
    Suite::new(|config| async move { EncryptedCookieStorage::new(KEY).expect("valid key").with_config(config) })
});
