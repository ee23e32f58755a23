//! The conformance suite for `NaClCookieStorage`, and again with a store lent for log-out-everywhere.

use session_nacl::NaClCookieStorage;
use session_testkit::Suite;
use session_testkit::zoo::MemoryStore;

const KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

session_testkit::conformance_suite!(nacl, sealed_cookie, async {
    Suite::new(|config| async move { NaClCookieStorage::new(KEY).expect("valid key").with_config(config) })
});

session_testkit::conformance_suite!(nacl_revocable, revocable_cookie, async {
    let epochs = MemoryStore::new();
    Suite::new(move |config| {
        let storage = NaClCookieStorage::new(KEY).expect("valid key").with_config(config);
        let storage = storage.with_revocation(epochs.clone());
        async move { storage }
    })
});
