//! One request's load and save on memcached (a real `memcached` started here), with the merging
//! compare-and-set save and with a plain `set` (last-writer-wins), to show what the merge costs.
//!
//! `cargo bench -p session-memcached --bench storage`

use std::sync::Arc;

use criterion::{Criterion, criterion_group, criterion_main};
use session_core::Concurrency;
use session_devkit::bench::{runtime, save_benchmarks, storage_benchmarks};
use session_memcached::{MemcachedBackend, MemcachedStorage};
use session_testkit::MemcachedServer;

fn storage(c: &mut Criterion) {
    let runtime = runtime();
    let server = runtime.block_on(MemcachedServer::start()).expect("memcached");
    for (name, concurrency) in
        [("memcached_merge", Concurrency::Merge), ("memcached_last_writer_wins", Concurrency::LastWriterWins)]
    {
        let storage = runtime.block_on(async {
            let backend = MemcachedBackend::connect([server.address()]).await.expect("client");
            MemcachedStorage::new(backend).with_concurrency(concurrency)
        });
        let storage: Arc<dyn session_core::AbstractStorage> = Arc::new(storage);
        storage_benchmarks(c, &runtime, name, Arc::clone(&storage));
        save_benchmarks(c, &runtime, name, storage);
    }
}

criterion_group!(benches, storage);
criterion_main!(benches);
