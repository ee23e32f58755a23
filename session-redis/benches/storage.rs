//! One request's load and save on Redis (a real `redis-server` started here), with the merging
//! compare-and-set save and with a plain `SET` (last-writer-wins), to show what the merge costs.
//!
//! `cargo bench -p session-redis --bench storage`

use std::sync::Arc;

use criterion::{Criterion, criterion_group, criterion_main};
use session_core::Concurrency;
use session_devkit::bench::{runtime, save_benchmarks, storage_benchmarks};
use session_redis::{RedisBackend, RedisStorage};
use session_testkit::RedisServer;

fn storage(c: &mut Criterion) {
    let runtime = runtime();
    let server = runtime.block_on(RedisServer::start()).expect("redis-server");
    for (name, concurrency) in
        [("redis_merge", Concurrency::Merge), ("redis_last_writer_wins", Concurrency::LastWriterWins)]
    {
        let storage = runtime.block_on(async {
            RedisStorage::new(RedisBackend::from_url(&server.url()).expect("pool")).with_concurrency(concurrency)
        });
        let storage: Arc<dyn session_core::AbstractStorage> = Arc::new(storage);
        storage_benchmarks(c, &runtime, name, Arc::clone(&storage));
        save_benchmarks(c, &runtime, name, storage);
    }
}

criterion_group!(benches, storage);
criterion_main!(benches);
