//! The conformance suite for `MemcachedStorage` on one real `memcached`.

use session_memcached::{MemcachedBackend, MemcachedStorage};
use session_testkit::MemcachedServer;

session_testkit::conformance_suite! {
    make = {
        let server = MemcachedServer::start().await.expect("memcached");
        move |config| {
            let address = server.address();
            async move { MemcachedStorage::new(MemcachedBackend::connect([address]).await.expect("client")).with_config(config) }
        }
    },
    merges_concurrent_writes = true,
}
