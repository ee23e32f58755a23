//! What only Redis has: the key layout and expiry Python peers rely on, Redis's own TTL, and outages.

use std::sync::Arc;
use std::time::Duration;

use session_core::expiry::DEFAULT_LIFETIME;
use session_core::{AbstractStorage, Concurrency, CookieConfig, Error, ManualClock, StorageConfig};
use session_devkit::axum_app::Axum;
use session_devkit::vectors::{PAYLOAD, TIME, login_alice};
use session_redis::{RedisBackend, RedisStorage, RedisStorageError};
use session_testkit::{RedisServer, TestClient, scenarios};

fn storage(server: &RedisServer, config: StorageConfig) -> Arc<RedisStorage> {
    let backend = RedisBackend::from_url(&server.url()).expect("pool");
    Arc::new(RedisStorage::new(backend).with_config(config))
}

/// The bulk string of a raw `GET` reply (`$<len>\r\n<bytes>\r\n`), or `None` for a nil reply.
async fn raw_get(server: &RedisServer, key: &str) -> Option<String> {
    let reply = server.command(&format!("GET {key}")).await.expect("GET");
    let (_, rest) = reply.split_once("\r\n")?;
    reply.starts_with('$').then(|| rest.trim_end_matches("\r\n").to_owned()).filter(|_| !reply.starts_with("$-1"))
}

async fn ttl(server: &RedisServer, key: &str) -> i64 {
    let reply = server.command(&format!("TTL {key}")).await.expect("TTL");
    reply.trim().trim_start_matches(':').parse().expect("integer reply")
}

#[tokio::test]
async fn we_write_the_python_layout_with_a_default_expiry() {
    let server = RedisServer::start().await.expect("redis-server");
    let clock = ManualClock::new(TIME);
    let backend = RedisBackend::from_url(&server.url()).expect("pool");
    let storage = RedisStorage::new(backend).with_config(StorageConfig::default().with_clock(clock.clock()));
    let mut client = TestClient::new(Arc::new(storage));
    let saved = client.request(login_alice).await.expect("save");
    let id = client.cookie().expect("cookie").to_owned();
    assert!(id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()), "{id}");
    assert!(saved.set_cookie.unwrap().starts_with(&format!("AIOHTTP_SESSION={id}; ")), "the id is sent bare");
    assert_eq!(raw_get(&server, &format!("AIOHTTP_SESSION_{id}")).await.as_deref(), Some(PAYLOAD));
    let left = ttl(&server, &format!("AIOHTTP_SESSION_{id}")).await;
    let default = DEFAULT_LIFETIME.as_secs() as i64;
    assert!((default - 5..=default).contains(&left), "no entry without an expiry: TTL {left}");
}

#[tokio::test]
async fn entries_without_expiry_only_when_asked_for() {
    let server = RedisServer::start().await.expect("redis-server");
    for concurrency in [Concurrency::Merge, Concurrency::LastWriterWins] {
        let backend = RedisBackend::from_url(&server.url()).expect("pool");
        let storage = RedisStorage::new(backend)
            .with_concurrency(concurrency)
            .with_config(StorageConfig::new().with_default_lifetime(None));
        let mut client = TestClient::new(Arc::new(storage));
        client.request(login_alice).await.expect("save");
        let key = format!("AIOHTTP_SESSION_{}", client.cookie().expect("cookie"));
        assert_eq!(ttl(&server, &key).await, -1, "{concurrency:?}: SET without EX, as asked");
    }
}

#[tokio::test]
async fn a_session_written_by_python_loads() {
    let server = RedisServer::start().await.expect("redis-server");
    let id = "0123456789abcdef0123456789abcdef";
    // What aiohttp-session's RedisStorage sends for the reference vector (`session_devkit::vectors`).
    let set = format!("SET AIOHTTP_SESSION_{id} \"{}\"", PAYLOAD.replace('"', "\\\""));
    assert_eq!(server.command(&set).await.expect("SET").trim(), "+OK");
    // At the vector's time: three years on, a session no limit bounds has ended (two weeks).
    let mut client = TestClient::new(storage(&server, StorageConfig::new().with_clock(ManualClock::new(TIME).clock())));
    client.set_cookie(Some(id.to_owned()));
    let session = client.session().await.expect("load");
    assert!(!session.is_new());
    assert_eq!(session.identity(), Some(id));
    assert_eq!(session.get::<String>("user").unwrap().as_deref(), Some("alice"));
    assert_eq!(session.get::<i64>("n").unwrap(), Some(42));
}

#[tokio::test]
async fn max_age_becomes_the_key_expiry_and_redis_expires_it() {
    let server = RedisServer::start().await.expect("redis-server");
    let mut client = TestClient::new(storage(&server, StorageConfig::new().with_max_age(Duration::from_secs(1))));
    client.request(|s| s.insert("user", "alice")).await.expect("save").output.unwrap();
    let key = format!("AIOHTTP_SESSION_{}", client.cookie().unwrap());
    assert_eq!(ttl(&server, &key).await, 1);
    tokio::time::sleep(Duration::from_millis(2100)).await;
    assert_eq!(raw_get(&server, &key).await, None, "Redis dropped the key");
    let session = client.session().await.expect("load");
    assert!(session.is_new() && session.is_empty());
}

#[tokio::test]
async fn the_session_max_age_is_what_is_written() {
    let server = RedisServer::start().await.expect("redis-server");
    let mut client = TestClient::new(storage(&server, StorageConfig::new().with_max_age(Duration::from_secs(60))));
    let saved = client
        .request(|s| {
            s.set_max_age(Some(Duration::from_secs(3600)));
            s.insert("user", "alice")
        })
        .await
        .expect("save");
    assert!(saved.set_cookie.unwrap().contains("Max-Age=3600"));
    let key = format!("AIOHTTP_SESSION_{}", client.cookie().unwrap());
    assert_eq!(ttl(&server, &key).await, 3600);
}

#[tokio::test]
async fn invalidate_deletes_the_key_and_a_replayed_id_finds_nothing() {
    let server = RedisServer::start().await.expect("redis-server");
    let mut client = TestClient::new(storage(&server, StorageConfig::new()));
    client.request(|s| s.insert("user", "alice")).await.expect("save").output.unwrap();
    let id = client.cookie().unwrap().to_owned();
    let logout = client.request(|s| s.invalidate()).await.expect("invalidate");
    assert!(logout.set_cookie.unwrap().contains("Max-Age=0"));
    assert_eq!(server.command(&format!("EXISTS AIOHTTP_SESSION_{id}")).await.unwrap().trim(), ":0");
    client.set_cookie(Some(id));
    let replayed = client.session().await.expect("load");
    assert!(replayed.is_new() && replayed.is_empty() && replayed.identity().is_none());
}

#[tokio::test]
async fn a_stored_value_that_does_not_decode_is_a_fresh_session_with_a_new_id() {
    let server = RedisServer::start().await.expect("redis-server");
    let id = "0123456789abcdef0123456789abcdef";
    for garbage in ["\"not json\"", "\"[1, 2]\"", "\"\"", "\"\\xff\\xfe\""] {
        server.command(&format!("SET AIOHTTP_SESSION_{id} {garbage}")).await.expect("SET");
        let mut client = TestClient::new(storage(&server, StorageConfig::new()));
        client.set_cookie(Some(id.to_owned()));
        let saved = client.request(|s| (s.is_new(), s.insert("k", 1))).await.expect("no error");
        assert!(saved.output.0, "{garbage}: fresh");
        assert_ne!(client.cookie(), Some(id), "{garbage}: a new id");
    }
}

#[tokio::test]
async fn implausible_cookies_never_reach_redis() {
    let mut server = RedisServer::start().await.expect("redis-server");
    let storage = storage(&server, StorageConfig::new());
    server.stop();
    for cookie in ["garbage", "0123456789ABCDEF0123456789ABCDEF", "0123", "../etc", "AIOHTTP_SESSION_x"] {
        let session = storage.load_session(Some(cookie)).await.expect("no round trip, so no error");
        assert!(session.session.is_new(), "{cookie}");
    }
    let error = storage.load_session(Some("0123456789abcdef0123456789abcdef")).await.expect_err("Redis is down");
    assert!(error.is_backend());
}

#[tokio::test]
async fn key_factory_and_prefix_are_used() {
    let server = RedisServer::start().await.expect("redis-server");
    let backend = RedisBackend::from_url(&server.url()).expect("pool");
    let storage = RedisStorage::new(backend)
        .with_config(StorageConfig::new().with_cookie(CookieConfig::builder().name("SID").build().expect("valid")))
        .with_key_factory(|| "test-key".to_owned())
        .with_key_prefix("app1:");
    let mut client = TestClient::new(Arc::new(storage));
    client.request(|s| s.insert("user", "alice")).await.expect("save").output.unwrap();
    assert_eq!(client.cookie(), Some("test-key"));
    assert!(raw_get(&server, "app1:SID_test-key").await.expect("stored").contains("alice"));
    assert_eq!(client.session().await.unwrap().get::<String>("user").unwrap().as_deref(), Some("alice"));
}

fn redis_error(error: &Error) -> &RedisStorageError {
    std::error::Error::source(error).and_then(|e| e.downcast_ref()).expect("a RedisStorageError source")
}

#[tokio::test]
async fn a_stopped_redis_is_a_typed_error() {
    let mut server = RedisServer::start().await.expect("redis-server");
    let storage = storage(&server, StorageConfig::new());
    let mut client = TestClient::new(storage);
    client.request(|s| s.insert("user", "alice")).await.expect("save").output.unwrap();
    server.stop();
    let error = client.session().await.expect_err("Redis is down");
    assert!(
        matches!(redis_error(&error), RedisStorageError::Pool(_) | RedisStorageError::Command { .. }),
        "{:?}",
        redis_error(&error)
    );
}

#[tokio::test]
async fn a_silent_redis_is_a_timeout_not_a_hang() {
    // A listener that accepts and never answers stands in for a Redis that stopped responding.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    let backend = RedisBackend::from_url(&format!("redis://127.0.0.1:{port}/"))
        .expect("pool")
        .with_timeout(Duration::from_millis(300));
    let storage = RedisStorage::new(backend);
    let started = std::time::Instant::now();
    let error = storage.load_session(Some("0123456789abcdef0123456789abcdef")).await.expect_err("no answer");
    assert!(started.elapsed() < Duration::from_secs(2), "bounded by the timeout: {:?}", started.elapsed());
    assert!(error.is_backend());
}

#[tokio::test]
async fn the_app_answers_500_while_redis_is_down_and_recovers_without_a_restart() {
    let mut server = RedisServer::start().await.expect("redis-server");
    let storage = storage(&server, StorageConfig::new());
    scenarios::app_survives_store_restart(&Axum, storage, &mut server).await;
}

#[tokio::test]
async fn fifty_concurrent_requests_on_one_session_all_keep_their_write() {
    let server = RedisServer::start().await.expect("redis-server");
    let kept =
        scenarios::concurrent_requests_keep_their_writes(&Axum, storage(&server, StorageConfig::new()), 50).await;
    assert_eq!(kept, 50);
}

#[tokio::test]
async fn last_writer_wins_loses_concurrent_writes() {
    let server = RedisServer::start().await.expect("redis-server");
    let backend = RedisBackend::from_url(&server.url()).expect("pool");
    let storage = RedisStorage::new(backend).with_concurrency(Concurrency::LastWriterWins);
    let kept = scenarios::concurrent_requests_keep_their_writes(&Axum, Arc::new(storage), 50).await;
    assert!(kept < 50, "without the merge, concurrent saves overwrite each other: {kept} of 50 kept");
}

#[cfg(feature = "cluster")]
#[tokio::test]
async fn fifty_concurrent_requests_on_a_cluster_all_keep_their_write() {
    let cluster = session_testkit::RedisCluster::shared().await.expect("redis cluster");
    let backend = RedisBackend::from_cluster_urls(cluster.urls()).expect("cluster pool");
    let kept = scenarios::concurrent_requests_keep_their_writes(&Axum, Arc::new(RedisStorage::new(backend)), 50).await;
    assert_eq!(kept, 50);
}
