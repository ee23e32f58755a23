//! The suite proves itself: every rule of the server-side kinds runs against a correct in-memory store
//! and against each deliberately broken one. The correct store must pass every rule; each broken store
//! must fail at least one rule in every kind where its bug can show. The table printed (run with
//! `--nocapture`) says which rules catch which bug.

use std::sync::Arc;

use session_core::accounts::Devices;
use session_core::server_side::ServerSideStorage;
use session_core::{AbstractStorage, Concurrency};
use session_testkit::zoo::{Broken, Bug, MemoryStore};
use session_testkit::{Kind, Suite, block_on, rules};

fn suite(bug: Option<Bug>, kind: Kind) -> Suite {
    let store = MemoryStore::new();
    let probe = store.clone();
    let concurrency = if kind == Kind::ServerSide { Concurrency::LastWriterWins } else { Concurrency::Merge };
    let devices = move |config| {
        let store = store.clone();
        async move {
            let storage: Arc<dyn Devices> = match bug {
                None => Arc::new(ServerSideStorage::new(store).with_concurrency(concurrency).with_config(config)),
                Some(bug) => Arc::new(
                    ServerSideStorage::new(Broken::new(store, bug)).with_concurrency(concurrency).with_config(config),
                ),
            };
            storage
        }
    };
    let suite = if kind == Kind::Devices {
        Suite::with_devices(devices)
    } else {
        Suite::new(move |config| {
            let storage = devices(config);
            async move { storage.await as Arc<dyn AbstractStorage> }
        })
    };
    suite.probe(move |key: String| {
        let entry = probe.entry(&key);
        async move { entry }
    })
}

/// The rules of `kind` that fail against the store with `bug` (each rule on its own thread and runtime).
fn failing_rules(bug: Option<Bug>, kind: Kind) -> Vec<&'static str> {
    let running: Vec<_> = rules::of(kind)
        .into_iter()
        .map(|(name, rule)| (name, std::thread::spawn(move || block_on(async { rule(&suite(bug, kind)).await }))))
        .collect();
    running.into_iter().filter_map(|(name, thread)| thread.join().is_err().then_some(name)).collect()
}

/// Whether `bug` can show in `kind` at all: a last-writer-wins store never compares, and the devices
/// rules look at the index and the epochs only.
fn observable(bug: Bug, kind: Kind) -> bool {
    // The devices kind runs the rules of that capability alone.
    if kind == Kind::Devices {
        return matches!(bug, Bug::IndexForgets | Bug::EpochStuck);
    }
    match bug {
        Bug::IgnoresCompareAndSet | Bug::CompareAndSetNeverStores => kind == Kind::MergingServerSide,
        Bug::IndexForgets => kind == Kind::Devices,
        // A merging store updates with compare-and-set, never with a plain conditional store.
        Bug::UpdateRecreates => kind == Kind::ServerSide,
        _ => true,
    }
}

#[test]
fn the_suite_passes_the_correct_store_and_fails_every_broken_one() {
    // The broken stores' failures are the expected outcome: keep their panic messages out of the log.
    std::panic::set_hook(Box::new(|_| {}));
    let mut escaped = Vec::new();
    for kind in [Kind::ServerSide, Kind::MergingServerSide, Kind::Devices] {
        let correct = failing_rules(None, kind);
        assert!(correct.is_empty(), "{kind:?}: the correct store fails {correct:?}");
        eprintln!("{kind:?}: the correct store passes all {} rules", rules::of(kind).len());
        let mut catching = std::collections::BTreeSet::new();
        for bug in Bug::ALL.into_iter().filter(|&bug| observable(bug, kind)) {
            let caught = failing_rules(Some(bug), kind);
            eprintln!("{kind:?} | {bug:?} | caught by {}: {}", caught.len(), caught.join(", "));
            if caught.is_empty() {
                escaped.push((kind, bug));
            }
            catching.extend(caught);
        }
        // Rules of the session's own logic (cookies, codec, flags) that no store bug can break: the
        // core's and the storages' own tests are what make them fail.
        let store_blind: Vec<_> =
            rules::of(kind).into_iter().map(|(name, _)| name).filter(|name| !catching.contains(name)).collect();
        eprintln!("{kind:?}: rules no broken store fails ({}): {}", store_blind.len(), store_blind.join(", "));
    }
    assert!(escaped.is_empty(), "broken stores that pass the whole suite: {escaped:?}");
}
