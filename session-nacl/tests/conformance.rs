//! The conformance suite for `NaClCookieStorage`.

use session_nacl::NaClCookieStorage;

const KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

session_testkit::conformance_suite! {
    make = |config| async move { NaClCookieStorage::new(KEY).expect("valid key").with_config(config) },
}
