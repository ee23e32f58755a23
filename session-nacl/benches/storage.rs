//! One request's load and save on the NaCl cookie storage, our secretbox's seal and open, and the
//! `crypto_secretbox` crate's on the same bytes, so the report shows our overhead over the crypto.
//!
//! `cargo bench -p session-nacl --bench storage`

use std::hint::black_box;
use std::sync::Arc;

use criterion::{Criterion, criterion_group, criterion_main};
use crypto_secretbox::aead::{AeadInPlace, KeyInit};
use crypto_secretbox::{Key, Nonce, XSalsa20Poly1305};
use session_core::SecretKey;
use session_core::sealed::CookieCipher;
use session_devkit::bench::{large_session, payload, runtime, storage_benchmarks, typical_session};
use session_devkit::vectors::KEY_BASE64;
use session_nacl::{NaClCookieStorage, SecretBoxCipher};

fn storage(c: &mut Criterion) {
    let runtime = runtime();
    storage_benchmarks(c, &runtime, "nacl", Arc::new(NaClCookieStorage::new(KEY_BASE64).expect("key")));
}

fn secretbox_alone(c: &mut Criterion) {
    let key = SecretKey::try_from(KEY_BASE64).expect("key");
    let ours = SecretBoxCipher::new(&key).expect("cipher");
    let secretbox = XSalsa20Poly1305::new(Key::from_slice(key.as_bytes()));
    for (size, data) in [("typical", typical_session()), ("large", large_session())] {
        let payload = payload(&data);
        c.bench_function(&format!("secretbox_ours/{size}/seal_open"), |b| {
            b.iter(|| {
                let cookie = ours.seal(black_box(payload.as_bytes()), 0).expect("seals");
                ours.open(&cookie, None).expect("opens")
            })
        });
        c.bench_function(&format!("secretbox_alone/{size}/encrypt_decrypt"), |b| {
            b.iter(|| {
                // The crate's floor: a fixed nonce, in place, no encoding.
                let nonce = Nonce::default();
                let mut buffer = black_box(payload.as_bytes()).to_vec();
                let tag = secretbox.encrypt_in_place_detached(&nonce, b"", &mut buffer).expect("seals");
                secretbox.decrypt_in_place_detached(&nonce, b"", &mut buffer, &tag).expect("opens");
                buffer
            })
        });
    }
}

criterion_group!(benches, storage, secretbox_alone);
criterion_main!(benches);
