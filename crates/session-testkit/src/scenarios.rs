//! Whole-app scenarios over real HTTP: an axum app behind the session middleware, a browser, a store
//! that goes away and comes back.

use std::future::Future;
use std::io;
use std::net::SocketAddr;

use axum::Router;
use axum::routing::get;
use http::StatusCode;
use session_core::AbstractStorage;
use session_tower::{Session, SessionLayer};
use tokio::net::TcpListener;

use crate::browser::Browser;
use crate::memcached_server::MemcachedServer;
use crate::redis_server::RedisServer;

/// Serves `app` on 127.0.0.1 at a port the OS picks, until the test's runtime ends.
pub async fn serve(app: Router) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind loopback");
    let address = listener.local_addr().expect("address");
    tokio::spawn(async move { axum::serve(listener, app).await.expect("serve") });
    address
}

/// An app whose `GET /` counts the visits of a session and answers the count.
pub fn counter_app(storage: impl AbstractStorage + 'static) -> Router {
    async fn count(session: Session) -> String {
        let mut session = session.lock();
        let n = session.get::<u64>("n").ok().flatten().unwrap_or(0) + 1;
        let _ = session.insert("n", n);
        n.to_string()
    }
    Router::new().route("/", get(count)).layer(SessionLayer::new(storage))
}

/// A test server that can be killed and started again on the same port.
pub trait Restartable {
    /// Kills it.
    fn stop(&mut self);
    /// Starts it again on the same port and waits until it answers.
    fn restart(&mut self) -> impl Future<Output = io::Result<()>>;
}

impl Restartable for RedisServer {
    fn stop(&mut self) {
        RedisServer::stop(self);
    }
    fn restart(&mut self) -> impl Future<Output = io::Result<()>> {
        RedisServer::restart(self)
    }
}

impl Restartable for MemcachedServer {
    fn stop(&mut self) {
        MemcachedServer::stop(self);
    }
    fn restart(&mut self) -> impl Future<Output = io::Result<()>> {
        MemcachedServer::restart(self)
    }
}

/// The store behind `storage` goes down and comes back (empty) while the app keeps running: the app
/// answers 500 without a cookie during the outage and serves sessions again right after, with no
/// restart of the app.
pub async fn app_survives_store_restart(storage: impl AbstractStorage + 'static, server: &mut impl Restartable) {
    let mut browser = Browser::new(serve(counter_app(storage)).await);
    assert_eq!(browser.get("/").await.body, "1");

    server.stop();
    let down = browser.get("/").await;
    assert_eq!(down.status, StatusCode::INTERNAL_SERVER_ERROR, "a store that is down is a 500");
    assert!(down.set_cookies.is_empty(), "no cookie for a session that was not saved");

    server.restart().await.expect("restart the store");
    let back = browser.get("/").await;
    assert_eq!((back.status, back.body.as_str()), (StatusCode::OK, "1"), "the restarted store is empty: a new session");
    assert_eq!(browser.get("/").await.body, "2", "and sessions are saved again");
}
