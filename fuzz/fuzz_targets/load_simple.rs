//! SimpleCookieStorage's load path on any cookie value: a session or a fresh one, never a panic or an
//! error; and whatever loads saves again.
#![no_main]

use std::sync::Arc;
use std::time::Duration;

use libfuzzer_sys::fuzz_target;
use session_cookie::SimpleCookieStorage;
use session_core::middleware::RequestSession;
use session_core::StorageConfig;
use session_fuzz::run;

fuzz_target!(|data: &[u8]| {
    let cookie = format!("AIOHTTP_SESSION={}", String::from_utf8_lossy(data));
    let storage =
        SimpleCookieStorage::new().with_config(StorageConfig::new().with_max_age(Duration::from_secs(3600)));
    let request = RequestSession::new(Arc::new(storage));
    run(async {
        request.load([cookie.as_str()]).await.expect("a bad cookie is not an error");
        request.with(|session| session.changed()).expect("loaded");
        if let Some(pending) = request.finish(200) {
            let _ = pending.save().await;
        }
    });
});
