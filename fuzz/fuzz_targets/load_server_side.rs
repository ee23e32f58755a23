//! The load path Redis and memcached share, on any stored bytes (through a store that holds them, so
//! no server is needed); then two concurrent saves of that session, the second merged onto the first.
#![no_main]

use std::time::Duration;

use libfuzzer_sys::fuzz_target;
use session_core::middleware::RequestSession;
use session_core::server_side::ServerSideStorage;
use session_core::StorageConfig;
use session_fuzz::{Stored, run};

const COOKIE: &str = "AIOHTTP_SESSION=0123456789abcdef0123456789abcdef";

fuzz_target!(|data: &[u8]| {
    let storage = ServerSideStorage::new(Stored::new(data.to_vec()))
        .with_config(StorageConfig::new().with_max_age(Duration::from_secs(3600)));
    let storage: std::sync::Arc<dyn session_core::AbstractStorage> = std::sync::Arc::new(storage);
    run(async {
        let (first, second) = (RequestSession::new(storage.clone()), RequestSession::new(storage.clone()));
        first.load([COOKIE]).await.expect("a bad stored value is not an error");
        second.load([COOKIE]).await.expect("a bad stored value is not an error");
        let _ = first.with(|session| session.insert("first", true));
        let _ = second.with(|session| session.insert("second", true));
        for request in [first, second] {
            if let Some(pending) = request.finish(200) {
                let _ = pending.save().await;
            }
        }
    });
});
