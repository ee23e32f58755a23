//! The `mixed` example: preferences in an encrypted cookie, the login in Redis, one browser.

mod common;

use common::Demo;
use session_testkit::{Browser, RedisServer};

const KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

#[tokio::test]
async fn two_storages_under_two_cookie_names() {
    let redis = RedisServer::start().await.expect("redis-server");
    let demo = Demo::start(env!("CARGO_BIN_EXE_mixed"), &["--secret-key", KEY, "--redis-url", &redis.url()]).await;
    let mut browser = Browser::new(demo.address);
    assert_eq!(browser.get("/").await.body, "Hello guest; theme: light");

    let theme = browser.get("/theme/dark").await;
    assert!(theme.set_cookie("PREFS").expect("prefs cookie").contains("gAAAAA"), "a Fernet token");
    assert!(theme.set_cookie("AIOHTTP_SESSION").is_none(), "the login is untouched");

    browser.get("/login/alice").await;
    let id = browser.jar["AIOHTTP_SESSION"].clone();
    let stored = redis.command(&format!("GET AIOHTTP_SESSION_{id}")).await.expect("GET");
    assert!(stored.contains(r#""user": "alice""#), "{stored}");
    assert_eq!(browser.get("/").await.body, "Hello alice; theme: dark");

    browser.get("/login/bob").await;
    assert_ne!(browser.jar["AIOHTTP_SESSION"], id, "a new id at each login");
    assert_eq!(redis.command(&format!("EXISTS AIOHTTP_SESSION_{id}")).await.unwrap().trim(), ":0");

    browser.get("/logout").await;
    assert_eq!(browser.get("/").await.body, "Hello guest; theme: dark", "logout keeps the preferences");
}
