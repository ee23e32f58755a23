//! NaClCookieStorage's load path on any cookie value.
#![no_main]

use libfuzzer_sys::fuzz_target;
use session_core::AbstractStorage;
use session_fuzz::run;
use session_nacl::NaClCookieStorage;

const KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

fuzz_target!(|data: &[u8]| {
    let cookie = String::from_utf8_lossy(data);
    let storage = NaClCookieStorage::new(KEY).expect("key");
    let session = run(storage.load_session(Some(&cookie))).expect("a bad cookie is not an error");
    assert!(session.is_new(), "a forged box opened");
});
