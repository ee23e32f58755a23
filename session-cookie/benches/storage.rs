//! One request's load and save on the cookie storages, and Fernet alone on the same bytes (ours, and
//! the `fernet` crate's), so the report shows our overhead over the crypto; and AES-256-GCM sealing
//! and opening the same bytes the way actix-session's private cookie does (random nonce from the
//! thread RNG, base64), the cipher our Fernet (the wire format Python reads) is compared with.
//!
//! `cargo bench -p session-cookie --bench storage`

use std::hint::black_box;
use std::sync::Arc;

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::prelude::{BASE64_STANDARD, Engine as _};
use criterion::{Criterion, criterion_group, criterion_main};
use rand::Rng;
use session_cookie::{EncryptedCookieStorage, FernetCipher, SimpleCookieStorage};
use session_core::sealed::{CookieCipher, SecretKey};
use session_devkit::bench::{large_session, payload, runtime, storage_benchmarks, typical_session};
use session_devkit::vectors::KEY_BASE64;

fn storages(c: &mut Criterion) {
    let runtime = runtime();
    storage_benchmarks(c, &runtime, "simple", Arc::new(SimpleCookieStorage::new()));
    let encrypted = EncryptedCookieStorage::new(KEY_BASE64).expect("key");
    storage_benchmarks(c, &runtime, "encrypted", Arc::new(encrypted));
}

fn fernet_alone(c: &mut Criterion) {
    let fernet = fernet::Fernet::new(KEY_BASE64).expect("key");
    let ours = FernetCipher::new(&SecretKey::try_from(KEY_BASE64).expect("key")).expect("cipher");
    let aead = Aes256Gcm::new_from_slice(&[7; 32]).expect("a 32-byte key");
    for (size, data) in [("typical", typical_session()), ("large", large_session())] {
        let payload = payload(&data);
        c.bench_function(&format!("fernet_ours/{size}/seal_open"), |b| {
            b.iter(|| {
                let token = ours.seal(black_box(payload.as_bytes()), 1_700_000_000).expect("seals");
                ours.open(&token, None).expect("opens")
            })
        });
        c.bench_function(&format!("aes_gcm/{size}/seal_open"), |b| {
            b.iter(|| {
                let mut nonce = [0u8; 12];
                rand::rng().fill_bytes(&mut nonce);
                let mut sealed = nonce.to_vec();
                let ciphertext = aead.encrypt(Nonce::from_slice(&nonce), black_box(payload.as_bytes())).expect("seals");
                sealed.extend_from_slice(&ciphertext);
                let token = BASE64_STANDARD.encode(&sealed);
                let bytes = BASE64_STANDARD.decode(&token).expect("base64");
                let (nonce, ciphertext) = bytes.split_at(12);
                aead.decrypt(Nonce::from_slice(nonce), ciphertext).expect("opens")
            })
        });
        c.bench_function(&format!("fernet_alone/{size}/encrypt_decrypt"), |b| {
            b.iter(|| {
                let token = fernet.encrypt(black_box(payload.as_bytes()));
                fernet.decrypt(&token).expect("decrypts")
            })
        });
    }
}

criterion_group!(benches, storages, fernet_alone);
criterion_main!(benches);
