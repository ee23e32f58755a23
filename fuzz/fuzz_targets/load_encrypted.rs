//! EncryptedCookieStorage's load path on any cookie value (including tokens with any timestamp).
#![no_main]

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use libfuzzer_sys::fuzz_target;
use session_cookie::EncryptedCookieStorage;
use std::time::Duration;

use session_core::{AbstractStorage, ManualClock, StorageConfig};
use session_fuzz::run;

const KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
/// The Python vector (a seed): the one token that may decrypt.
const GENUINE: &str = "gAAAAABlU_EAAAAAAAAAAAAAAAAAAAAAAO76hUp1afHPQiWkzSlmAk3BKpG1Z084XxuqaMnePcFvSzqIMNuekdBac86KwQUW8aONVsXr_HYc4E4ePT0D7gVFTAYQZfzO-vRSb3kiErBDFevNA1XOcJKQcnwClJdbOA==";

/// The bytes a token stands for (Fernet decoding ignores `=` padding).
fn bytes(token: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(token.trim_end_matches('=')).ok()
}

fuzz_target!(|data: &[u8]| {
    let cookie = String::from_utf8_lossy(data);
    for max_age in [None, Some(3600), Some(u64::MAX)] {
        let config = StorageConfig::new()
            .with_max_age(max_age.map(Duration::from_secs))
            .with_clock(ManualClock::new(1_700_000_000).clock());
        let storage = EncryptedCookieStorage::new(KEY).expect("key").with_config(config);
        let session = run(storage.load_session(Some(&cookie))).expect("a bad cookie is not an error").session;
        assert!(session.is_new() || bytes(&cookie) == bytes(GENUINE), "a forged token decrypted");
    }
});
