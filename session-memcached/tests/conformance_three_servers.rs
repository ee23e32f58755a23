//! The conformance suite for `MemcachedStorage` spread over three real `memcached` servers.

use session_memcached::{MemcachedBackend, MemcachedStorage};
use session_testkit::MemcachedServer;

session_testkit::conformance_suite! {
    make = {
        let mut servers = Vec::new();
        for _ in 0..3 {
            servers.push(MemcachedServer::start().await.expect("memcached"));
        }
        move |config| {
            let addresses: Vec<String> = servers.iter().map(MemcachedServer::address).collect();
            async move { MemcachedStorage::new(MemcachedBackend::connect(addresses).await.expect("client")).with_config(config) }
        }
    },
    merges_concurrent_writes = true,
}
