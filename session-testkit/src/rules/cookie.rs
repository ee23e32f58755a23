//! Rules about what a client sends and gets back: bad cookies, the cookie's attributes and size, the
//! codec.

use std::sync::Arc;
use std::time::Duration;

use session_core::cookie::{MAX_COOKIE_SIZE, quote, unquote};
use session_core::{AbstractStorage, CookieConfig, Error, Flash, FlashLevel, ManualClock, SameSite, StorageConfig};

use super::{T, assert_fresh, default_storage, logged_in, storage_at};
use crate::client::TestClient;
use crate::codecs::ReversedJsonCodec;
use crate::suite::Suite;

/// Loads `raw` (as the browser would send it) in a client of `storage` and asserts a fresh session.
async fn assert_cookie_gives_fresh_session(storage: &Arc<dyn AbstractStorage>, raw: String, what: &str) {
    let mut client = TestClient::new(storage.clone());
    client.set_cookie(Some(raw));
    let session = client.session().await.unwrap_or_else(|e| panic!("{what}: a bad cookie is not an error: {e}"));
    assert_fresh(&session, what);
    assert!(!session.is_changed(), "{what}: a fresh session is not changed");
}

/// Changing any part of a valid cookie gives a fresh session (signed and server-side storages).
pub async fn tampered_cookie_gives_fresh_session(suite: &Suite) {
    let clock = ManualClock::new(T);
    let storage = default_storage(suite, &clock).await;
    let client = logged_in(storage.clone()).await;
    let value: Vec<char> = unquote(client.cookie().expect("cookie")).chars().collect();
    for at in [0, value.len() / 2, value.len().saturating_sub(4)] {
        let mut chars = value.clone();
        chars[at] = if chars[at] == 'A' { 'B' } else { 'A' };
        let tampered: String = chars.into_iter().collect();
        assert_cookie_gives_fresh_session(&storage, quote(&tampered).into_owned(), &format!("char {at} changed")).await;
    }
}

/// A cookie cut short gives a fresh session.
pub async fn truncated_cookie_gives_fresh_session(suite: &Suite) {
    let clock = ManualClock::new(T);
    let storage = default_storage(suite, &clock).await;
    let client = logged_in(storage.clone()).await;
    let value: Vec<char> = unquote(client.cookie().expect("cookie")).chars().collect();
    for keep in [value.len() / 2, value.len().saturating_sub(5), 1] {
        let truncated: String = value[..keep].iter().collect();
        assert_cookie_gives_fresh_session(&storage, quote(&truncated).into_owned(), &format!("first {keep} chars"))
            .await;
    }
}

/// Values that were never cookies of this storage give a fresh session.
pub async fn garbage_cookie_gives_fresh_session(suite: &Suite) {
    let clock = ManualClock::new(T);
    let storage = default_storage(suite, &clock).await;
    let long = "A".repeat(3000);
    let values = [
        "garbage",
        "!!!",
        "{",
        "[1, 2, 3]",
        "\"text\"",
        "42",
        "true",
        "é😀",
        "\u{1}\u{2}\u{7f}",
        "gAAAAAB",
        &long,
        "0123456789abcdef0123456789abcdef",
        "../../etc/passwd",
        "AIOHTTP_SESSION_x y",
    ];
    for value in values {
        assert_cookie_gives_fresh_session(&storage, quote(value).into_owned(), &format!("{value:.20?}")).await;
    }
    for raw in ["\"unterminated", "\"\\", "%00%ff", "a\"b"] {
        assert_cookie_gives_fresh_session(&storage, raw.to_owned(), &format!("raw {raw:?}")).await;
    }
}

/// An empty cookie value, bare or quoted, gives a fresh session.
pub async fn empty_cookie_gives_fresh_session(suite: &Suite) {
    let clock = ManualClock::new(T);
    let storage = default_storage(suite, &clock).await;
    for raw in ["", "\"\""] {
        assert_cookie_gives_fresh_session(&storage, raw.to_owned(), &format!("raw {raw:?}")).await;
    }
}

/// Every setting of the `CookieConfig` reaches the `Set-Cookie` header, and the session's own
/// `max_age` is what is written.
pub async fn cookie_attributes_follow_config(suite: &Suite) {
    let clock = ManualClock::new(T);
    let cookie = CookieConfig::builder()
        .name("TESTKIT_SID")
        .domain("example.test")
        .path("/app")
        .secure(true)
        .http_only(false)
        .same_site(SameSite::Strict)
        .build()
        .expect("a valid cookie");
    let config = StorageConfig::new().with_cookie(cookie).with_max_age(Duration::from_secs(3600));
    let storage = storage_at(suite, &clock, config).await;
    let mut client = TestClient::new(storage);
    let saved = client.request(|s| s.insert("user", "alice")).await.expect("save");
    let header = saved.set_cookie.expect("cookie");
    assert!(header.starts_with("TESTKIT_SID="), "{header}");
    for attribute in [
        "Domain=example.test",
        "Path=/app",
        "Secure",
        "SameSite=Strict",
        "Max-Age=3600",
        "Expires=Tue, 14 Nov 2023 23:13:20 GMT",
    ] {
        assert!(header.split("; ").any(|a| a == attribute), "{header} lacks {attribute}");
    }
    assert!(!header.contains("HttpOnly"), "{header}");

    let own = client.request(|s| s.set_max_age(Some(Duration::from_secs(120)))).await.expect("no change");
    assert_eq!(own.set_cookie, None, "setting max_age alone does not save");
    let own = client
        .request(|s| {
            s.set_max_age(Some(Duration::from_secs(120)));
            s.changed();
        })
        .await
        .expect("save");
    let header = own.set_cookie.expect("cookie");
    assert!(header.split("; ").any(|a| a == "Max-Age=120"), "{header}");

    let logout = client.request(|s| s.invalidate()).await.expect("invalidate");
    let header = logout.set_cookie.expect("cookie");
    assert!(header.starts_with("TESTKIT_SID="), "{header}");
    for attribute in ["Domain=example.test", "Path=/app"] {
        assert!(header.split("; ").any(|a| a == attribute), "{header} lacks {attribute}");
    }
}

/// Flash messages queued in one request are taken in the next, in order, once; a queue too big for a
/// cookie is the size error at save, as any value is (a server-side store keeps it).
pub async fn flashes_are_taken_once_in_order(suite: &Suite) {
    let clock = ManualClock::new(T);
    let mut client = TestClient::new(default_storage(suite, &clock).await);
    let queued = client
        .request(|s| (0..5).try_for_each(|n| s.flash(FlashLevel::Info, format!("message {n}"))))
        .await
        .expect("saved");
    queued.output.expect("queued");
    let texts = |flashes: Vec<Flash>| flashes.into_iter().map(|flash| flash.text).collect::<Vec<_>>();
    let shown = client.request(|s| texts(s.take_flashes())).await.expect("taken").output;
    assert_eq!(shown, (0..5).map(|n| format!("message {n}")).collect::<Vec<_>>());
    assert!(client.request(|s| s.take_flashes()).await.expect("again").output.is_empty(), "shown once");

    // 120 messages of 40 letters: about 7 KiB of JSON.
    let many = client.request(|s| (0..120).try_for_each(|n| s.flash(FlashLevel::Info, format!("{n:040}")))).await;
    match many {
        Err(Error::CookieTooLarge { size, limit }) => assert!(size > limit),
        Err(other) => panic!("expected CookieTooLarge, got {other}"),
        Ok(saved) => {
            saved.output.expect("queued");
            let kept = client.request(|s| s.take_flashes().len()).await.expect("taken").output;
            assert_eq!(kept, 120, "a store that accepts the queue keeps all of it");
        }
    }
}

/// A session too big for a cookie is an error at save, never a cookie the browser would drop.
pub async fn cookie_size_is_guarded(suite: &Suite) {
    let clock = ManualClock::new(T);
    let mut client = TestClient::new(default_storage(suite, &clock).await);
    // Letters from a fixed LCG: no compression or encoding shortens them.
    let mut state = 12345u32;
    let big: String = (0..6000)
        .map(|_| {
            state = state.wrapping_mul(1_103_515_245).wrapping_add(12345);
            char::from(b'a' + (state >> 16) as u8 % 26)
        })
        .collect();
    match client.request(|s| s.insert("big", &big)).await {
        Err(Error::CookieTooLarge { size, limit }) => assert!(size > limit && limit == MAX_COOKIE_SIZE),
        Err(other) => panic!("expected CookieTooLarge, got {other}"),
        Ok(saved) => {
            let header = saved.set_cookie.expect("cookie");
            let pair = header.split("; ").next().unwrap_or_default();
            assert!(pair.len() <= MAX_COOKIE_SIZE, "a {} byte cookie was sent", pair.len());
            let loaded = client.session().await.expect("load");
            assert_eq!(loaded.get::<String>("big").expect("typed"), Some(big), "a server-side session keeps it");
        }
    }
}

/// The configured codec writes every payload and reads it back; the default codec cannot read it.
pub async fn custom_codec_reads_and_writes(suite: &Suite) {
    let clock = ManualClock::new(T);
    let codec = ReversedJsonCodec::default();
    let storage = storage_at(suite, &clock, StorageConfig::default().with_codec(codec.clone())).await;
    let client = logged_in(storage).await;
    assert!(codec.encoded() >= 1, "the codec wrote the payload");
    let decoded_before = codec.decoded();
    let session = client.session().await.expect("load");
    assert_eq!(session.get::<String>("user").expect("typed").as_deref(), Some("alice"));
    assert!(codec.decoded() > decoded_before, "the codec read the payload");

    let mut plain = TestClient::new(default_storage(suite, &clock).await);
    plain.set_cookie(client.cookie().map(str::to_owned));
    assert_fresh(&plain.session().await.expect("load"), "JSON codec reading reversed JSON");
}
