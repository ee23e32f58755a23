//! The cart demo: 50 items added at once with one cookie are all in the cart; a logout racing 32 more
//! leaves the session logged out, in both concurrency modes.

mod common;

use common::Demo;
use http::Method;
use session_testkit::{Browser, MemcachedServer, RedisServer};

async fn fifty_items_at_once(storage_flags: &[&str]) -> Vec<String> {
    let demo = Demo::start(env!("CARGO_BIN_EXE_cart"), storage_flags).await;
    let mut browser = Browser::new(demo.address);
    assert_eq!(browser.send(Method::POST, "/cart/first").await.body, "Added first");
    let requests: Vec<_> = (1..=50)
        .map(|n| {
            let mut tab = Browser::new(demo.address);
            tab.jar = browser.jar.clone();
            tokio::spawn(async move { tab.send(Method::POST, &format!("/cart/item{n}")).await.status })
        })
        .collect();
    for request in requests {
        assert_eq!(request.await.expect("request"), 200);
    }
    serde_json::from_str(&browser.get("/cart").await.body).expect("a JSON array")
}

#[tokio::test]
async fn redis_keeps_all_fifty_items() {
    let redis = RedisServer::start().await.expect("redis-server");
    let items = fifty_items_at_once(&["--storage", "redis", "--redis-url", &redis.url()]).await;
    assert_eq!(items.len(), 51, "{items:?}");
    assert!((1..=50).all(|n| items.contains(&format!("item{n}"))));
}

#[tokio::test]
async fn memcached_keeps_all_fifty_items() {
    let memcached = MemcachedServer::start().await.expect("memcached");
    let items = fifty_items_at_once(&["--storage", "memcached", "--memcached", &memcached.address()]).await;
    assert_eq!(items.len(), 51, "{items:?}");
}

/// 32 `POST /cart/…` of one browser in flight while it logs out: afterwards its cookie finds an empty
/// cart, whichever way the writes and the logout interleaved.
async fn logout_racing_writers(storage_flags: &[&str]) {
    for concurrency in ["merge", "last-writer-wins"] {
        let flags: Vec<&str> = storage_flags.iter().copied().chain(["--concurrency", concurrency]).collect();
        let demo = Demo::start(env!("CARGO_BIN_EXE_cart"), &flags).await;
        let mut browser = Browser::new(demo.address);
        assert_eq!(browser.send(Method::POST, "/cart/first").await.body, "Added first");
        let jar = browser.jar.clone();
        let writers: Vec<_> = (1..=32)
            .map(|n| {
                let mut tab = Browser::new(demo.address);
                tab.jar = jar.clone();
                tokio::spawn(async move { tab.send(Method::POST, &format!("/cart/late{n}")).await.status })
            })
            .collect();
        let mut logout = Browser::new(demo.address);
        logout.jar = jar.clone();
        assert_eq!(logout.send(Method::POST, "/logout").await.body, "Logged out");
        for writer in writers {
            assert_eq!(writer.await.expect("request"), 200);
        }
        let mut replay = Browser::new(demo.address);
        replay.jar = jar;
        assert_eq!(replay.get("/cart").await.body, "[]", "{concurrency}: the logged-out session came back");
    }
}

#[tokio::test]
async fn redis_keeps_a_logout_racing_writers() {
    let redis = RedisServer::start().await.expect("redis-server");
    logout_racing_writers(&["--storage", "redis", "--redis-url", &redis.url()]).await;
}

#[tokio::test]
async fn memcached_keeps_a_logout_racing_writers() {
    let memcached = MemcachedServer::start().await.expect("memcached");
    logout_racing_writers(&["--storage", "memcached", "--memcached", &memcached.address()]).await;
}

/// The cart's page on the default storage (the encrypted cookie): its form needs the CSRF token the
/// page carries; after the redirect the page shows the flash once, and the item.
#[tokio::test]
async fn the_form_needs_its_token_and_the_flash_shows_once() {
    let demo = Demo::start(env!("CARGO_BIN_EXE_cart"), &[]).await;
    let mut browser = Browser::new(demo.address);
    let page = browser.get("/").await.body;
    let token = page
        .split("name=\"csrf_token\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("the form carries the token")
        .to_owned();

    let refused = browser.send_body(Method::POST, "/add", "item=forged").await;
    assert_eq!(refused.status, 403, "a form without the token");
    let added = browser.send_body(Method::POST, "/add", format!("item=apple&csrf_token={token}")).await;
    assert_eq!(added.status, 303);
    assert_eq!(added.headers.get("location").map(|l| l.as_bytes()), Some(&b"/"[..]));

    let after = browser.get("/").await.body;
    assert!(after.contains("<p class=\"flash\">Added apple</p>"), "{after}");
    assert!(after.contains("<li>apple</li>") && !after.contains("forged"), "{after}");
    let again = browser.get("/").await.body;
    assert!(!again.contains("class=\"flash\""), "shown once: {again}");
    assert!(again.contains(&token), "the same token until a login");
}
