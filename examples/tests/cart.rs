//! The cart demo: 50 items added at once with one cookie are all in the cart.

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
