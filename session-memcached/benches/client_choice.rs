//! Which memcache client: the async meta-protocol client (`memcache::exp::AsyncMetaClient`) or the
//! stable blocking client (r2d2 pool) behind `tokio::task::spawn_blocking`, under the same load.
//!
//! Each operation is what one session request costs: a `get` and a `set` of a 200-byte payload on one of
//! 1,000 keys. `CONCURRENCY` tasks run them back to back for `SECONDS` on a two-worker tokio runtime
//! against one real `memcached`; the output gives operations per second and p50/p99 latency.
//!
//! ```text
//! cargo bench -p session-memcached --bench client_choice
//! SECONDS=10 CONCURRENCY=64 cargo bench -p session-memcached --bench client_choice
//! ```

use std::sync::Arc;
use std::time::{Duration, Instant};

use memcache::exp::{AsyncMetaClient, MetaClientBuilder};
use session_testkit::MemcachedServer;

const KEYS: usize = 1000;
const PAYLOAD: usize = 200;

fn setting(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

struct Outcome {
    operations: usize,
    elapsed: Duration,
    latencies: Vec<Duration>,
}

impl Outcome {
    fn report(mut self, name: &str) {
        self.latencies.sort();
        let at = |q: f64| self.latencies[((self.latencies.len() as f64 * q) as usize).min(self.latencies.len() - 1)];
        println!(
            "{name:<34} {:>9.0} ops/s   p50 {:>7.1} µs   p99 {:>7.1} µs",
            self.operations as f64 / self.elapsed.as_secs_f64(),
            at(0.50).as_secs_f64() * 1e6,
            at(0.99).as_secs_f64() * 1e6,
        );
    }
}

/// Runs `concurrency` tasks of `operation(key)` until `duration` is over.
async fn drive<F, Fut>(concurrency: usize, duration: Duration, operation: F) -> Outcome
where
    F: Fn(String) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send,
{
    let operation = Arc::new(operation);
    let started = Instant::now();
    let deadline = started + duration;
    let tasks: Vec<_> = (0..concurrency)
        .map(|task| {
            let operation = Arc::clone(&operation);
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                let mut n = task;
                while Instant::now() < deadline {
                    let key = format!("AIOHTTP_SESSION_{:032x}", n % KEYS);
                    let begun = Instant::now();
                    operation(key).await;
                    latencies.push(begun.elapsed());
                    n += concurrency;
                }
                latencies
            })
        })
        .collect();
    let mut latencies = Vec::new();
    for task in tasks {
        latencies.extend(task.await.expect("task"));
    }
    Outcome { operations: latencies.len(), elapsed: started.elapsed(), latencies }
}

fn main() {
    let seconds = setting("SECONDS", 5);
    let concurrency = setting("CONCURRENCY", 32) as usize;
    let duration = Duration::from_secs(seconds);
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    runtime.block_on(async {
        let server = MemcachedServer::start().await.expect("memcached");
        let payload: Arc<Vec<u8>> = Arc::new(vec![b'x'; PAYLOAD]);
        println!(
            "{concurrency} concurrent get+set pairs of {PAYLOAD} bytes for {seconds} s, one memcached, 2 tokio workers"
        );

        let client: AsyncMetaClient =
            MetaClientBuilder::new().max_idle(concurrency).connect_async(server.address()).await.expect("async client");
        let value = Arc::clone(&payload);
        drive(concurrency, duration, move |key| {
            let (client, value) = (client.clone(), Arc::clone(&value));
            async move {
                client.get(&key).send().await.expect("get");
                client.set(&key, &value[..]).ttl_raw(3600).send().await.expect("set");
            }
        })
        .await
        .report("async meta client (memcache::exp)");

        let url = format!("memcache://{}?protocol=ascii&tcp_nodelay=true", server.address());
        let blocking =
            Arc::new(memcache::Client::with_pool_size(url.as_str(), concurrency as u32).expect("blocking client"));
        let value = Arc::clone(&payload);
        drive(concurrency, duration, move |key| {
            let (blocking, value) = (Arc::clone(&blocking), Arc::clone(&value));
            async move {
                tokio::task::spawn_blocking(move || {
                    blocking.get::<Vec<u8>>(&key).expect("get");
                    blocking.set(&key, &value[..], 3600).expect("set");
                })
                .await
                .expect("blocking task");
            }
        })
        .await
        .report("blocking client + spawn_blocking");

        drive(concurrency, duration, |_key| async {
            tokio::task::spawn_blocking(|| ()).await.expect("blocking task");
        })
        .await
        .report("spawn_blocking alone (no I/O)");
    });
}
