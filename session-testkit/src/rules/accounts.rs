//! Rules of accounts: logging in, how long a session is kept (remember-me, the browser's session, the
//! default lifetime), log-out-everywhere without clocks, and a user's devices.

use std::sync::Arc;
use std::time::Duration;

use session_core::accounts::{Device, DeviceId, Devices};
use session_core::server_side::{KeyFactory, RandomHexIds};
use session_core::{AbstractStorage, ManualClock, StorageConfig};

use super::{T, assert_fresh, default_storage, key_of, storage_at, user};
use crate::client::TestClient;
use crate::suite::Suite;

const HOUR: u64 = 3600;
const DAY: u64 = 24 * HOUR;

/// The `Max-Age` of a `Set-Cookie` header value, if it has one.
fn max_age(set_cookie: &str) -> Option<u64> {
    set_cookie.split("; ").find_map(|attribute| attribute.strip_prefix("Max-Age=")).and_then(|v| v.parse().ok())
}

/// A user id no rule shares with another run on the same store.
fn someone(name: &str) -> String {
    format!("{name}-{}", RandomHexIds.new_id().expect("an id"))
}

/// A login starts a fresh session under a new cookie with the user attached, whatever the visitor held
/// before; `clear()` keeps the login, `invalidate()` ends it.
pub async fn login_starts_a_fresh_session_with_the_user(suite: &Suite) {
    let clock = ManualClock::new(T);
    let mut client = TestClient::new(default_storage(suite, &clock).await);
    client.request(|s| s.insert("planted", true)).await.expect("save").output.expect("insert");
    let before = client.cookie().map(str::to_owned);
    client.login("alice").await.expect("login");
    assert_ne!(client.cookie(), before.as_deref(), "a login sends a new cookie");
    let session = client.session().await.expect("load");
    assert_eq!(session.user(), Some("alice"));
    assert_eq!(session.get::<bool>("planted").expect("bool"), None, "nothing of what was there before");
    let cleared = client.request(|s| s.clear()).await.expect("clear");
    assert!(cleared.set_cookie.is_some());
    assert_eq!(client.session().await.expect("load").user(), Some("alice"), "clear() keeps the login");
    client.request(|s| s.invalidate()).await.expect("logout");
    assert_eq!(client.session().await.expect("load").user(), None, "invalidate() ends it");
}

/// Remember-me: a session kept for 7 days outlives the storage's one-hour `max_age` (the cookie's
/// `Max-Age` says 7 days), ends after 7 idle days, and a longer wish is capped at the remember limit.
pub async fn remember_me_outlives_the_idle_limit_up_to_the_remember_limit(suite: &Suite) {
    let clock = ManualClock::new(T);
    let config = StorageConfig::new().with_max_age(Duration::from_secs(HOUR));
    let mut client = TestClient::new(storage_at(suite, &clock, config).await);
    client.login("alice").await.expect("login");
    let remembered = client.request(|s| s.remember_for(Duration::from_secs(7 * DAY))).await.expect("remember");
    let header = remembered.set_cookie.expect("a cookie");
    assert_eq!(max_age(&header), Some(7 * DAY), "the cookie lasts as long as it is remembered: {header}");
    clock.advance(6 * DAY as i64);
    assert_eq!(client.session().await.expect("load").user(), Some("alice"), "6 days on, past the 1-hour max_age");
    clock.advance(DAY as i64 + 1);
    assert_eq!(client.session().await.expect("load").user(), None, "7 idle days later it is over");

    let mut forever = TestClient::new(storage_at(suite, &clock, StorageConfig::new()).await);
    forever.login("bob").await.expect("login");
    let capped = forever.request(|s| s.remember_for(Duration::from_secs(365 * DAY))).await.expect("remember");
    assert_eq!(max_age(&capped.set_cookie.expect("a cookie")), Some(30 * DAY), "capped at the 30-day limit");
    clock.advance(30 * DAY as i64 + 1);
    assert_eq!(forever.session().await.expect("load").user(), None, "the limit ends it");
}

/// A session that ends with the browser: its cookie has no `Max-Age`, and the storage's limit still
/// ends it.
pub async fn a_session_that_ends_with_the_browser_sends_no_max_age(suite: &Suite) {
    let clock = ManualClock::new(T);
    let config = StorageConfig::new().with_max_age(Duration::from_secs(HOUR));
    let mut client = TestClient::new(storage_at(suite, &clock, config).await);
    client.login("alice").await.expect("login");
    let saved = client.request(|s| s.end_with_browser()).await.expect("save");
    let header = saved.set_cookie.expect("a cookie");
    assert_eq!(max_age(&header), None, "a browser-session cookie: {header}");
    assert!(!header.contains("Expires="), "{header}");
    clock.advance(HOUR as i64 + 1);
    assert_eq!(client.session().await.expect("load").user(), None, "the one-hour limit still applies");
}

/// With no limit configured at all, a session still ends: two weeks after its last write (a copied
/// cookie stops working, an entry expires).
pub async fn without_a_limit_a_session_ends_two_weeks_after_its_last_write(suite: &Suite) {
    let clock = ManualClock::new(T);
    let mut client = TestClient::new(default_storage(suite, &clock).await);
    client.request(|s| s.insert("user", "alice")).await.expect("save").output.expect("insert");
    clock.advance(14 * DAY as i64);
    assert_eq!(user(&client.session().await.expect("load")).as_deref(), Some("alice"), "two weeks on: alive");
    clock.advance(1);
    assert!(client.session().await.expect("load").is_empty(), "two weeks and a second: over");
}

/// A login deletes the entry of the session it replaced (server-side), and the old cookie finds nothing.
pub async fn login_deletes_the_entry_it_replaced(suite: &Suite) {
    let clock = ManualClock::new(T);
    let mut client = TestClient::new(default_storage(suite, &clock).await);
    client.request(|s| s.insert("cart", 1)).await.expect("save").output.expect("insert");
    let (old_key, old_cookie) = (key_of(&client), client.cookie().map(str::to_owned));
    client.login("alice").await.expect("login");
    assert_ne!(key_of(&client), old_key);
    assert_eq!(suite.entry(&old_key).await, None, "the replaced entry is deleted");
    let mut replay = TestClient::new(client.storage().clone());
    replay.set_cookie(old_cookie);
    assert_fresh(&replay.session().await.expect("load"), "the cookie from before the login");
}

/// A remembered session's entry lives as long as it is remembered; one that ends with the browser still
/// has an entry that expires.
pub async fn entries_live_as_long_as_their_session_is_kept(suite: &Suite) {
    let clock = ManualClock::new(T);
    let config = StorageConfig::new().with_max_age(Duration::from_secs(HOUR));
    let mut client = TestClient::new(storage_at(suite, &clock, config.clone()).await);
    client.login("alice").await.expect("login");
    client.request(|s| s.remember_for(Duration::from_secs(7 * DAY))).await.expect("remember");
    let entry = suite.entry(&key_of(&client)).await.expect("stored");
    let ttl = entry.ttl.expect("a TTL").as_secs();
    assert!(ttl > 6 * DAY && ttl <= 7 * DAY, "the entry lives as long as the session is remembered: {ttl} s");
    let mut browser = TestClient::new(storage_at(suite, &clock, config).await);
    browser.login("bob").await.expect("login");
    browser.request(|s| s.end_with_browser()).await.expect("save");
    let entry = suite.entry(&key_of(&browser)).await.expect("stored");
    assert!(entry.ttl.is_some_and(|ttl| ttl <= Duration::from_secs(HOUR)), "it still expires: {entry:?}");
}

/// Log-out-everywhere orders logins and log-outs by the store, never by the clocks of the app's hosts:
/// with one process 60 s ahead and another 60 s behind, a log-out from either ends every earlier login
/// of the user on both, and spares every later one.
pub async fn log_out_everywhere_reads_no_clock(suite: &Suite) {
    let (clock_ahead, clock_behind) = (ManualClock::new(T + 60), ManualClock::new(T - 60));
    let alice = someone("alice");
    let ahead = storage_at(suite, &clock_ahead, StorageConfig::new()).await;
    let behind = storage_at(suite, &clock_behind, StorageConfig::new()).await;
    let mut bob = TestClient::new(ahead.clone());
    bob.login("bob").await.expect("login");
    for (first, second) in [(&ahead, &behind), (&behind, &ahead)] {
        let mut earlier = [TestClient::new(first.clone()), TestClient::new(second.clone())];
        for client in &mut earlier {
            client.login(&alice).await.expect("login");
        }
        second.log_out_everywhere(&alice).await.expect("log out everywhere");
        for (n, client) in earlier.iter().enumerate() {
            assert_eq!(client.session().await.expect("load").user(), None, "earlier login {n} is over");
        }
        assert_eq!(bob.session().await.expect("load").user(), Some("bob"), "another user's login lives");
        let mut later = [TestClient::new(first.clone()), TestClient::new(second.clone())];
        for client in &mut later {
            client.login(&alice).await.expect("login");
        }
        for (n, client) in later.iter().enumerate() {
            assert_eq!(client.session().await.expect("load").user(), Some(alice.as_str()), "later login {n} lives");
        }
    }
}

/// Any user id works: one of 1,000 bytes logs in and out everywhere on every store (store keys hold a
/// hash of it).
pub async fn a_user_id_of_a_thousand_bytes_logs_out_everywhere(suite: &Suite) {
    let clock = ManualClock::new(T);
    let storage = default_storage(suite, &clock).await;
    let long = format!("{}{}", someone("long"), "x".repeat(1000));
    assert!(long.len() >= 1000);
    let mut client = TestClient::new(storage.clone());
    client.login(&long).await.expect("a long user id logs in");
    assert_eq!(client.session().await.expect("load").user(), Some(long.as_str()));
    storage.log_out_everywhere(&long).await.expect("and out everywhere");
    assert_eq!(client.session().await.expect("load").user(), None);
}

/// Each login of a user is one device in their list, with when it logged in, when it was last seen and
/// its label; another user's logins are not.
pub async fn devices_list_every_login_of_the_user(suite: &Suite) {
    let clock = ManualClock::new(T);
    let storage = suite.devices(StorageConfig::new().with_clock(clock.clock())).await;
    let (alice, bob) = (someone("alice"), someone("bob"));
    let laptop = login_on(&storage, &alice, "laptop").await;
    clock.advance(10);
    let mut phone = login_on(&storage, &alice, "phone").await;
    let _bobs = login_on(&storage, &bob, "bob's").await;
    clock.advance(5);
    phone.request(|s| s.insert("seen", true)).await.expect("a write").output.expect("insert");
    let devices = sorted(storage.devices(&alice).await.expect("devices"));
    let labels: Vec<_> = devices.iter().map(|d| d.label.as_deref().unwrap_or("?")).collect();
    assert_eq!(labels, ["laptop", "phone"], "alice's two devices, and only hers: {devices:?}");
    assert_eq!((devices[0].logged_in, devices[0].last_seen), (Some(T), T), "{:?}", devices[0]);
    assert_eq!((devices[1].logged_in, devices[1].last_seen), (Some(T + 10), T + 15), "{:?}", devices[1]);
    assert_eq!(devices[0].id, device_of(&laptop), "a device's handle is its session's");
    assert_eq!(storage.devices(&bob).await.expect("devices").len(), 1);
}

/// Ending one device ends that session alone: its cookie finds nothing, the others live and stay in
/// the list; a handle that is not the user's ends nothing.
pub async fn ending_a_device_leaves_the_others(suite: &Suite) {
    let clock = ManualClock::new(T);
    let storage = suite.devices(StorageConfig::new().with_clock(clock.clock())).await;
    let (alice, bob) = (someone("alice"), someone("bob"));
    let laptop = login_on(&storage, &alice, "laptop").await;
    let phone = login_on(&storage, &alice, "phone").await;
    let bobs = login_on(&storage, &bob, "bob's").await;
    assert!(!storage.end_device(&alice, &device_of(&bobs)).await.expect("end"), "not alice's device");
    assert!(storage.end_device(&alice, &device_of(&phone)).await.expect("end"), "alice's phone");
    assert_eq!(phone.session().await.expect("load").user(), None, "the phone is logged out");
    assert_eq!(laptop.session().await.expect("load").user(), Some(alice.as_str()), "the laptop is not");
    assert_eq!(bobs.session().await.expect("load").user(), Some(bob.as_str()));
    let left: Vec<_> = storage.devices(&alice).await.expect("devices").into_iter().map(|d| d.id).collect();
    assert_eq!(left, [device_of(&laptop)]);
    assert!(!storage.end_device(&alice, &device_of(&phone)).await.expect("end"), "already ended");
}

/// After log-out-everywhere the list is empty, a later login is its one device, and a second
/// log-out-everywhere ends that one too; a user id of 1,000 bytes has devices too.
pub async fn log_out_everywhere_empties_the_device_list(suite: &Suite) {
    let clock = ManualClock::new(T);
    let storage = suite.devices(StorageConfig::new().with_clock(clock.clock())).await;
    let alice = format!("{}{}", someone("alice"), "x".repeat(1000));
    for label in ["laptop", "phone"] {
        login_on(&storage, &alice, label).await;
    }
    assert_eq!(storage.devices(&alice).await.expect("devices").len(), 2);
    storage.log_out_everywhere(&alice).await.expect("log out everywhere");
    assert_eq!(storage.devices(&alice).await.expect("devices"), [], "every session ended");
    let again = login_on(&storage, &alice, "tablet").await;
    let devices = storage.devices(&alice).await.expect("devices");
    assert_eq!(devices.iter().map(|d| d.id.clone()).collect::<Vec<_>>(), [device_of(&again)], "the later login lives");
    storage.log_out_everywhere(&alice).await.expect("log out everywhere, again");
    assert_eq!(storage.devices(&alice).await.expect("devices"), [], "and a second log-out ends it too");
}

/// A browser that logged in as `user` on `storage`, its device labelled `label`.
async fn login_on(storage: &Arc<dyn Devices>, user: &str, label: &str) -> TestClient {
    let mut client = TestClient::new(Arc::clone(storage) as Arc<dyn AbstractStorage>);
    let request = client.begin().await.expect("load");
    request.login(user).expect("login");
    request.with(|s| s.insert("user", user).map(|()| s.set_device_label(label))).expect("with").expect("insert");
    client.accept(&request.finish().await.expect("save").expect("a cookie"));
    client
}

/// The handle of the device `client` is on.
fn device_of(client: &TestClient) -> DeviceId {
    DeviceId::of(&session_core::cookie::unquote(client.cookie().expect("a cookie")))
}

fn sorted(mut devices: Vec<Device>) -> Vec<Device> {
    devices.sort_by_key(|device| device.logged_in);
    devices
}
