//! What the fuzz targets share: running a storage's load without a runtime, and a key-value backend that
//! holds whatever the fuzzer wrote, so the server-side load path runs without a server.
#![forbid(unsafe_code)]

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use async_trait::async_trait;
use session_core::{Error, KeyValueBackend};

/// Runs a future that never waits (every storage here answers at once).
pub fn run<F: Future>(future: F) -> F::Output {
    match pin!(future).as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(output) => output,
        Poll::Pending => unreachable!("nothing here waits for I/O"),
    }
}

/// A store holding one value (the fuzzer's bytes) under every key: the seam that feeds arbitrary
/// stored payloads to the load path Redis and memcached share.
pub struct Stored(pub Vec<u8>);

#[async_trait]
impl KeyValueBackend for Stored {
    fn name(&self) -> &'static str {
        "fuzz"
    }
    async fn load(&self, _: &str) -> Result<Option<Vec<u8>>, Error> {
        Ok(Some(self.0.clone()))
    }
    async fn store(&self, _: &str, _: &[u8], _: Option<u64>, _: i64) -> Result<(), Error> {
        Ok(())
    }
    async fn delete(&self, _: &str) -> Result<(), Error> {
        Ok(())
    }
}
