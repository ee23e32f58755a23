//! One function per rule of the storage contract (design §2–§5). The
//! [`conformance_suite!`](crate::conformance_suite) macro turns each into a named test.
//!
//! Every rule builds its storages through a [`MakeStorage`] with a [`ManualClock`] standing at
//! [`T`], so no rule sleeps.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;
use serde_json::json;
use session_core::{
    AbstractStorage, CookieAction, CookieConfig, Error, MAX_COOKIE_SIZE, ManualClock, SameSite, Session, StorageConfig,
    Value, cookie_quote, cookie_unquote, save_if_changed,
};

use crate::client::TestClient;
use crate::codecs::{ForgedPayloadCodec, ReversedJsonCodec};
use crate::suite::MakeStorage;

/// The time every rule starts at (the reference vectors' 2023-11-14T22:13:20Z).
pub const T: i64 = 1_700_000_000;

async fn storage_at(make: &dyn MakeStorage, clock: &ManualClock, config: StorageConfig) -> Arc<dyn AbstractStorage> {
    make.make(config.with_clock(clock.clock())).await
}

async fn default_storage(make: &dyn MakeStorage, clock: &ManualClock) -> Arc<dyn AbstractStorage> {
    storage_at(make, clock, StorageConfig::default()).await
}

#[track_caller]
fn assert_fresh(session: &Session, what: &str) {
    assert!(session.is_new(), "{what}: the session must be new");
    assert!(session.is_empty(), "{what}: the session must be empty, has keys {:?}", session.keys().collect::<Vec<_>>());
    assert_eq!(session.identity(), None, "{what}: a fresh session has no identity");
    assert!(!session.is_changed(), "{what}: a fresh session is not changed");
}

/// A client whose session holds `user = "alice"`.
async fn logged_in(storage: Arc<dyn AbstractStorage>) -> TestClient {
    let mut client = TestClient::new(storage);
    let saved = client.request(|s| s.insert("user", "alice")).await.expect("save");
    saved.output.expect("insert");
    assert!(saved.set_cookie.is_some(), "a changed session sends a cookie");
    client
}

/// No cookie: a new, unchanged, empty session, and an untouched session sends no cookie.
pub async fn new_session_without_cookie(make: &dyn MakeStorage) {
    let clock = ManualClock::new(T);
    let storage = default_storage(make, &clock).await;
    let session = storage.load_session(None).await.expect("load");
    assert_fresh(&session, "no cookie");
    assert_eq!(session.created(), T);
    assert_eq!(session.max_age(), None);
    let mut client = TestClient::new(storage);
    assert_eq!(client.request(|_| ()).await.expect("request").set_cookie, None);
}

/// Every JSON type survives a save and a load unchanged, in insertion order.
pub async fn round_trip_of_typed_values(make: &dyn MakeStorage) {
    let clock = ManualClock::new(T);
    let data = json!({
        "text": "héllo wörld 😀 ✓ \"quoted\" back\\slash ;,= \u{0} \u{7f}",
        "int": 42,
        "negative": -7,
        "big": 9_007_199_254_740_993_i64,
        "float": 3.25,
        "tiny": 1e-7,
        "true": true,
        "false": false,
        "null": null,
        "list": [1, "two", [3], {"four": 4}],
        "map": {"nested": {"deep": [null, 1.5]}},
        "empty_map": {},
        "empty_list": [],
    });
    let Value::Object(items) = data else { unreachable!() };
    let mut client = TestClient::new(default_storage(make, &clock).await);
    client
        .request(|session| {
            for (key, value) in &items {
                session.insert_value(key.clone(), value.clone());
            }
        })
        .await
        .expect("save");
    let loaded = client.session().await.expect("load");
    assert!(!loaded.is_new());
    assert_eq!(loaded.as_map(), &items);
    assert_eq!(loaded.keys().collect::<Vec<_>>(), items.keys().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(loaded.get::<String>("text").expect("string").as_deref(), items["text"].as_str());
    assert_eq!(loaded.get::<f64>("float").expect("float"), Some(3.25));
}

/// A storage that counts its saves, to see that unchanged sessions are not written.
struct CountingStorage {
    inner: Arc<dyn AbstractStorage>,
    saves: AtomicUsize,
}

#[async_trait]
impl AbstractStorage for CountingStorage {
    fn config(&self) -> &StorageConfig {
        self.inner.config()
    }
    fn new_session(&self) -> Session {
        self.inner.new_session()
    }
    async fn load_session(&self, cookie: Option<&str>) -> Result<Session, Error> {
        self.inner.load_session(cookie).await
    }
    async fn save_session(&self, session: &mut Session) -> Result<CookieAction, Error> {
        self.saves.fetch_add(1, Ordering::SeqCst);
        self.inner.save_session(session).await
    }
    async fn remove_session(&self, identity: &str) -> Result<(), Error> {
        self.inner.remove_session(identity).await
    }
}

/// Reading a session, or mutating a value taken out of it, writes nothing and sends no cookie.
pub async fn unchanged_session_is_not_saved(make: &dyn MakeStorage) {
    let clock = ManualClock::new(T);
    let counting = Arc::new(CountingStorage { inner: default_storage(make, &clock).await, saves: AtomicUsize::new(0) });
    let mut client = logged_in(counting.clone()).await;
    assert_eq!(counting.saves.load(Ordering::SeqCst), 1);

    let read = client.request(|s| s.get::<String>("user")).await.expect("read");
    assert_eq!(read.output.expect("typed").as_deref(), Some("alice"));
    assert_eq!(read.set_cookie, None, "a read-only request sends no cookie");

    let mutated = client
        .request(|s| {
            let mut copy = s.get_value("user").cloned();
            if let Some(value) = copy.as_mut() {
                *value = json!("mallory");
            }
        })
        .await
        .expect("mutate a copy");
    assert_eq!(mutated.set_cookie, None);

    let mut stranger = TestClient::new(counting.clone());
    assert_eq!(stranger.request(|s| s.is_new()).await.expect("new").set_cookie, None);
    assert_eq!(counting.saves.load(Ordering::SeqCst), 1, "only the first request saved");
    assert_eq!(client.session().await.expect("load").get::<String>("user").expect("typed").as_deref(), Some("alice"));
}

/// A write resets `created` to now; `changed()` saves without touching it.
pub async fn write_resets_created_but_changed_does_not(make: &dyn MakeStorage) {
    let clock = ManualClock::new(T);
    let mut client = logged_in(default_storage(make, &clock).await).await;
    clock.advance(10);
    let saved = client.request(|s| s.changed()).await.expect("changed");
    assert!(saved.set_cookie.is_some(), "changed() saves");
    assert_eq!(client.session().await.expect("load").created(), T);
    clock.advance(10);
    client.request(|s| s.insert("n", 1)).await.expect("write").output.expect("insert");
    assert_eq!(client.session().await.expect("load").created(), T + 20);
}

/// `max_age` is an idle timeout: valid at exactly `max_age` seconds after the last write, gone one
/// second later.
pub async fn idle_expiry_follows_max_age(make: &dyn MakeStorage) {
    let clock = ManualClock::new(T);
    let config = StorageConfig::new(CookieConfig::new().max_age(Some(60)));
    let client = logged_in(storage_at(make, &clock, config).await).await;
    clock.advance(60);
    let session = client.session().await.expect("load");
    assert_eq!(session.get::<String>("user").expect("typed").as_deref(), Some("alice"), "age == max_age is valid");
    assert_eq!(session.max_age(), Some(60));
    clock.advance(1);
    let expired = client.session().await.expect("load");
    assert!(expired.is_empty(), "one second past max_age the data is gone");
}

/// A stored `{}` loads as a new session without identity (the session-fixation guard).
pub async fn empty_payload_loads_as_new_without_identity(make: &dyn MakeStorage) {
    let clock = ManualClock::new(T);
    let storage = default_storage(make, &clock).await;
    let forge = |payload: &str| {
        let config = StorageConfig::default().with_codec(ForgedPayloadCodec(payload.to_owned()));
        storage_at(make, &clock, config)
    };
    // The forging path works: a forged record is what the real storage then loads...
    let mut client = logged_in(forge(r#"{"created": 1700000000, "session": {"forged": true}}"#).await).await;
    let mut reader = TestClient::new(storage);
    reader.set_cookie(client.cookie().map(str::to_owned));
    let session = reader.session().await.expect("load");
    assert_eq!(session.get::<bool>("forged").expect("typed"), Some(true));
    assert!(!session.is_new());

    // ...so `{}` written the same way is really loaded, and it is a new session with no identity.
    client = logged_in(forge("{}").await).await;
    reader.set_cookie(client.cookie().map(str::to_owned));
    assert_fresh(&reader.session().await.expect("load"), "stored {}");
}

/// `invalidate()` empties the session and marks it changed; the next request sees a new, empty session.
pub async fn invalidate_empties_the_session(make: &dyn MakeStorage) {
    let clock = ManualClock::new(T);
    let mut client = logged_in(default_storage(make, &clock).await).await;
    let logout = client
        .request(|s| {
            s.invalidate();
            (s.is_empty(), s.is_changed(), s.created(), s.is_new())
        })
        .await
        .expect("invalidate");
    assert_eq!(logout.output, (true, true, T, false));
    assert!(logout.set_cookie.is_some(), "invalidate rewrites or removes the cookie");
    assert_fresh(&client.session().await.expect("load"), "after invalidate");
}

/// `set_new_identity` works on a new session and is refused on a loaded one.
pub async fn set_new_identity_only_when_new(make: &dyn MakeStorage) {
    let clock = ManualClock::new(T);
    let storage = default_storage(make, &clock).await;
    let mut fresh = storage.new_session();
    fresh.set_new_identity("0123456789abcdef0123456789abcdef").expect("new session");
    assert_eq!(fresh.identity(), Some("0123456789abcdef0123456789abcdef"));
    let client = logged_in(storage).await;
    let mut loaded = client.session().await.expect("load");
    assert!(!loaded.is_new());
    let before = loaded.identity().map(str::to_owned);
    assert!(matches!(loaded.set_new_identity("fedcba9876543210fedcba9876543210"), Err(Error::IdentityNotNew)));
    assert_eq!(loaded.identity().map(str::to_owned), before);
}

/// Loads `raw` (as the browser would send it) in a client of `storage` and asserts a fresh session.
async fn assert_cookie_gives_fresh_session(storage: &Arc<dyn AbstractStorage>, raw: String, what: &str) {
    let mut client = TestClient::new(storage.clone());
    client.set_cookie(Some(raw));
    let session = client.session().await.unwrap_or_else(|e| panic!("{what}: a bad cookie is not an error: {e}"));
    assert_fresh(&session, what);
}

/// Changing any part of a valid cookie gives a fresh session (signed and server-side storages).
pub async fn tampered_cookie_gives_fresh_session(make: &dyn MakeStorage) {
    let clock = ManualClock::new(T);
    let storage = default_storage(make, &clock).await;
    let client = logged_in(storage.clone()).await;
    let value: Vec<char> = cookie_unquote(client.cookie().expect("cookie")).chars().collect();
    for at in [0, value.len() / 2, value.len().saturating_sub(4)] {
        let mut chars = value.clone();
        chars[at] = if chars[at] == 'A' { 'B' } else { 'A' };
        let tampered: String = chars.into_iter().collect();
        assert_cookie_gives_fresh_session(
            &storage,
            cookie_quote(&tampered).into_owned(),
            &format!("char {at} changed"),
        )
        .await;
    }
}

/// A cookie cut short gives a fresh session.
pub async fn truncated_cookie_gives_fresh_session(make: &dyn MakeStorage) {
    let clock = ManualClock::new(T);
    let storage = default_storage(make, &clock).await;
    let client = logged_in(storage.clone()).await;
    let value: Vec<char> = cookie_unquote(client.cookie().expect("cookie")).chars().collect();
    for keep in [value.len() / 2, value.len().saturating_sub(5), 1] {
        let truncated: String = value[..keep].iter().collect();
        assert_cookie_gives_fresh_session(
            &storage,
            cookie_quote(&truncated).into_owned(),
            &format!("first {keep} chars"),
        )
        .await;
    }
}

/// Values that were never cookies of this storage give a fresh session.
pub async fn garbage_cookie_gives_fresh_session(make: &dyn MakeStorage) {
    let clock = ManualClock::new(T);
    let storage = default_storage(make, &clock).await;
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
        assert_cookie_gives_fresh_session(&storage, cookie_quote(value).into_owned(), &format!("{value:.20?}")).await;
    }
    for raw in ["\"unterminated", "\"\\", "%00%ff", "a\"b"] {
        assert_cookie_gives_fresh_session(&storage, raw.to_owned(), &format!("raw {raw:?}")).await;
    }
}

/// An empty cookie value, bare or quoted, gives a fresh session.
pub async fn empty_cookie_gives_fresh_session(make: &dyn MakeStorage) {
    let clock = ManualClock::new(T);
    let storage = default_storage(make, &clock).await;
    for raw in ["", "\"\""] {
        assert_cookie_gives_fresh_session(&storage, raw.to_owned(), &format!("raw {raw:?}")).await;
    }
}

/// Every setting of the `CookieConfig` reaches the `Set-Cookie` header, and the session's own
/// `max_age` is what is written.
pub async fn cookie_attributes_follow_config(make: &dyn MakeStorage) {
    let clock = ManualClock::new(T);
    let cookie = CookieConfig::new()
        .name("TESTKIT_SID")
        .domain("example.test")
        .path("/app")
        .secure(true)
        .http_only(false)
        .same_site(SameSite::Strict)
        .max_age(Some(3600));
    let storage = storage_at(make, &clock, StorageConfig::new(cookie)).await;
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

    let own = client.request(|s| s.set_max_age(Some(120))).await.expect("no change");
    assert_eq!(own.set_cookie, None, "setting max_age alone does not save");
    let own = client
        .request(|s| {
            s.set_max_age(Some(120));
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

/// A session too big for a cookie is an error at save, never a cookie the browser would drop.
pub async fn cookie_size_is_guarded(make: &dyn MakeStorage) {
    let clock = ManualClock::new(T);
    let mut client = TestClient::new(default_storage(make, &clock).await);
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
pub async fn custom_codec_reads_and_writes(make: &dyn MakeStorage) {
    let clock = ManualClock::new(T);
    let codec = ReversedJsonCodec::default();
    let storage = storage_at(make, &clock, StorageConfig::default().with_codec(codec.clone())).await;
    let client = logged_in(storage).await;
    assert!(codec.encoded() >= 1, "the codec wrote the payload");
    let decoded_before = codec.decoded();
    let session = client.session().await.expect("load");
    assert_eq!(session.get::<String>("user").expect("typed").as_deref(), Some("alice"));
    assert!(codec.decoded() > decoded_before, "the codec read the payload");

    let mut plain = TestClient::new(default_storage(make, &clock).await);
    plain.set_cookie(client.cookie().map(str::to_owned));
    assert_fresh(&plain.session().await.expect("load"), "JSON codec reading reversed JSON");
}

/// Two clients never see each other's data, and one logging out leaves the other alone.
pub async fn sessions_are_isolated(make: &dyn MakeStorage) {
    let clock = ManualClock::new(T);
    let storage = default_storage(make, &clock).await;
    let mut alice = logged_in(storage.clone()).await;
    let mut bob = TestClient::new(storage);
    bob.request(|s| s.insert("user", "bob")).await.expect("save").output.expect("insert");
    assert_ne!(alice.cookie(), bob.cookie());
    let user = |s: &Session| s.get::<String>("user").expect("typed");
    assert_eq!(user(&alice.session().await.expect("load")).as_deref(), Some("alice"));
    assert_eq!(user(&bob.session().await.expect("load")).as_deref(), Some("bob"));
    alice.request(|s| s.invalidate()).await.expect("logout");
    assert_eq!(user(&alice.session().await.expect("load")), None);
    assert_eq!(user(&bob.session().await.expect("load")).as_deref(), Some("bob"));
}

/// Loads the session of `client` twice, as two concurrent requests of one browser would.
async fn two_requests(client: &TestClient) -> (Session, Session) {
    (client.session().await.expect("load"), client.session().await.expect("load"))
}

async fn save(storage: &Arc<dyn AbstractStorage>, session: &mut Session) -> Option<String> {
    save_if_changed(&**storage, session).await.expect("save")
}

/// Merging storages only: two requests that loaded the same session and wrote different keys both
/// keep their write.
pub async fn concurrent_writes_to_different_keys_both_survive(make: &dyn MakeStorage) {
    let clock = ManualClock::new(T);
    let storage = default_storage(make, &clock).await;
    let client = logged_in(storage.clone()).await;
    let (mut first, mut second) = two_requests(&client).await;
    first.insert("first", 1).expect("int");
    second.insert("second", 2).expect("int");
    let cookies = (save(&storage, &mut first).await, save(&storage, &mut second).await);
    assert_eq!(cookies.0, cookies.1, "both keep the session's cookie");
    let merged = client.session().await.expect("load");
    assert_eq!(merged.get::<String>("user").expect("typed").as_deref(), Some("alice"));
    assert_eq!(merged.get::<i64>("first").expect("typed"), Some(1), "the first write survived the second");
    assert_eq!(merged.get::<i64>("second").expect("typed"), Some(2));
}

/// Merging storages only: on a key both requests wrote, the one that saved last wins.
pub async fn concurrent_writes_to_one_key_keep_the_later(make: &dyn MakeStorage) {
    let clock = ManualClock::new(T);
    let storage = default_storage(make, &clock).await;
    let client = logged_in(storage.clone()).await;
    for (later_saves_second, expected) in [(true, "second"), (false, "first")] {
        let (mut first, mut second) = two_requests(&client).await;
        first.insert("k", "first").expect("str");
        second.insert("k", "second").expect("str");
        if later_saves_second {
            save(&storage, &mut first).await;
            save(&storage, &mut second).await;
        } else {
            save(&storage, &mut second).await;
            save(&storage, &mut first).await;
        }
        let merged = client.session().await.expect("load");
        assert_eq!(merged.get::<String>("k").expect("typed").as_deref(), Some(expected));
        assert_eq!(merged.get::<String>("user").expect("typed").as_deref(), Some("alice"));
    }
}

/// Merging storages only: a write saved after a concurrent invalidation does not bring the session
/// back.
pub async fn invalidate_wins_over_a_concurrent_write(make: &dyn MakeStorage) {
    let clock = ManualClock::new(T);
    let storage = default_storage(make, &clock).await;
    let client = logged_in(storage.clone()).await;
    let (mut logout, mut late) = two_requests(&client).await;
    logout.invalidate();
    late.insert("late", true).expect("bool");
    save(&storage, &mut logout).await;
    let late_cookie = save(&storage, &mut late).await.expect("a cookie answer");
    assert!(late_cookie.split("; ").any(|a| a == "Max-Age=0"), "the late request removes the cookie: {late_cookie}");
    assert_fresh(&client.session().await.expect("load"), "after logout and a late write");
}

/// Property: whatever JSON a session holds (any strings, numbers, nesting; generated by proptest) is
/// what the next request loads, unchanged and in order. Sessions too big for a cookie storage's
/// cookie are skipped (the size guard has its own rule).
pub async fn arbitrary_values_round_trip(make: &dyn MakeStorage) {
    use proptest::strategy::{Strategy, ValueTree};
    use proptest::test_runner::{Config, TestRunner};

    let clock = ManualClock::new(T);
    let storage = default_storage(make, &clock).await;
    let mut runner = TestRunner::new(Config { cases: 96, ..Config::default() });
    let strategy = crate::strategies::session_data();
    let mut checked = 0;
    for _ in 0..96 {
        let data = strategy.new_tree(&mut runner).expect("a value").current();
        let mut client = TestClient::new(storage.clone());
        let saved = client
            .request(|session| {
                for (key, value) in &data {
                    session.insert_value(key.clone(), value.clone());
                }
            })
            .await;
        match saved {
            Err(Error::CookieTooLarge { .. }) => continue,
            Err(error) => panic!("saving {data:?} failed: {error}"),
            Ok(_) if data.is_empty() => continue,
            Ok(_) => {}
        }
        let loaded = client.session().await.expect("load");
        assert_eq!(loaded.as_map(), &data, "round trip of {data:?}");
        checked += 1;
    }
    assert!(checked >= 48, "only {checked} generated sessions fitted; the strategy is too big");
}
