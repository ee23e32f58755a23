//! The cart's page in a real browser (headless Chromium, through chromedriver), on every storage: type
//! an item, submit the form (its CSRF token in a hidden field), follow the redirect, see the flash
//! once; then quit the browser, launch it again on the same profile, and find the cart still there
//! (where another profile finds it empty).

mod common;

use common::Demo;
use session_testkit::{BrowserProfile, MariaDbServer, MemcachedServer, PostgresServer, RedisServer};

const KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

/// The whole visit on the demo started with `storage` (a persistent cookie: `--max-age`).
async fn visit(storage: &[&str]) {
    let what = storage.join(" ");
    let mut flags = storage.to_vec();
    flags.extend(["--max-age", "3600"]);
    let demo = Demo::start(env!("CARGO_BIN_EXE_cart"), &flags).await;
    let page = format!("http://{}/", demo.address);
    let profile = BrowserProfile::new().expect("a profile folder");

    let chromium = profile.launch().await.expect("headless Chromium (apt-get install chromium chromium-driver)");
    chromium.goto(&page).await.expect("the page");
    chromium.fill("#item", "apple").await.expect("type");
    chromium.click("#add").await.expect("submit");
    assert_eq!(chromium.url().await.expect("url"), page, "{what}: the redirect after the form");
    let shown = chromium.text().await.expect("text");
    assert!(shown.contains("Added apple"), "{what}: the flash after the redirect: {shown}");
    chromium.goto(&page).await.expect("the page again");
    let again = chromium.text().await.expect("text");
    assert!(again.contains("apple") && !again.contains("Added apple"), "{what}: shown once: {again}");
    chromium.quit().await.expect("quit");

    // Another browser (another profile) has no cookie: it sees an empty cart, so what the relaunched one
    // sees below comes from the cookie its profile kept.
    let stranger_profile = BrowserProfile::new().expect("a profile folder");
    let stranger = stranger_profile.launch().await.expect("another Chromium");
    stranger.goto(&page).await.expect("the page");
    let theirs = stranger.text().await.expect("text");
    assert!(!theirs.contains("apple"), "{what}: another browser sees someone else's cart: {theirs}");
    stranger.quit().await.expect("quit");

    let relaunched = profile.launch().await.expect("Chromium again, same profile");
    relaunched.goto(&page).await.expect("the page after the restart");
    let after = relaunched.text().await.expect("text");
    assert!(after.contains("apple"), "{what}: the session survives the browser's restart: {after}");
    relaunched.quit().await.expect("quit");
}

#[tokio::test]
async fn the_cart_form_in_chromium_on_every_storage() {
    let (redis, memcached) =
        (RedisServer::start().await.expect("redis"), MemcachedServer::start().await.expect("memcached"));
    let (postgres, mariadb) =
        (PostgresServer::start().await.expect("postgres"), MariaDbServer::start().await.expect("mariadb"));
    let (redis_url, memcached_address) = (redis.url(), memcached.address());
    let (postgres_url, mariadb_url) = (postgres.url(), mariadb.url());
    let storages: [&[&str]; 8] = [
        &["--storage", "encrypted", "--secret-key", KEY],
        &["--storage", "nacl", "--secret-key", KEY],
        &["--storage", "simple"],
        &["--storage", "redis", "--redis-url", &redis_url],
        &["--storage", "memcached", "--memcached", &memcached_address],
        &["--storage", "postgres", "--database-url", &postgres_url],
        &["--storage", "mysql", "--database-url", &mariadb_url],
        &["--storage", "sqlite"],
    ];
    for storage in storages {
        visit(storage).await;
    }
}
