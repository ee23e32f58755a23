//! EncryptedCookieStorage's load path on any cookie value (including tokens with any timestamp).
#![no_main]

use libfuzzer_sys::fuzz_target;
use session_cookie::EncryptedCookieStorage;
use session_core::{AbstractStorage, CookieConfig, ManualClock, StorageConfig};
use session_fuzz::run;

const KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

fuzz_target!(|data: &[u8]| {
    let cookie = String::from_utf8_lossy(data);
    for max_age in [None, Some(3600), Some(u64::MAX)] {
        let config = StorageConfig::new(CookieConfig::new().max_age(max_age)).with_clock(ManualClock::new(1_700_000_000).clock());
        let storage = EncryptedCookieStorage::new(KEY).expect("key").with_config(config);
        let session = run(storage.load_session(Some(&cookie))).expect("a bad cookie is not an error");
        assert!(session.is_new(), "a forged token decrypted");
    }
});
