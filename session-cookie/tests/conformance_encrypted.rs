//! The conformance suite for `EncryptedCookieStorage`, and again with a store lent for
//! log-out-everywhere.

use session_cookie::EncryptedCookieStorage;
use session_testkit::Suite;
use session_testkit::zoo::MemoryStore;

const KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

session_testkit::conformance_suite!(encrypted, sealed_cookie, async {
    Suite::new(|config| async move { EncryptedCookieStorage::new(KEY).expect("valid key").with_config(config) })
});

session_testkit::conformance_suite!(encrypted_revocable, revocable_cookie, async {
    let epochs = MemoryStore::new();
    Suite::new(move |config| {
        let storage = EncryptedCookieStorage::new(KEY).expect("valid key").with_config(config);
        let storage = storage.with_revocation(epochs.clone());
        async move { storage }
    })
});
