//! Forged cookies: every single-bit change of a valid cookie must load as a fresh session.

use std::sync::Arc;

use session_core::AbstractStorage;

/// Flips every bit of the bytes under `cookie` (decoded with `decode`, re-encoded with `encode`), one at
/// a time, and checks that each forgery loads as a fresh session. Also flips every bit of the cookie
/// text itself where the result is still text. Returns how many forgeries were tried.
pub async fn every_bit_flip_is_refused(
    storage: &Arc<dyn AbstractStorage>,
    cookie: &str,
    decode: impl Fn(&str) -> Vec<u8>,
    encode: impl Fn(&[u8]) -> String,
) -> usize {
    let genuine = storage.load_session(Some(cookie)).await.expect("load").session;
    assert!(!genuine.is_new() && !genuine.is_empty(), "the genuine cookie must load, or nothing is tested");
    let bytes = decode(cookie);
    let mut forgeries: Vec<String> = Vec::new();
    for index in 0..bytes.len() * 8 {
        let mut forged = bytes.clone();
        forged[index / 8] ^= 1 << (index % 8);
        forgeries.push(encode(&forged));
    }
    for index in 0..cookie.len() * 8 {
        let mut forged = cookie.as_bytes().to_vec();
        forged[index / 8] ^= 1 << (index % 8);
        if let Ok(text) = String::from_utf8(forged) {
            forgeries.push(text);
        }
    }
    for forged in &forgeries {
        let session = storage.load_session(Some(forged)).await.expect("a forgery is not an error").session;
        assert!(session.is_new() && session.is_empty(), "a forged cookie loaded: {forged}");
    }
    forgeries.len()
}
