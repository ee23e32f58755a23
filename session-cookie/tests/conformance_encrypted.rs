//! The conformance suite for `EncryptedCookieStorage`.

use session_cookie::EncryptedCookieStorage;

const KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

session_testkit::conformance_suite! {
    make = |config| async move { EncryptedCookieStorage::new(KEY).expect("valid key").with_config(config) },
}
