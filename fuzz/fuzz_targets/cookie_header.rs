//! The `Cookie` header reader and Python unquoting: any header is read without panicking, and quoting
//! then unquoting any text gives it back.
#![no_main]

use libfuzzer_sys::fuzz_target;
use session_core::cookie::{find_cookie, quote, unquote};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = find_cookie([text.as_ref()], "AIOHTTP_SESSION");
    let _ = unquote(&text);
    let quoted = quote(&text);
    assert!(!quoted.contains(['\r', '\n', ';', ',']));
    assert_eq!(unquote(&quoted), text);
});
