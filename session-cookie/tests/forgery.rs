//! Forged Fernet cookies: bit flips, other keys, expired and future tokens all give a fresh session.

use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::{URL_SAFE, URL_SAFE_NO_PAD};
use session_cookie::EncryptedCookieStorage;
use std::time::Duration;

use session_core::storage::{CookieAction, Origin};
use session_core::{AbstractStorage, ManualClock, StorageConfig};
use session_devkit::forgery::every_bit_flip_is_refused;
use session_devkit::vectors::{FERNET_TOKEN, KEY_BASE64, TIME};

fn storage(clock: &ManualClock, max_age: Option<u64>) -> Arc<dyn AbstractStorage> {
    let config = StorageConfig::new().with_max_age(max_age.map(Duration::from_secs)).with_clock(clock.clock());
    Arc::new(EncryptedCookieStorage::new(KEY_BASE64).expect("key").with_config(config))
}

#[tokio::test]
async fn every_bit_flip_of_a_fernet_cookie_is_refused() {
    let clock = ManualClock::new(TIME);
    let tried = every_bit_flip_is_refused(
        &storage(&clock, Some(3600)),
        FERNET_TOKEN,
        |token| URL_SAFE_NO_PAD.decode(token.trim_end_matches('=')).expect("base64"),
        |bytes| URL_SAFE.encode(bytes),
    )
    .await;
    eprintln!("{tried} forged Fernet cookies refused");
    assert!(tried > 1800, "{tried} forgeries");
}

#[tokio::test]
async fn tokens_of_another_key_expired_or_from_the_future_are_refused() {
    let clock = ManualClock::new(TIME);
    let other = EncryptedCookieStorage::new(EncryptedCookieStorage::generate_key())
        .expect("key")
        .with_config(StorageConfig::default().with_clock(clock.clock()));
    let mut session = other.new_state();
    session.insert("user", "mallory").expect("str");
    let CookieAction::Set(foreign) = other.save_session(&mut session, Origin::none()).await.expect("save") else {
        panic!("a cookie");
    };
    assert!(storage(&clock, None).load_session(Some(&foreign)).await.unwrap().session.is_new(), "another key");

    clock.set(TIME + 3601);
    assert!(storage(&clock, Some(3600)).load_session(Some(FERNET_TOKEN)).await.unwrap().session.is_new(), "expired");
    clock.set(TIME - 61);
    assert!(
        storage(&clock, Some(3600)).load_session(Some(FERNET_TOKEN)).await.unwrap().session.is_new(),
        "from the future"
    );
}
