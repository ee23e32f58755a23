//! A storage that no limit bounds (no max age, no timeouts, the default lifetime turned off) says so
//! once, when it is configured; the default configuration says nothing. Alone in its binary:
//! tracing's callsite cache can drop events of one test's scoped subscriber while other tests in the
//! same process log concurrently.

use session_cookie::{EncryptedCookieStorage, SimpleCookieStorage, StorageConfig};

#[test]
fn a_storage_with_no_limit_at_all_warns_once_and_a_bounded_one_does_not() {
    let (_guard, logs) = session_devkit::logs::capture();
    let key = EncryptedCookieStorage::generate_key();
    let bounded = EncryptedCookieStorage::new(key.as_str()).expect("key").with_config(StorageConfig::new());
    assert!(!logs.text().contains("WARN"), "the default lifetime bounds it: {}", logs.text());
    let unbounded = SimpleCookieStorage::new().with_config(StorageConfig::new().with_default_lifetime(None));
    let warnings: Vec<String> = logs.text().lines().filter(|line| line.contains("WARN")).map(str::to_owned).collect();
    assert_eq!(warnings.len(), 1, "one warning for the storage that lives forever: {warnings:#?}");
    assert!(warnings[0].contains("lives forever") && warnings[0].contains("simple"), "{}", warnings[0]);
    drop((bounded, unbounded));
}
