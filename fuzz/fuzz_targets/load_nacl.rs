//! NaClCookieStorage's load path on any cookie value.
#![no_main]

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use libfuzzer_sys::fuzz_target;
use session_core::AbstractStorage;
use session_fuzz::run;
use session_nacl::NaClCookieStorage;

const KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
/// The Python vector (a seed): the one box that may open.
const GENUINE: &str = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB9IZQQPn6PsGuSY9BjdfQzEskzP9y8tWOHZILxRxjuLUBETAd9YEbElwLv5PoLBc9z7zdrQd3H3wQNszS7i+Vq6HwrWK7QbhwKv8JrXv";

fuzz_target!(|data: &[u8]| {
    let cookie = String::from_utf8_lossy(data);
    let storage = NaClCookieStorage::new(KEY).expect("key");
    let session = run(storage.load_session(Some(&cookie))).expect("a bad cookie is not an error").session;
    let genuine = STANDARD.decode(GENUINE).ok();
    assert!(session.is_new() || STANDARD.decode(cookie.as_bytes()).ok() == genuine, "a forged box opened");
});
