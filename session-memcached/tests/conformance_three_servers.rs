//! The conformance suite for `MemcachedStorage` spread over three real `memcached` servers.

use std::sync::Arc;

use session_core::Concurrency;
use session_memcached::{MemcachedBackend, MemcachedStorage};
use session_testkit::{Entry, MemcachedServer, Suite};

async fn suite(concurrency: Concurrency) -> Suite {
    let mut servers = Vec::new();
    for _ in 0..3 {
        servers.push(MemcachedServer::start().await.expect("memcached"));
    }
    let servers = Arc::new(servers);
    let addresses: Vec<String> = servers.iter().map(MemcachedServer::address).collect();
    Suite::new(move |config| {
        let addresses = addresses.clone();
        async move {
            let backend = MemcachedBackend::connect(addresses).await.expect("client");
            MemcachedStorage::new(backend).with_concurrency(concurrency).with_config(config)
        }
    })
    .probe(move |key: String| {
        let servers = Arc::clone(&servers);
        async move {
            let mut found: Option<Entry> = None;
            for server in servers.iter() {
                found = found.or(server.entry(&key).await.expect("mg"));
            }
            found
        }
    })
}

session_testkit::conformance_suite!(three_merging, merging_server_side, suite(Concurrency::Merge));
session_testkit::conformance_suite!(three_last_writer_wins, server_side, suite(Concurrency::LastWriterWins));
