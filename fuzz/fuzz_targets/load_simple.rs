//! SimpleCookieStorage's load path on any cookie value: a session or a fresh one, never a panic or an
//! error; and whatever loads saves again.
#![no_main]

use libfuzzer_sys::fuzz_target;
use session_cookie::SimpleCookieStorage;
use session_core::{AbstractStorage, CookieConfig, save_if_changed};
use session_fuzz::run;

fuzz_target!(|data: &[u8]| {
    let cookie = String::from_utf8_lossy(data);
    let storage = SimpleCookieStorage::new().with_config(CookieConfig::new().max_age(Some(3600)));
    let mut session = run(storage.load_session(Some(&cookie))).expect("a bad cookie is not an error");
    session.changed();
    let _ = run(save_if_changed(&storage, &mut session));
});
