//! One request's load and save on the cookie storages, and Fernet alone on the same bytes (ours, and
//! the `fernet` crate's), so the report shows our overhead over the crypto.
//!
//! `cargo bench -p session-cookie --bench storage`

use std::hint::black_box;
use std::sync::Arc;

use criterion::{Criterion, criterion_group, criterion_main};
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
    for (size, data) in [("typical", typical_session()), ("large", large_session())] {
        let payload = payload(&data);
        c.bench_function(&format!("fernet_ours/{size}/seal_open"), |b| {
            b.iter(|| {
                let token = ours.seal(black_box(payload.as_bytes()), 1_700_000_000).expect("seals");
                ours.open(&token, None).expect("opens")
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
