//! Rules of merging storages: concurrent requests on one session keep each other's writes. The
//! writers use different storages on one store, as two processes of one app would, so a store whose
//! compare-and-set does not compare is caught.

use session_core::{FlashLevel, ManualClock, SessionState, StorageConfig};

use super::{T, assert_fresh, default_storage, join_all, logged_in, user};
use crate::client::{OpenRequest, TestClient};
use crate::codecs::ForgedPayloadCodec;
use crate::suite::Suite;

/// Two browsers' worth of one session: the same cookie, each on its own storage (process).
async fn two_processes(suite: &Suite, clock: &ManualClock) -> (TestClient, TestClient) {
    let first = logged_in(default_storage(suite, clock).await).await;
    let mut second = TestClient::new(default_storage(suite, clock).await);
    second.set_cookie(first.cookie().map(str::to_owned));
    (first, second)
}

/// Two requests that loaded the same session and wrote different keys both keep their write.
pub async fn concurrent_writes_to_different_keys_both_survive(suite: &Suite) {
    let clock = ManualClock::new(T);
    let (first, second) = two_processes(suite, &clock).await;
    let (one, two) = (first.begin().await.expect("load"), second.begin().await.expect("load"));
    one.with(|s| s.insert("first", 1)).expect("with").expect("insert");
    two.with(|s| s.insert("second", 2)).expect("with").expect("insert");
    let cookies = (one.finish().await.expect("save"), two.finish().await.expect("save"));
    assert!(cookies.0.is_some() && cookies.1.is_some(), "both keep the session's cookie: {cookies:?}");
    let merged = first.session().await.expect("load");
    assert_eq!(user(&merged).as_deref(), Some("alice"));
    assert_eq!(merged.get::<i64>("first").expect("int"), Some(1), "the first write survived the second");
    assert_eq!(merged.get::<i64>("second").expect("int"), Some(2));
}

/// On a key both requests wrote, the one that saved last wins.
pub async fn concurrent_writes_to_one_key_keep_the_later(suite: &Suite) {
    let clock = ManualClock::new(T);
    let (first, second) = two_processes(suite, &clock).await;
    for (later_is_second, expected) in [(true, "second"), (false, "first")] {
        let (one, two) = (first.begin().await.expect("load"), second.begin().await.expect("load"));
        one.with(|s| s.insert("k", "first")).expect("with").expect("insert");
        two.with(|s| s.insert("k", "second")).expect("with").expect("insert");
        if later_is_second {
            one.finish().await.expect("save");
            two.finish().await.expect("save");
        } else {
            two.finish().await.expect("save");
            one.finish().await.expect("save");
        }
        let merged = first.session().await.expect("load");
        assert_eq!(merged.get::<String>("k").expect("str").as_deref(), Some(expected));
        assert_eq!(user(&merged).as_deref(), Some("alice"));
    }
}

/// A write saved after a concurrent logout does not bring the session back, and sends no cookie (the
/// logout has removed it already).
pub async fn invalidate_wins_over_a_concurrent_write(suite: &Suite) {
    let clock = ManualClock::new(T);
    let (first, second) = two_processes(suite, &clock).await;
    let (logout, late) = (first.begin().await.expect("load"), second.begin().await.expect("load"));
    logout.with(|s| s.invalidate()).expect("with");
    late.with(|s| s.insert("late", true)).expect("with").expect("insert");
    logout.finish().await.expect("save");
    assert_eq!(late.finish().await.expect("save"), None, "the late request sends no cookie");
    assert_fresh(&first.session().await.expect("load"), "after logout and a late write");
}

/// A Python peer logs out by writing `{}` over the entry. Requests that loaded the session before
/// (two in one process, one in another) save after it: none writes over the `{}`, none sends a
/// cookie, and the session stays logged out.
pub async fn a_python_logout_wins_over_concurrent_writes(suite: &Suite) {
    let clock = ManualClock::new(T);
    let (first, second) = two_processes(suite, &clock).await;
    let writers =
        [first.begin().await.expect("load"), first.begin().await.expect("load"), second.begin().await.expect("load")];
    for (n, writer) in writers.iter().enumerate() {
        writer.with(|s| s.insert(format!("late{n}"), n)).expect("with").expect("insert");
    }
    let python = StorageConfig::default().with_codec(ForgedPayloadCodec("{}".to_owned()));
    let mut peer = TestClient::new(super::storage_at(suite, &clock, python).await);
    peer.set_cookie(first.cookie().map(str::to_owned));
    peer.request(|s| s.insert("python", "logout")).await.expect("the peer writes {}").output.expect("insert");
    let saved = join_all(writers.into_iter().map(OpenRequest::finish)).await;
    for (n, saved) in saved.into_iter().enumerate() {
        assert_eq!(saved.expect("save"), None, "writer {n} sends no cookie for a session a peer logged out");
    }
    assert_fresh(&first.session().await.expect("load"), "after a Python logout and late writes");
}

/// Twenty-four requests of one browser at once, spread over four processes, each adding its own key:
/// every key is there afterwards.
pub async fn many_writers_on_one_session_keep_every_write(suite: &Suite) {
    let clock = ManualClock::new(T);
    let first = logged_in(default_storage(suite, &clock).await).await;
    let processes = clients_of(suite, &clock, &first, 4).await;
    let mut requests = Vec::new();
    for n in 0..24 {
        let request = processes[n % 4].begin().await.expect("load");
        request.with(|s| s.insert(format!("writer{n}"), n)).expect("with").expect("insert");
        requests.push(request);
    }
    let saved = join_all(requests.into_iter().map(|request| request.finish())).await;
    assert!(saved.iter().all(|saved| matches!(saved, Ok(Some(_)))), "every save succeeds: {saved:?}");
    let merged = first.session().await.expect("load");
    let missing: Vec<usize> = (0..24).filter(|n| !merged.contains_key(&format!("writer{n}"))).collect();
    assert!(missing.is_empty(), "lost writes of writers {missing:?}");
    assert_eq!(user(&merged).as_deref(), Some("alice"));
}

/// Twenty-four requests of one browser at once, over four processes, on a session holding one flash
/// message and one CSRF token: every third shows the messages (takes them) and each queues its own.
/// Afterwards every request's message is queued once, the one shown is gone, and the token is the same;
/// and on a session without a token, eight requests that each made one leave all eight valid.
pub async fn parallel_flashes_and_csrf_tokens_are_all_kept(suite: &Suite) {
    let clock = ManualClock::new(T);
    let mut first = logged_in(default_storage(suite, &clock).await).await;
    let token = first
        .request(|s| {
            s.flash(FlashLevel::Info, "before")?;
            s.csrf_token()
        })
        .await
        .expect("saved")
        .output
        .expect("a token");
    let processes = clients_of(suite, &clock, &first, 4).await;
    let mut requests = Vec::new();
    for n in 0..24 {
        let request = processes[n % 4].begin().await.expect("load");
        request
            .with(|s| {
                if n % 3 == 0 {
                    s.take_flashes();
                }
                s.flash(FlashLevel::Info, format!("m{n}"))
            })
            .expect("with")
            .expect("flash");
        requests.push(request);
    }
    let saved = join_all(requests.into_iter().map(|request| request.finish())).await;
    assert!(saved.iter().all(|saved| matches!(saved, Ok(Some(_)))), "every save succeeds: {saved:?}");
    let mut merged = first.session().await.expect("load");
    assert!(merged.verify_csrf(&token), "the token survives the merges");
    let mut shown: Vec<String> = merged.take_flashes().into_iter().map(|flash| flash.text).collect();
    shown.sort_unstable();
    let mut expected: Vec<String> = (0..24).map(|n| format!("m{n}")).collect();
    expected.sort_unstable();
    assert_eq!(shown, expected, "every request's message, once, and not the one shown");

    let fresh = logged_in(default_storage(suite, &clock).await).await;
    let processes = clients_of(suite, &clock, &fresh, 4).await;
    let mut requests = Vec::new();
    let mut tokens = Vec::new();
    for n in 0..8 {
        let request = processes[n % 4].begin().await.expect("load");
        tokens.push(request.with(SessionState::csrf_token).expect("with").expect("a token"));
        requests.push(request);
    }
    let saved = join_all(requests.into_iter().map(|request| request.finish())).await;
    assert!(saved.iter().all(|saved| matches!(saved, Ok(Some(_)))), "every save succeeds: {saved:?}");
    let merged = fresh.session().await.expect("load");
    let refused: Vec<&String> = tokens.iter().filter(|token| !merged.verify_csrf(token)).collect();
    assert!(refused.is_empty(), "tokens that parallel pages showed and the session refuses: {refused:?}");
}

/// `count` clients on storages (processes) of their own, all with `browser`'s cookie.
async fn clients_of(suite: &Suite, clock: &ManualClock, browser: &TestClient, count: usize) -> Vec<TestClient> {
    let mut clients = Vec::new();
    for _ in 0..count {
        let mut client = TestClient::new(default_storage(suite, clock).await);
        client.set_cookie(browser.cookie().map(str::to_owned));
        clients.push(client);
    }
    clients
}
