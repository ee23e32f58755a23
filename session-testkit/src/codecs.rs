//! Codecs the suite swaps in: one that counts its calls, one that forges the stored payload.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use session_core::codec::{Codec, JsonCodec, SessionRecord};
use session_core::{BoxError, Value};

/// JSON written backwards, counting every encode and decode: text the default codec cannot read, so a
/// storage that bypasses its codec on either side is caught.
#[derive(Clone, Debug, Default)]
pub struct ReversedJsonCodec {
    encoded: Arc<AtomicUsize>,
    decoded: Arc<AtomicUsize>,
}

impl ReversedJsonCodec {
    /// How many payloads it has written.
    pub fn encoded(&self) -> usize {
        self.encoded.load(Ordering::SeqCst)
    }

    /// How many payloads it has read.
    pub fn decoded(&self) -> usize {
        self.decoded.load(Ordering::SeqCst)
    }
}

impl Codec for ReversedJsonCodec {
    fn encode(&self, record: &SessionRecord<'_>) -> Result<String, BoxError> {
        self.encoded.fetch_add(1, Ordering::SeqCst);
        Ok(JsonCodec.encode(record)?.chars().rev().collect())
    }

    fn decode(&self, text: &str) -> Result<Value, BoxError> {
        self.decoded.fetch_add(1, Ordering::SeqCst);
        JsonCodec.decode(&text.chars().rev().collect::<String>())
    }
}

/// Writes the same text for every session, whatever it holds: the seam that stores an arbitrary
/// payload (`{}`, a Python-made record, garbage) through any storage's real write path.
#[derive(Clone, Debug)]
pub struct ForgedPayloadCodec(pub String);

impl Codec for ForgedPayloadCodec {
    fn encode(&self, _: &SessionRecord<'_>) -> Result<String, BoxError> {
        Ok(self.0.clone())
    }

    fn decode(&self, text: &str) -> Result<Value, BoxError> {
        JsonCodec.decode(text)
    }
}
