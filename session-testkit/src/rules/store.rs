//! Rules of server-side storages, checked in the store itself through the suite's probe: what a user
//! cannot see (an entry left behind, an entry that never expires) is a leak all the same.

use std::time::Duration;

use serde_json::json;
use session_core::server_side::{KeyFactory, RandomHexIds};
use session_core::{ManualClock, StorageConfig};

use super::{T, default_storage, key_of, logged_in, storage_at, user};
use crate::client::TestClient;
use crate::suite::Suite;

/// After a logout the entry is gone from the store, and the logged-out id replayed finds nothing.
pub async fn logged_out_id_finds_nothing_and_its_entry_is_gone(suite: &Suite) {
    let clock = ManualClock::new(T);
    let mut client = logged_in(default_storage(suite, &clock).await).await;
    let key = key_of(&client);
    let old_cookie = client.cookie().map(str::to_owned);
    assert!(suite.entry(&key).await.is_some(), "a saved session is in the store under {key}");
    let logout = client.request(|s| s.invalidate()).await.expect("logout");
    assert!(logout.set_cookie.expect("a cookie").contains("Max-Age=0"), "logout removes the cookie");
    assert_eq!(suite.entry(&key).await, None, "the logged-out entry must leave the store");
    client.set_cookie(old_cookie);
    let replayed = client.session().await.expect("load");
    assert!(replayed.is_new() && replayed.is_empty(), "a replayed logged-out id finds nothing");
}

/// The store's own expiry (real time): an entry written with `max_age` = 1 s is never served once it
/// has expired, and it is gone from the store within the bound the suite was told
/// ([`Suite::purge_within`]): a store that expires lazily (a SQL table and its reaper) purges it
/// later than one that expires it on time (Redis, memcached), but it must purge it.
pub async fn expired_entry_leaves_the_store(suite: &Suite) {
    let storage = suite.storage(StorageConfig::new().with_max_age(Duration::from_secs(1))).await;
    let mut client = logged_in(storage).await;
    let key = key_of(&client);
    let entry = suite.entry(&key).await.expect("saved");
    assert!(entry.ttl.is_some_and(|ttl| ttl <= Duration::from_secs(1)), "written with a 1 s TTL: {entry:?}");
    let expired = std::time::Instant::now() + Duration::from_secs(1);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let after = client.request(|s| s.is_new()).await.expect("a load after the TTL");
    assert!(after.output, "an expired entry was served as the session");
    let bound = suite.purge_bound();
    while suite.entry(&key).await.is_some() {
        assert!(
            std::time::Instant::now() < expired + bound,
            "the store still holds the entry {bound:?} after its 1 s TTL ended: it never purges it (a store that \
             expires lazily tells the suite its bound with `Suite::purge_within`)"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Two tabs of one browser log out at the same time: both answer success (deleting an entry that
/// the other tab just deleted is not an error), and the session is gone.
pub async fn two_tabs_logging_out_at_once_both_succeed(suite: &Suite) {
    let clock = ManualClock::new(T);
    let client = logged_in(default_storage(suite, &clock).await).await;
    let key = key_of(&client);
    let (first, second) = (client.begin().await.expect("load"), client.begin().await.expect("load"));
    first.with(|s| s.invalidate()).expect("invalidate");
    second.with(|s| s.invalidate()).expect("invalidate");
    let first = first.finish().await;
    let second = second.finish().await;
    assert!(first.is_ok(), "the first logout failed: {first:?}");
    assert!(second.is_ok(), "the second tab's logout failed after the first deleted the entry: {second:?}");
    assert_eq!(suite.entry(&key).await, None, "the logged-out entry is gone");
}

/// With no limit configured, entries still expire (a default TTL); with an idle timeout, an entry
/// lives no longer than it.
pub async fn entries_expire_without_max_age(suite: &Suite) {
    let clock = ManualClock::new(T);
    let client = logged_in(default_storage(suite, &clock).await).await;
    let entry = suite.entry(&key_of(&client)).await.expect("saved");
    assert!(entry.ttl.is_some(), "an entry without max_age must still expire, or every visitor leaves one forever");
    let idle = StorageConfig::new().with_idle_timeout(Duration::from_secs(600));
    let client = logged_in(storage_at(suite, &clock, idle).await).await;
    let entry = suite.entry(&key_of(&client)).await.expect("saved");
    assert!(
        entry.ttl.is_some_and(|ttl| ttl <= Duration::from_secs(600)),
        "the idle timeout bounds the entry: {entry:?}"
    );
}

/// `reset()` at login deletes the entry of the session it replaced, once the new one is saved.
pub async fn reset_deletes_the_replaced_entry(suite: &Suite) {
    let clock = ManualClock::new(T);
    let mut client = logged_in(default_storage(suite, &clock).await).await;
    let old_key = key_of(&client);
    let request = client.begin().await.expect("load");
    request.reset().expect("reset");
    request.with(|s| s.insert("user", "bob")).expect("with").expect("insert");
    client.accept(&request.finish().await.expect("save").expect("a cookie"));
    let new_key = key_of(&client);
    assert_ne!(new_key, old_key);
    assert!(suite.entry(&new_key).await.is_some(), "the new session is stored");
    assert_eq!(suite.entry(&old_key).await, None, "the replaced entry is deleted");
}

/// `cycle_id()` moves the data under a new id and deletes the old entry.
pub async fn cycle_id_deletes_the_old_entry(suite: &Suite) {
    let clock = ManualClock::new(T);
    let mut client = logged_in(default_storage(suite, &clock).await).await;
    let old_key = key_of(&client);
    let request = client.begin().await.expect("load");
    request.cycle_id().expect("cycle");
    client.accept(&request.finish().await.expect("save").expect("a cookie"));
    let new_key = key_of(&client);
    assert_ne!(new_key, old_key);
    assert_eq!(suite.entry(&old_key).await, None, "the old entry is deleted");
    assert_eq!(user(&client.session().await.expect("load")).as_deref(), Some("alice"), "the data moved");
}

/// A 64 KiB payload (no cookie could hold it) is stored and read back byte for byte.
pub async fn large_payloads_round_trip(suite: &Suite) {
    let clock = ManualClock::new(T);
    let mut client = TestClient::new(default_storage(suite, &clock).await);
    // Letters from a fixed LCG: nothing shortens them.
    let mut state = 7u32;
    let big: String = (0..64 * 1024)
        .map(|_| {
            state = state.wrapping_mul(1_103_515_245).wrapping_add(12345);
            char::from(b'a' + (state >> 16) as u8 % 26)
        })
        .collect();
    client.request(|s| s.insert("big", &big)).await.expect("save").output.expect("insert");
    let loaded = client.session().await.expect("load");
    assert_eq!(loaded.get::<String>("big").expect("str").map(|s| s.len()), Some(big.len()), "the length is kept");
    assert_eq!(loaded.get::<String>("big").expect("str"), Some(big), "every byte is kept");
}

/// Sessions saved under ids made of every character the default ids use each come back as themselves.
pub async fn ids_of_every_character_the_factory_makes(suite: &Suite) {
    let clock = ManualClock::new(T);
    let storage = default_storage(suite, &clock).await;
    // A random half, so runs that share a store never meet, and a half that holds every hex digit.
    let random = RandomHexIds.new_id().expect("an id");
    let ids: Vec<String> = ["0123456789abcdef", "fedcba9876543210", "aaaaaaaaaaaaaaaa", "0000000000000000"]
        .iter()
        .map(|tail| format!("{}{tail}", &random[..16]))
        .collect();
    let mut clients = Vec::new();
    for id in &ids {
        let id = id.as_str();
        let mut client = TestClient::new(storage.clone());
        client
            .request(|s| s.set_new_identity(id).and_then(|()| s.insert("id", id)))
            .await
            .expect("save")
            .output
            .expect("identity and insert");
        assert_eq!(session_core::cookie::unquote(client.cookie().expect("cookie")), id, "the cookie is the id");
        clients.push((id, client));
    }
    for (id, client) in &clients {
        let session = client.session().await.expect("load");
        assert_eq!(session.get::<String>("id").expect("str").as_deref(), Some(*id), "session {id}");
        assert_eq!(&session.to_map(), json!({"id": id}).as_object().expect("object"));
    }
}

/// Logging a user out everywhere ends every session attached to that user, in every process, and no
/// one else's; a login after it lives on.
pub async fn log_out_everywhere_ends_only_that_users_sessions(suite: &Suite) {
    let clock = ManualClock::new(T);
    let user_key = format!("alice-{}", RandomHexIds.new_id().expect("an id"));
    let clock = &clock;
    let login = |as_user: String| async move {
        let mut client = TestClient::new(default_storage(suite, clock).await);
        client.login(&as_user).await.expect("login");
        client
    };
    let (alice_laptop, alice_phone, bob) =
        (login(user_key.clone()).await, login(user_key.clone()).await, login("bob".to_owned()).await);
    default_storage(suite, clock).await.log_out_everywhere(&user_key).await.expect("log out everywhere");
    for (device, client) in [("laptop", &alice_laptop), ("phone", &alice_phone)] {
        let session = client.session().await.expect("load");
        assert!(session.is_empty() && session.is_new(), "alice's {device} is logged out: {:?}", session.to_map());
        assert_eq!(suite.entry(&key_of(client)).await, None, "alice's {device} entry is deleted");
    }
    assert_eq!(user(&bob.session().await.expect("load")).as_deref(), Some("bob"), "bob is untouched");
    let again = login(user_key.clone()).await;
    assert_eq!(user(&again.session().await.expect("load")).as_deref(), Some(user_key.as_str()), "a new login lives");
}

/// A session loaded past its limit is over for good: its entry is deleted when the load finds it, and
/// the visitor's next write gets a new id (a copied cookie of the ended session is worth nothing).
pub async fn an_ended_session_gets_a_new_id(suite: &Suite) {
    let clock = ManualClock::new(T);
    let config = StorageConfig::new().with_max_age(Duration::from_secs(60));
    let mut client = logged_in(storage_at(suite, &clock, config).await).await;
    let old_key = key_of(&client);
    clock.advance(61);
    super::assert_fresh(&client.session().await.expect("load"), "loaded past max_age");
    assert_eq!(suite.entry(&old_key).await, None, "an entry found past its limit is deleted");
    client.request(|s| s.insert("user", "bob")).await.expect("save").output.expect("insert");
    assert_ne!(key_of(&client), old_key, "the next write has a new id");
    assert_eq!(user(&client.session().await.expect("load")).as_deref(), Some("bob"));
}

/// An entry lives no longer than what is left of the absolute timeout, however long the idle limit:
/// a Python peer, which knows nothing of the absolute timeout, must not find it alive past the end.
pub async fn an_entry_ends_with_the_absolute_timeout(suite: &Suite) {
    let clock = ManualClock::new(T);
    let config = StorageConfig::new()
        .with_idle_timeout(Duration::from_secs(600))
        .with_absolute_timeout(Duration::from_secs(100));
    let mut client = logged_in(storage_at(suite, &clock, config).await).await;
    clock.advance(90);
    client.request(|s| s.insert("n", 1)).await.expect("save").output.expect("insert");
    let entry = suite.entry(&key_of(&client)).await.expect("saved");
    assert!(
        entry.ttl.is_some_and(|ttl| ttl <= Duration::from_secs(10)),
        "10 s are left of the absolute timeout, not the 600 s idle limit: {entry:?}"
    );
}

/// Several rotations in one request (`cycle_id`, then `reset`, then `cycle_id` again): the stored
/// session they replaced is deleted, and only the last one is stored.
pub async fn rotations_in_one_request_delete_the_stored_entry(suite: &Suite) {
    let clock = ManualClock::new(T);
    let mut client = logged_in(default_storage(suite, &clock).await).await;
    let old_key = key_of(&client);
    let request = client.begin().await.expect("load");
    request.cycle_id().expect("cycle");
    request.reset().expect("reset");
    request.with(|s| s.insert("user", "bob")).expect("with").expect("insert");
    request.cycle_id().expect("cycle again");
    client.accept(&request.finish().await.expect("save").expect("a cookie"));
    assert_ne!(key_of(&client), old_key);
    assert_eq!(suite.entry(&old_key).await, None, "the entry stored before the rotations is deleted");
    assert_eq!(user(&client.session().await.expect("load")).as_deref(), Some("bob"));
}

/// A new session given the id of a stored one (`set_new_identity`) never writes over it: the save is
/// refused (or takes another id), and the stored session is untouched.
pub async fn a_new_id_never_takes_over_a_stored_session(suite: &Suite) {
    let clock = ManualClock::new(T);
    let storage = default_storage(suite, &clock).await;
    let id = RandomHexIds.new_id().expect("an id");
    let mut owner = TestClient::new(storage.clone());
    let claim = |who: &'static str| {
        let id = id.clone();
        move |s: &mut session_core::SessionState| s.set_new_identity(id).and_then(|()| s.insert("user", who))
    };
    owner.request(claim("alice")).await.expect("save").output.expect("identity and insert");
    let mut intruder = TestClient::new(storage);
    match intruder.request(claim("mallory")).await {
        Err(_) => {}
        Ok(taken) => {
            taken.output.expect("identity and insert");
            let cookie = taken.set_cookie.unwrap_or_default();
            assert!(!cookie.contains(&id), "a second session was saved under a taken id: {cookie}");
        }
    }
    assert_eq!(
        user(&owner.session().await.expect("load")).as_deref(),
        Some("alice"),
        "the stored session is untouched"
    );
}

/// A logout and a write in one request (a goodbye message kept after logging out): the logged-out id
/// finds nothing afterwards, and what was written lives under a new id.
pub async fn a_write_after_logout_is_a_new_session_under_a_new_id(suite: &Suite) {
    let clock = ManualClock::new(T);
    let mut client = logged_in(default_storage(suite, &clock).await).await;
    let (old_key, old_cookie) = (key_of(&client), client.cookie().map(str::to_owned));
    let saved = client
        .request(|s| {
            s.invalidate();
            s.insert("flash", "bye")
        })
        .await
        .expect("save");
    saved.output.expect("insert");
    assert!(saved.set_cookie.is_some(), "the new session's cookie");
    assert_ne!(key_of(&client), old_key, "the written data lives under a new id");
    assert_eq!(suite.entry(&old_key).await, None, "the logged-out entry is gone");
    let session = client.session().await.expect("load");
    assert_eq!(session.get::<String>("flash").expect("str").as_deref(), Some("bye"));
    assert_eq!(user(&session), None, "nothing of the logged-out session");
    let mut replay = TestClient::new(client.storage().clone());
    replay.set_cookie(old_cookie);
    super::assert_fresh(&replay.session().await.expect("load"), "the logged-out id");
}
