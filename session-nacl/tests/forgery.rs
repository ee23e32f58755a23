//! Forged NaCl cookies: every bit flip gives a fresh session.

use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use session_core::{AbstractStorage, ManualClock, StorageConfig};
use session_devkit::forgery::every_bit_flip_is_refused;
use session_devkit::vectors::{KEY_BASE64, NACL_COOKIE, TIME};
use session_nacl::NaClCookieStorage;

#[tokio::test]
async fn every_bit_flip_of_a_nacl_cookie_is_refused() {
    let clock = ManualClock::new(TIME);
    let storage: Arc<dyn AbstractStorage> = Arc::new(
        NaClCookieStorage::new(KEY_BASE64)
            .expect("key")
            .with_config(StorageConfig::default().with_clock(clock.clock())),
    );
    let tried = every_bit_flip_is_refused(
        &storage,
        NACL_COOKIE,
        |c| STANDARD.decode(c).expect("base64"),
        |b| STANDARD.encode(b),
    )
    .await;
    eprintln!("{tried} forged NaCl cookies refused");
    assert!(tried > 1700, "{tried} forgeries");
}
