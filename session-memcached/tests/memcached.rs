//! What only memcached has: aiohttp-session's layout and exptime rule, key rules, several servers, outages.

use std::sync::Arc;
use std::time::Duration;

use session_core::expiry::DEFAULT_LIFETIME;
use session_core::server_side::Condition;
use session_core::{AbstractStorage, Concurrency, CookieConfig, ManualClock, StorageConfig};
use session_devkit::axum_app::Axum;
use session_devkit::vectors::{PAYLOAD, TIME, login_alice};
use session_memcached::{MemcachedBackend, MemcachedStorage, MemcachedStorageError};
use session_testkit::{MemcachedServer, TestClient, scenarios};

async fn storage(servers: &[&MemcachedServer], config: StorageConfig) -> Arc<MemcachedStorage> {
    let backend = MemcachedBackend::connect(servers.iter().map(|s| s.address())).await.expect("client");
    Arc::new(MemcachedStorage::new(backend).with_config(config))
}

fn max_age(seconds: u64) -> StorageConfig {
    StorageConfig::new().with_max_age(Duration::from_secs(seconds))
}

#[tokio::test]
async fn we_write_the_python_layout() {
    let server = MemcachedServer::start().await.expect("memcached");
    let clock = ManualClock::new(TIME);
    let mut client = TestClient::new(storage(&[&server], StorageConfig::default().with_clock(clock.clock())).await);
    client.request(login_alice).await.expect("save");
    let id = client.cookie().expect("cookie").to_owned();
    assert_eq!(id.len(), 32);
    let stored = server.command(&format!("get AIOHTTP_SESSION_{id}")).await.unwrap();
    assert_eq!(stored, format!("VALUE AIOHTTP_SESSION_{id} 0 62\r\n{PAYLOAD}\r\nEND\r\n"), "flags 0, as aiomcache");
    let entry = server.entry(&format!("AIOHTTP_SESSION_{id}")).await.unwrap().expect("stored");
    let ttl = entry.ttl.expect("no entry without an expiry").as_secs();
    assert!((DEFAULT_LIFETIME.as_secs() - 5..=DEFAULT_LIFETIME.as_secs()).contains(&ttl), "{ttl}");
}

#[tokio::test]
async fn entries_without_expiry_only_when_asked_for() {
    let server = MemcachedServer::start().await.expect("memcached");
    for concurrency in [Concurrency::Merge, Concurrency::LastWriterWins] {
        let backend = MemcachedBackend::connect([server.address()]).await.expect("client");
        let storage = MemcachedStorage::new(backend)
            .with_concurrency(concurrency)
            .with_config(StorageConfig::new().with_default_lifetime(None));
        let mut client = TestClient::new(Arc::new(storage));
        client.request(login_alice).await.expect("save");
        let key = format!("AIOHTTP_SESSION_{}", client.cookie().expect("cookie"));
        assert_eq!(server.entry(&key).await.unwrap(), Some(session_testkit::Entry { ttl: None }), "{concurrency:?}");
    }
}

#[tokio::test]
async fn a_session_written_by_python_loads() {
    let server = MemcachedServer::start().await.expect("memcached");
    let id = "0123456789abcdef0123456789abcdef";
    assert_eq!(server.set(&format!("AIOHTTP_SESSION_{id}"), PAYLOAD, 0).await.unwrap(), "STORED\r\n");
    // At the vector's time: three years on, a session no limit bounds has ended (two weeks).
    let config = StorageConfig::new().with_clock(ManualClock::new(TIME).clock());
    let mut client = TestClient::new(storage(&[&server], config).await);
    client.set_cookie(Some(id.to_owned()));
    let session = client.session().await.expect("load");
    assert_eq!((session.is_new(), session.identity()), (false, Some(id)));
    assert_eq!(session.get::<String>("user").unwrap().as_deref(), Some("alice"));
}

#[tokio::test]
async fn memcached_expires_the_session() {
    let server = MemcachedServer::start().await.expect("memcached");
    let mut client = TestClient::new(storage(&[&server], max_age(1)).await);
    client.request(|s| s.insert("user", "alice")).await.expect("save").output.unwrap();
    let key = format!("AIOHTTP_SESSION_{}", client.cookie().unwrap());
    assert!(server.get(&key).await.unwrap().is_some());
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(server.get(&key).await.unwrap(), None, "memcached dropped it");
    assert!(client.session().await.expect("load").is_new());
}

#[tokio::test]
async fn a_max_age_beyond_30_days_is_sent_as_an_absolute_time() {
    // Sent relative, 31 days would be read as a Unix time in January 1970: gone at once.
    let server = MemcachedServer::start().await.expect("memcached");
    let mut client = TestClient::new(storage(&[&server], max_age(31 * 86_400)).await);
    let saved = client.request(|s| s.insert("user", "alice")).await.expect("save");
    assert!(saved.set_cookie.unwrap().contains("Max-Age=2678400"), "the cookie stays relative");
    let session = client.session().await.expect("load");
    assert_eq!(session.get::<String>("user").unwrap().as_deref(), Some("alice"));
    let ttl = server.command(&format!("mg AIOHTTP_SESSION_{} t", client.cookie().unwrap())).await.unwrap();
    let remaining: i64 = ttl.trim().strip_prefix("HD t").expect("meta TTL flag").parse().unwrap();
    // memcached keeps time in whole seconds that may lag ours by one.
    assert!((2_678_300..=2_678_401).contains(&remaining), "{ttl}");
}

#[tokio::test]
async fn cookies_that_cannot_form_a_key_never_reach_memcached() {
    let mut server = MemcachedServer::start().await.expect("memcached");
    // With this cookie name, a 32-character id makes a 263-byte key: over memcached's 250.
    let long_name = "S".repeat(230);
    let backend = MemcachedBackend::connect([server.address()]).await.expect("client");
    let cookie = CookieConfig::builder().name(long_name).build().expect("a valid, long name");
    let long = MemcachedStorage::new(backend.clone()).with_config(StorageConfig::new().with_cookie(cookie));
    let closure_ids = MemcachedStorage::new(backend).with_key_factory(|| "any-id".to_owned());
    server.stop();
    let session = long.load_session(Some("0123456789abcdef0123456789abcdef")).await.expect("no network call");
    assert!(session.session.is_new());
    for cookie in ["has space", "tab\tid", "nl\nid", "\u{85}"] {
        assert!(closure_ids.load_session(Some(cookie)).await.expect("no network call").session.is_new(), "{cookie:?}");
    }
    let error = closure_ids.load_session(Some("plausible-id")).await.expect_err("memcached is down");
    let source = std::error::Error::source(&error).and_then(|e| e.downcast_ref::<MemcachedStorageError>());
    assert!(matches!(source, Some(MemcachedStorageError::Client { .. })), "{error:?}");
}

#[tokio::test]
async fn invalidate_deletes_the_key_and_a_replayed_id_finds_nothing() {
    let server = MemcachedServer::start().await.expect("memcached");
    let mut client = TestClient::new(storage(&[&server], StorageConfig::new()).await);
    client.request(|s| s.insert("user", "alice")).await.expect("save").output.unwrap();
    let id = client.cookie().unwrap().to_owned();
    client.request(|s| s.invalidate()).await.expect("invalidate");
    assert_eq!(server.get(&format!("AIOHTTP_SESSION_{id}")).await.unwrap(), None);
    client.set_cookie(Some(id));
    assert!(client.session().await.expect("load").is_new());
}

#[tokio::test]
async fn a_stored_value_that_does_not_decode_is_a_fresh_session_with_a_new_id() {
    let server = MemcachedServer::start().await.expect("memcached");
    let id = "0123456789abcdef0123456789abcdef";
    for garbage in ["not json", "[1, 2]", "\"text\""] {
        server.set(&format!("AIOHTTP_SESSION_{id}"), garbage, 0).await.unwrap();
        let mut client = TestClient::new(storage(&[&server], StorageConfig::new()).await);
        client.set_cookie(Some(id.to_owned()));
        let saved = client.request(|s| (s.is_new(), s.insert("k", 1))).await.expect("no error");
        assert!(saved.output.0, "{garbage}");
        assert_ne!(client.cookie(), Some(id), "{garbage}: a new id");
    }
}

/// Which of `servers` hold `key`.
async fn holders(servers: &[MemcachedServer], key: &str) -> Vec<usize> {
    let mut found = Vec::new();
    for (index, server) in servers.iter().enumerate() {
        if server.get(key).await.unwrap().is_some() {
            found.push(index);
        }
    }
    found
}

#[tokio::test]
async fn three_servers_share_the_keys_and_each_session_lives_on_one() {
    let mut servers = Vec::new();
    for _ in 0..3 {
        servers.push(MemcachedServer::start().await.expect("memcached"));
    }
    let storage = storage(&servers.iter().collect::<Vec<_>>(), StorageConfig::new()).await;
    let mut per_server = [0usize; 3];
    let mut ids = Vec::new();
    for n in 0..90 {
        let mut client = TestClient::new(storage.clone());
        client.request(|s| s.insert("n", n)).await.expect("save").output.unwrap();
        let id = client.cookie().unwrap().to_owned();
        let found = holders(&servers, &format!("AIOHTTP_SESSION_{id}")).await;
        assert_eq!(found.len(), 1, "one copy, on one server");
        per_server[found[0]] += 1;
        ids.push((id, n));
    }
    assert!(per_server.iter().all(|&count| count >= 10), "every server gets keys: {per_server:?}");
    for (id, n) in ids {
        let mut client = TestClient::new(storage.clone());
        client.set_cookie(Some(id));
        assert_eq!(client.session().await.unwrap().get::<i32>("n").unwrap(), Some(n), "read where it was written");
    }
}

#[tokio::test]
async fn adding_a_server_moves_only_a_fraction_of_the_sessions() {
    let mut servers = Vec::new();
    for _ in 0..4 {
        servers.push(MemcachedServer::start().await.expect("memcached"));
    }
    let three = storage(&servers[..3].iter().collect::<Vec<_>>(), StorageConfig::new()).await;
    let four = storage(&servers.iter().collect::<Vec<_>>(), StorageConfig::new()).await;
    let mut ids = Vec::new();
    for n in 0..300 {
        let mut client = TestClient::new(three.clone());
        client.request(|s| s.insert("n", n)).await.expect("save").output.unwrap();
        ids.push(client.cookie().unwrap().to_owned());
    }
    let mut still_found = 0;
    for id in ids {
        let mut client = TestClient::new(four.clone());
        client.set_cookie(Some(id));
        still_found += usize::from(!client.session().await.unwrap().is_new());
    }
    // Rendezvous hashing moves about a quarter to the new server; modulo hashing would move about 3/4.
    assert!((180..=270).contains(&still_found), "{still_found} of 300 sessions stayed where they were");
}

#[tokio::test]
async fn the_app_answers_500_while_memcached_is_down_and_recovers_without_a_restart() {
    let mut server = MemcachedServer::start().await.expect("memcached");
    let storage = storage(&[&server], StorageConfig::new()).await;
    scenarios::app_survives_store_restart(&Axum, storage, &mut server).await;
}

#[tokio::test]
async fn fifty_concurrent_requests_on_one_session_all_keep_their_write() {
    let server = MemcachedServer::start().await.expect("memcached");
    let kept =
        scenarios::concurrent_requests_keep_their_writes(&Axum, storage(&[&server], StorageConfig::new()).await, 50)
            .await;
    assert_eq!(kept, 50);
}

#[tokio::test]
async fn last_writer_wins_loses_concurrent_writes() {
    let server = MemcachedServer::start().await.expect("memcached");
    let backend = MemcachedBackend::connect([server.address()]).await.expect("client");
    let storage = MemcachedStorage::new(backend).with_concurrency(Concurrency::LastWriterWins);
    let kept = scenarios::concurrent_requests_keep_their_writes(&Axum, Arc::new(storage), 50).await;
    assert!(kept < 50, "without the merge, concurrent saves overwrite each other: {kept} of 50 kept");
}

/// Exchanges are batched by a task on the runtime of the first one; a backend kept past that
/// runtime (a test harness, an app that rebuilds its runtime) starts another on the next.
#[test]
fn a_backend_outlives_the_runtime_that_first_used_it() {
    use session_core::server_side::KeyValueBackend;
    let runtime = || tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let home = runtime();
    let server = home.block_on(MemcachedServer::start()).expect("memcached");
    let backend = home.block_on(MemcachedBackend::connect([server.address()])).expect("client");
    let first = runtime();
    first.block_on(backend.store("k", b"one", None, Condition::Always)).expect("store on the first runtime");
    drop(first);
    let second = runtime();
    let loaded = second.block_on(backend.load("k")).expect("load on the second runtime");
    assert_eq!(loaded.as_deref(), Some(&b"one"[..]));
}
