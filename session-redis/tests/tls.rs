//! Redis over TLS (the `tls` feature) against a real redis-server listening for TLS, with a
//! certificate from a CA made for the test and an ACL user that may not run dangerous commands: the
//! conformance suite passes through it; a server the client does not trust, a wrong password and a
//! plain-text server behind a `rediss://` URL are all refused with an error, never a session.
//!
//! `cargo test -p session-redis --features tls --test tls`

use std::sync::Arc;

use deadpool_redis::redis::TlsCertificates;
use session_core::Concurrency;
use session_core::accounts::Devices;
use session_core::server_side::KeyValueBackend;
use session_redis::{RedisBackend, RedisStorage, RedisStorageError};
use session_testkit::{RedisServer, Suite};

const USER: &str = "sessions";
const PASSWORD: &str = "tls-test-password";

/// A TLS redis-server whose default user is off: only `USER`, without `@dangerous` commands (no
/// `INFO`, no `CONFIG`), as managed services hand out.
async fn tls_redis() -> Arc<RedisServer> {
    let server = RedisServer::start_tls().await.expect("redis-server with TLS");
    let reply = server
        .command(&format!("ACL SETUSER {USER} on >{PASSWORD} ~* &* +@all -@dangerous"))
        .await
        .expect("ACL SETUSER");
    assert!(reply.starts_with("+OK"), "{reply}");
    Arc::new(server)
}

/// `rediss://USER:password@127.0.0.1:<tls port>/`.
fn url_with(server: &RedisServer, password: &str) -> String {
    let url = server.tls_url().expect("a TLS port");
    url.replacen("rediss://", &format!("rediss://{USER}:{password}@"), 1)
}

/// A backend that trusts the server's CA.
fn trusting(server: &RedisServer) -> RedisBackend {
    let ca = server.ca_certificate_pem().expect("a CA").as_bytes().to_vec();
    let certificates = TlsCertificates { client_tls: None, root_cert: Some(ca) };
    RedisBackend::from_url_with_certificates(&url_with(server, PASSWORD), certificates).expect("backend")
}

async fn suite(concurrency: Concurrency) -> Suite {
    let server = tls_redis().await;
    let for_storage = Arc::clone(&server);
    Suite::new(move |config| {
        let backend = trusting(&for_storage);
        async move { RedisStorage::new(backend).with_concurrency(concurrency).with_config(config) }
    })
    .probe(move |key: String| {
        let server = Arc::clone(&server);
        async move { server.entry(&key).await.expect("PTTL") }
    })
}

session_testkit::conformance_suite!(merging, merging_server_side, suite(Concurrency::Merge));
session_testkit::conformance_suite!(last_writer_wins, server_side, suite(Concurrency::LastWriterWins));

session_testkit::conformance_suite!(devices, devices, async {
    let server = tls_redis().await;
    Suite::with_devices(move |config| {
        let (server, backend) = (Arc::clone(&server), trusting(&server));
        async move {
            let _alive = server;
            Arc::new(RedisStorage::new(backend).with_config(config)) as Arc<dyn Devices>
        }
    })
});

/// The Redis error under a backend's error, as text with its sources.
fn chain(error: &session_core::Error) -> String {
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    text
}

#[tokio::test]
async fn what_crosses_the_wire_is_not_plain_text() {
    let server = tls_redis().await;
    let backend = trusting(&server);
    backend
        .store("AIOHTTP_SESSION_tls", b"{\"session\":{\"a\":1}}", None, session_core::server_side::Condition::Always)
        .await
        .expect("a write over TLS");
    // The plain port sees what the TLS client wrote: the same server, reached two ways.
    let reply = server.command("GET AIOHTTP_SESSION_tls").await.expect("GET");
    assert!(reply.contains(r#"{"session":{"a":1}}"#), "{reply}");
    // And the TLS port does not speak plain text.
    let tls_port: u16 =
        server.tls_url().unwrap().trim_end_matches('/').rsplit(':').next().unwrap().parse().expect("a port");
    let plain = deadpool_redis::redis::Client::open(format!("redis://127.0.0.1:{tls_port}/")).unwrap();
    let refused =
        tokio::time::timeout(std::time::Duration::from_secs(5), plain.get_multiplexed_async_connection()).await;
    assert!(!matches!(refused, Ok(Ok(_))), "a plain-text client was served on the TLS port");
}

#[tokio::test]
async fn a_server_whose_certificate_is_not_trusted_is_refused() {
    let server = tls_redis().await;
    // No private CA given: the system's trust store, which does not hold the test's CA.
    let backend = RedisBackend::from_url(&url_with(&server, PASSWORD)).expect("backend");
    let error = backend.load("AIOHTTP_SESSION_x").await.expect_err("an untrusted server");
    let text = chain(&error);
    assert!(text.to_lowercase().contains("certificate"), "{text}");
}

#[tokio::test]
async fn a_certificate_from_another_ca_is_refused() {
    let (server, other) = (tls_redis().await, tls_redis().await);
    let stranger = other.ca_certificate_pem().unwrap().as_bytes().to_vec();
    let certificates = TlsCertificates { client_tls: None, root_cert: Some(stranger) };
    let backend = RedisBackend::from_url_with_certificates(&url_with(&server, PASSWORD), certificates).unwrap();
    let error = backend.load("AIOHTTP_SESSION_x").await.expect_err("a certificate from another CA");
    assert!(chain(&error).to_lowercase().contains("certificate"), "{}", chain(&error));
}

#[tokio::test]
async fn a_wrong_password_is_an_error_that_does_not_print_it() {
    let server = tls_redis().await;
    let ca = server.ca_certificate_pem().unwrap().as_bytes().to_vec();
    let certificates = TlsCertificates { client_tls: None, root_cert: Some(ca) };
    let wrong = "not-the-password";
    let backend = RedisBackend::from_url_with_certificates(&url_with(&server, wrong), certificates).unwrap();
    let error = backend.load("AIOHTTP_SESSION_x").await.expect_err("a wrong password");
    let text = chain(&error);
    assert!(!text.contains(wrong) && !format!("{error:?}").contains(wrong), "{text}");
    let redis = std::error::Error::source(&error).and_then(|e| e.downcast_ref::<RedisStorageError>());
    assert!(matches!(redis, Some(RedisStorageError::Pool(_))), "{error:?}");
}
