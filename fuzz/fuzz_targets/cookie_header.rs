//! The `Cookie` header reader, fed raw bytes as the adapters pass them, and Python unquoting: any
//! headers are read without panicking, our cookie after any other bytes is found, and quoting then
//! unquoting any text gives it back.
#![no_main]

use libfuzzer_sys::fuzz_target;
use session_core::cookie::{find_cookie, quote, unquote};

fuzz_target!(|data: &[u8]| {
    // A line break splits the input into several `Cookie` headers, as HTTP/2 clients send them.
    let headers: Vec<&[u8]> = data.split(|&byte| byte == b'\n').collect();
    let _ = find_cookie(headers.iter().copied(), "AIOHTTP_SESSION");
    let mut last = headers.last().copied().unwrap_or_default().to_vec();
    last.extend_from_slice(b"; AIOHTTP_SESSION=ours");
    let with_ours = headers[..headers.len() - 1].iter().copied().chain([last.as_slice()]);
    assert_eq!(find_cookie(with_ours, "AIOHTTP_SESSION").as_deref(), Some("ours"), "whatever the other cookies hold");

    let text = String::from_utf8_lossy(data);
    let _ = unquote(&text);
    let quoted = quote(&text);
    assert!(!quoted.contains(['\r', '\n', ';', ',']));
    assert_eq!(unquote(&quoted), text);
});
