//! One browser's parallel requests writing one session for seconds on end, through the middleware, on
//! memcached, served by two app processes: no request fails and no acknowledged write is lost.

use std::sync::Arc;
use std::time::Duration;

use session_core::AbstractStorage;
use session_devkit::axum_app::Axum;
use session_memcached::{MemcachedBackend, MemcachedStorage};
use session_testkit::{MemcachedServer, scenarios};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sixty_four_writers_for_five_seconds_on_memcached() {
    let server = MemcachedServer::start().await.expect("memcached");
    let mut apps: Vec<Arc<dyn AbstractStorage>> = Vec::new();
    for _ in 0..2 {
        // The deadline bounds a store that hangs; this store is healthy, but the machine is shared (other
        // test binaries run beside this one on two cores), and what is checked here is that conflicts never
        // fail a save, not how fast they resolve (the bench measures that). 1 s starved a writer there.
        let backend =
            MemcachedBackend::connect([server.address()]).await.expect("client").with_timeout(Duration::from_secs(5));
        apps.push(Arc::new(MemcachedStorage::new(backend)));
    }
    let run = scenarios::parallel_writers_keep_every_write(&Axum, apps, 64, Duration::from_secs(5)).await;
    eprintln!("memcached: {run:?}");
}
