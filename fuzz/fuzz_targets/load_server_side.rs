//! The load path Redis and memcached share, on any stored bytes (through a backend that holds them, so
//! no server is needed); then the merge of a concurrent save onto those bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use session_core::{AbstractStorage, CookieConfig, ServerSideStorage, save_if_changed};
use session_fuzz::{Stored, run};

const ID: &str = "0123456789abcdef0123456789abcdef";

fuzz_target!(|data: &[u8]| {
    let storage = ServerSideStorage::<Stored>::new(Stored(data.to_vec())).with_config(CookieConfig::new().max_age(Some(3600)));
    let mut session = run(storage.load_session(Some(ID))).expect("a bad stored value is not an error");
    let _ = session.insert("fuzz", true);
    let _ = run(save_if_changed(&storage, &mut session));
});
