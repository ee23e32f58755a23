//! Rules of expiry: aiohttp-session's `max_age`, an idle timeout that reads refresh, an absolute
//! lifetime. A manual clock moves time; nothing sleeps.

use std::time::Duration;

use session_core::{ManualClock, StorageConfig};

use super::{T, logged_in, storage_at, user};
use crate::suite::Suite;

/// `max_age` is an idle timeout: valid at exactly `max_age` seconds after the last write, gone one
/// second later.
pub async fn max_age_counts_from_the_last_write(suite: &Suite) {
    let clock = ManualClock::new(T);
    let config = StorageConfig::new().with_max_age(Duration::from_secs(60));
    let client = logged_in(storage_at(suite, &clock, config).await).await;
    clock.advance(60);
    let session = client.session().await.expect("load");
    assert_eq!(session.get::<String>("user").expect("typed").as_deref(), Some("alice"), "age == max_age is valid");
    assert_eq!(session.max_age(), Some(Duration::from_secs(60)));
    clock.advance(1);
    let expired = client.session().await.expect("load");
    assert!(expired.is_empty(), "one second past max_age the data is gone");
}

/// Under an idle timeout, reads count as use: a session only read keeps living past the timeout since
/// its last write, and ends once unused for longer than the timeout.
pub async fn reads_keep_an_idle_session_alive(suite: &Suite) {
    let clock = ManualClock::new(T);
    let config = StorageConfig::new().with_idle_timeout(Duration::from_secs(60));
    let mut client = logged_in(storage_at(suite, &clock, config).await).await;
    for at in [40, 80, 120, 160] {
        clock.set(T + at);
        let read = client.request(|s| user(s)).await.expect("read");
        assert_eq!(read.output.as_deref(), Some("alice"), "alive at +{at}s: reads at +40, +80… keep it");
    }
    clock.set(T + 160 + 60);
    assert_eq!(user(&client.session().await.expect("load")).as_deref(), Some("alice"), "60 s after the last use");
    clock.set(T + 160 + 61);
    assert_eq!(user(&client.session().await.expect("load")), None, "61 s after the last use it is over");
}

/// A read refreshes the session (a save: a new cookie, a rewritten entry) at most once per refresh
/// interval, by default half the idle timeout.
pub async fn a_read_refreshes_at_most_once_per_interval(suite: &Suite) {
    let clock = ManualClock::new(T);
    let config = StorageConfig::new().with_idle_timeout(Duration::from_secs(60));
    let mut client = logged_in(storage_at(suite, &clock, config).await).await;
    let mut refreshed = Vec::new();
    for at in [10, 29, 30, 45, 59, 61, 100] {
        clock.set(T + at);
        let read = client.request(|s| user(s)).await.expect("read");
        assert_eq!(read.output.as_deref(), Some("alice"));
        if read.set_cookie.is_some() {
            refreshed.push(at);
        }
    }
    assert_eq!(refreshed, [30, 61, 100], "refreshed when 30 s had passed since the last refresh");
}

/// An absolute timeout ends a session at its end however active it is; a new login starts a new one.
pub async fn absolute_timeout_ends_an_active_session(suite: &Suite) {
    let clock = ManualClock::new(T);
    let config =
        StorageConfig::new().with_idle_timeout(Duration::from_secs(60)).with_absolute_timeout(Duration::from_secs(100));
    let mut client = logged_in(storage_at(suite, &clock, config).await).await;
    for at in [30, 60, 90, 100] {
        clock.set(T + at);
        let write = client.request(|s| s.insert("at", at)).await.expect("write");
        write.output.expect("insert");
    }
    assert_eq!(user(&client.session().await.expect("load")).as_deref(), Some("alice"), "at +100 s it still lives");
    clock.set(T + 101);
    let session = client.session().await.expect("load");
    assert!(session.is_empty(), "at +101 s it is over despite a write at +100 s: {:?}", session.to_map());
    client.request(|s| s.insert("user", "alice")).await.expect("login again").output.expect("insert");
    clock.set(T + 150);
    assert_eq!(user(&client.session().await.expect("load")).as_deref(), Some("alice"), "the new login started anew");
}
