//! The conformance suite for `MemcachedStorage` on one real `memcached`, in both concurrency modes. The
//! probe asks memcached itself (`mg <key> t`), not the code under test.

use std::sync::Arc;

use session_core::Concurrency;
use session_memcached::{MemcachedBackend, MemcachedStorage};
use session_testkit::{MemcachedServer, Suite};

async fn suite(concurrency: Concurrency) -> Suite {
    let server = Arc::new(MemcachedServer::start().await.expect("memcached"));
    let address = server.address();
    Suite::new(move |config| {
        let address = address.clone();
        async move {
            let backend = MemcachedBackend::connect([address]).await.expect("client");
            MemcachedStorage::new(backend).with_concurrency(concurrency).with_config(config)
        }
    })
    .probe(move |key: String| {
        let server = Arc::clone(&server);
        async move { server.entry(&key).await.expect("mg") }
    })
}

session_testkit::conformance_suite!(merging, merging_server_side, suite(Concurrency::Merge));
session_testkit::conformance_suite!(last_writer_wins, server_side, suite(Concurrency::LastWriterWins));
