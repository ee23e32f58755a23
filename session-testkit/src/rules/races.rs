//! Rules of server-side storages in either concurrency mode: a session that a request removes (logout,
//! `cycle_id`, `reset`, log-out-everywhere) never comes back, whatever the writes racing it. The
//! writers are spread over four storages on one store, as four processes of one app would be.

use session_core::ManualClock;
use session_core::middleware::describe;
use session_core::server_side::{KeyFactory, RandomHexIds};

use super::{T, assert_fresh, default_storage, join_all, key_of, user};
use crate::client::{OpenRequest, TestClient};
use crate::suite::Suite;

/// Writers of one browser at once; half save before the removal is done, half after it.
const WRITERS: usize = 32;

/// What ends the session halfway through the writers.
#[derive(Clone, Copy, Debug)]
enum Removal {
    Logout,
    CycleId,
    NewSession,
    LogOutEverywhere,
}

/// A session attached to a user, `WRITERS` requests that loaded it and each add a key, and `removal`:
/// half the writers save together with the removal, the other half after it. The old id must find
/// nothing afterwards, its entry must be gone, and the writers that saved after the removal must not
/// have sent its cookie back to the browser.
async fn race(suite: &Suite, removal: Removal) {
    let clock = ManualClock::new(T);
    let user_id = format!("racer-{}", RandomHexIds.new_id().expect("an id"));
    let mut first = TestClient::new(default_storage(suite, &clock).await);
    first.login(&user_id).await.expect("login");
    let (old_cookie, old_key) = (first.cookie().map(str::to_owned), key_of(&first));
    let mut processes = Vec::new();
    for _ in 0..4 {
        let mut process = TestClient::new(default_storage(suite, &clock).await);
        process.set_cookie(old_cookie.clone());
        processes.push(process);
    }
    let mut writers: Vec<OpenRequest> = Vec::new();
    for n in 0..WRITERS {
        let request = processes[n % 4].begin().await.expect("load");
        request.with(|s| s.insert(format!("writer{n}"), n)).expect("with").expect("insert");
        writers.push(request);
    }
    let remover = processes[1].begin().await.expect("load");
    match removal {
        Removal::Logout => remover.with(|s| s.invalidate()).expect("with"),
        Removal::CycleId => remover.cycle_id().expect("cycle"),
        Removal::NewSession => {
            remover.reset().expect("reset");
            remover.with(|s| s.insert("user", "bob")).expect("with").expect("insert");
        }
        Removal::LogOutEverywhere => {}
    }
    let late = writers.split_off(WRITERS / 2);
    let remove = async {
        match removal {
            Removal::LogOutEverywhere => {
                processes[2].storage().log_out_everywhere(&user_id).await.expect("log out everywhere");
                None
            }
            _ => remover.finish().await.expect("the removal is saved"),
        }
    };
    let early = join_all(writers.into_iter().map(OpenRequest::finish));
    let (removed_cookie, early) = futures_join(remove, early).await;
    for (n, saved) in early.into_iter().enumerate() {
        saved.unwrap_or_else(|error| {
            panic!("{removal:?}: writer {n}, saving beside the removal, failed: {}", describe(&error))
        });
    }
    let late = join_all(late.into_iter().map(OpenRequest::finish)).await;
    for (n, saved) in late.into_iter().enumerate() {
        let cookie = saved
            .unwrap_or_else(|error| panic!("{removal:?}: writer {n} after the removal failed: {}", describe(&error)));
        if !matches!(removal, Removal::LogOutEverywhere) {
            assert_eq!(cookie, None, "{removal:?}: a save of a removed session sends no cookie, writes nothing");
        }
    }

    let mut replay = TestClient::new(default_storage(suite, &clock).await);
    replay.set_cookie(old_cookie);
    assert_fresh(&replay.session().await.expect("load"), &format!("{removal:?} racing {WRITERS} writers"));
    assert_eq!(suite.entry(&old_key).await, None, "{removal:?}: the removed entry is not written back");
    if let Some(header) = removed_cookie {
        let mut successor = TestClient::new(default_storage(suite, &clock).await);
        successor.accept(&header);
        let expected = match removal {
            Removal::CycleId => Some(user_id.as_str()),
            Removal::NewSession => Some("bob"),
            _ => None,
        };
        assert_eq!(user(&successor.session().await.expect("load")).as_deref(), expected, "{removal:?}: the successor");
    }
}

/// Both futures polled together on this task: what each gives.
async fn futures_join<A: std::future::Future, B: std::future::Future>(a: A, b: B) -> (A::Output, B::Output) {
    let (mut a, mut b) = (std::pin::pin!(a), std::pin::pin!(b));
    let (mut left, mut right) = (None, None);
    std::future::poll_fn(|cx| {
        if left.is_none()
            && let std::task::Poll::Ready(value) = a.as_mut().poll(cx)
        {
            left = Some(value);
        }
        if right.is_none()
            && let std::task::Poll::Ready(value) = b.as_mut().poll(cx)
        {
            right = Some(value);
        }
        if left.is_some() && right.is_some() { std::task::Poll::Ready(()) } else { std::task::Poll::Pending }
    })
    .await;
    (left.expect("polled to the end"), right.expect("polled to the end"))
}

/// A logout racing 32 writers of the session: none of them writes it back.
pub async fn a_logout_racing_writers_never_comes_back(suite: &Suite) {
    race(suite, Removal::Logout).await;
}

/// `cycle_id` racing 32 writers: the old id is gone for good, the new one holds the session.
pub async fn a_cycled_id_racing_writers_never_comes_back(suite: &Suite) {
    race(suite, Removal::CycleId).await;
}

/// `reset` (a login) racing 32 writers: the replaced session is gone for good.
pub async fn a_replaced_session_racing_writers_never_comes_back(suite: &Suite) {
    race(suite, Removal::NewSession).await;
}

/// Log-out-everywhere racing 32 writers of one of the user's sessions: the session stays ended.
pub async fn log_out_everywhere_racing_writers_never_comes_back(suite: &Suite) {
    race(suite, Removal::LogOutEverywhere).await;
}
