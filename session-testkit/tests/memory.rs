//! The storage conformance suite on the zoo's correct in-memory store, in both concurrency modes: the
//! engine of session-core under every rule, without a server (what `./scripts/mutants` runs most).

use std::sync::Arc;

use session_core::Concurrency;
use session_core::accounts::Devices;
use session_core::server_side::ServerSideStorage;
use session_testkit::Suite;
use session_testkit::zoo::MemoryStore;

fn suite(concurrency: Concurrency) -> Suite {
    let store = MemoryStore::new();
    let probe = store.clone();
    Suite::new(move |config| {
        let store = store.clone();
        async move { ServerSideStorage::new(store).with_concurrency(concurrency).with_config(config) }
    })
    .probe(move |key: String| {
        let entry = probe.entry(&key);
        async move { entry }
    })
}

session_testkit::conformance_suite!(merging, merging_server_side, async { suite(Concurrency::Merge) });
session_testkit::conformance_suite!(last_writer_wins, server_side, async { suite(Concurrency::LastWriterWins) });

session_testkit::conformance_suite!(devices, devices, async {
    let store = MemoryStore::new();
    Suite::with_devices(move |config| {
        let store = store.clone();
        async move { Arc::new(ServerSideStorage::new(store).with_config(config)) as Arc<dyn Devices> }
    })
});
