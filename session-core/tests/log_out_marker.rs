//! How long the marker of log-out-everywhere lives: never shorter than the entries it must end.

use std::time::Duration;

use session_core::AbstractStorage;
use session_core::server_side::{DEFAULT_ENTRY_TTL, ServerSideStorage};
use session_testkit::zoo::MemoryStore;

/// `alice`'s marker under the default cookie name.
const MARKER: &str = "AIOHTTP_SESSION_user_616c696365";

#[tokio::test]
async fn the_marker_lives_as_long_as_the_entries_it_ends() {
    let store = MemoryStore::new();
    ServerSideStorage::new(store.clone()).log_out_everywhere("alice").await.expect("log out");
    let ttl = store.entry(MARKER).expect("a marker").ttl.expect("a TTL");
    assert!(ttl > DEFAULT_ENTRY_TTL - Duration::from_secs(5), "as long as the default entry TTL: {ttl:?}");

    // Entries without a TTL (as the app asked) can come back at any time: so can the marker's check.
    let store = MemoryStore::new();
    let immortal = ServerSideStorage::new(store.clone()).with_default_entry_ttl(None);
    immortal.log_out_everywhere("alice").await.expect("log out");
    assert_eq!(
        store.entry(MARKER).expect("a marker").ttl,
        None,
        "entries that never expire need a marker that never does"
    );
}
