//! One browser's parallel requests writing one session for seconds on end, through the middleware, on
//! one Redis and on a Redis Cluster, served by two app processes: no request fails and no
//! acknowledged write is lost.

use std::sync::Arc;
use std::time::Duration;

use session_core::AbstractStorage;
use session_devkit::axum_app::Axum;
use session_redis::{RedisBackend, RedisStorage};
use session_testkit::{RedisServer, scenarios};

const WRITERS: usize = 64;
const DURATION: Duration = Duration::from_secs(5);

fn apps(backend: impl Fn() -> RedisBackend) -> Vec<Arc<dyn AbstractStorage>> {
    (0..2).map(|_| Arc::new(RedisStorage::new(backend())) as Arc<dyn AbstractStorage>).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sixty_four_writers_for_five_seconds_on_redis() {
    let server = RedisServer::start().await.expect("redis-server");
    let apps = apps(|| RedisBackend::from_url(&server.url()).expect("pool"));
    let run = scenarios::parallel_writers_keep_every_write(&Axum, apps, WRITERS, DURATION).await;
    eprintln!("redis: {run:?}");
}

#[cfg(feature = "cluster")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sixty_four_writers_for_five_seconds_on_a_redis_cluster() {
    let cluster = session_testkit::RedisCluster::shared().await.expect("redis cluster");
    let apps = apps(|| RedisBackend::from_cluster_urls(cluster.urls()).expect("cluster pool"));
    let run = scenarios::parallel_writers_keep_every_write(&Axum, apps, WRITERS, DURATION).await;
    eprintln!("redis cluster: {run:?}");
}
