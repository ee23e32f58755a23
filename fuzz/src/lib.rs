//! What the fuzz targets share: running a storage's load on a small runtime, and a key-value store that
//! holds whatever the fuzzer wrote, so the server-side load and merge paths run without a server.
#![forbid(unsafe_code)]

use std::future::Future;
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use session_core::Error;
use session_core::server_side::{CasOutcome, CompareAndSet, Condition, KeyValueBackend, Versioned};

/// Runs a future on a current-thread runtime with timers (a contended merge pauses between attempts).
pub fn run<F: Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread().enable_time().build().expect("runtime").block_on(future)
}

/// A store holding one value (at first, the fuzzer's bytes) under every key: the seam that feeds
/// arbitrary stored payloads to the load path Redis and memcached share, and to the merge.
pub struct Stored(pub Mutex<Vec<u8>>);

impl Stored {
    /// A store holding `bytes`.
    pub fn new(bytes: Vec<u8>) -> Self {
        Stored(Mutex::new(bytes))
    }

    fn current(&self) -> Vec<u8> {
        self.0.lock().expect("not poisoned").clone()
    }
}

#[async_trait]
impl KeyValueBackend for Stored {
    /// Compares the bytes themselves, as the Redis backend does.
    type Token = ();

    fn name(&self) -> &'static str {
        "fuzz"
    }
    fn compare_and_set(&self) -> Option<&dyn CompareAndSet<Token = ()>> {
        Some(self)
    }
    async fn load(&self, _: &str) -> Result<Option<Vec<u8>>, Error> {
        Ok(Some(self.current()))
    }
    /// Every write is taken: a brand-new id has no entry in a real store, whatever this one holds for
    /// every key, and a loaded one has.
    async fn store(&self, _: &str, payload: &[u8], _: Option<Duration>, _: Condition) -> Result<bool, Error> {
        *self.0.lock().expect("not poisoned") = payload.to_vec();
        Ok(true)
    }
    async fn delete(&self, _: &str) -> Result<(), Error> {
        Ok(())
    }
}

#[async_trait]
impl CompareAndSet for Stored {
    async fn load_versioned(&self, _: &str) -> Result<Option<Versioned<()>>, Error> {
        Ok(Some(Versioned { bytes: self.current(), token: () }))
    }
    async fn store_if(
        &self,
        _: &str,
        payload: &[u8],
        _: Option<Duration>,
        expected: &Versioned<()>,
    ) -> Result<CasOutcome<()>, Error> {
        let mut current = self.0.lock().expect("not poisoned");
        if expected.bytes != *current {
            return Ok(CasOutcome::Conflict);
        }
        *current = payload.to_vec();
        Ok(CasOutcome::Stored(()))
    }
}
