//! `NaClCookieStorage`: the session in a NaCl secretbox (XSalsa20-Poly1305) cookie, byte-compatible with
//! aiohttp-session's `NaClCookieStorage` (PyNaCl's `SecretBox`).
//!
//! The cookie is the **standard** base64 (with `+`, `/` and `=` padding) of
//! `nonce (24 bytes) ‖ MAC (16) ‖ ciphertext`, exactly what PyNaCl's
//! `SecretBox(key).encrypt(payload, nonce, encoder=Base64Encoder)` returns, with a fresh random nonce
//! for every save from the thread's CSPRNG (`rand`'s, seeded from the operating system). It is
//! [`SealedCookieStorage`] over the [`SecretBoxCipher`]: key
//! rotation and the cookie rules come from there.
//!
//! # Keys
//!
//! A key is 32 random bytes: raw, or as base64 text (url-safe or standard). Generate one with
//! [`NaClCookieStorage::generate_key`], or in Python: `base64.b64encode(nacl.utils.random(32))`. A
//! Python service and a Rust one that share the key share the sessions (Python takes the bytes,
//! `base64.urlsafe_b64decode(key)`).
//!
//! # Expiry
//!
//! A secretbox carries no timestamp (unlike Fernet), so expiry is the session's own rule: a session
//! past the storage's limits (`max_age` since its last write, an idle or absolute timeout) loads
//! empty. **Without a limit a cookie never expires**, and a cookie storage cannot revoke one, so set
//! one.
//!
//! ```
//! use std::time::Duration;
//! use session_nacl::{NaClCookieStorage, StorageConfig};
//!
//! let storage = NaClCookieStorage::new("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=")?
//!     .with_config(StorageConfig::new().with_max_age(Duration::from_secs(3600)));
//! # Ok::<(), session_nacl::KeyError>(())
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use crypto_secretbox::aead::{AeadInPlace, KeyInit};
use crypto_secretbox::{Key, Nonce, Tag, XSalsa20Poly1305};
use rand::Rng;
use session_core::Error;
use session_core::sealed::{CookieCipher, SealedCookieStorage};

/// What building the storage takes: a key, the error of a bad one, and the settings every storage has.
pub use session_core::StorageConfig;
pub use session_core::sealed::{KeyError, SecretKey};

const NONCE_SIZE: usize = 24;
const TAG_SIZE: usize = 16;

/// Keeps the session in the cookie, sealed with XSalsa20-Poly1305 (see the [crate docs](crate)).
///
/// Anything that does not open (another key, a changed byte, truncation, url-safe base64, garbage) is
/// a fresh session, never an error. An empty session deletes the cookie.
pub type NaClCookieStorage = SealedCookieStorage<SecretBoxCipher>;

/// One secretbox key (see [`NaClCookieStorage`]).
#[derive(Clone)]
pub struct SecretBoxCipher(XSalsa20Poly1305);

impl SecretBoxCipher {
    /// The cookie of `plaintext` under `nonce`: one buffer laid out as PyNaCl writes it
    /// (`nonce ‖ MAC ‖ ciphertext`), encrypted in place, then encoded once.
    fn seal_with(&self, plaintext: &[u8], nonce: &Nonce) -> Result<String, Error> {
        let mut cookie = Vec::with_capacity(NONCE_SIZE + TAG_SIZE + plaintext.len());
        cookie.extend_from_slice(nonce);
        cookie.extend_from_slice(&[0; TAG_SIZE]);
        cookie.extend_from_slice(plaintext);
        // Fails only for inputs beyond the cipher's 256 GiB keystream.
        let tag = self
            .0
            .encrypt_in_place_detached(nonce, b"", &mut cookie[NONCE_SIZE + TAG_SIZE..])
            .map_err(|e| Error::Encode(e.to_string().into()))?;
        cookie[NONCE_SIZE..NONCE_SIZE + TAG_SIZE].copy_from_slice(&tag);
        Ok(STANDARD.encode(cookie))
    }
}

impl CookieCipher for SecretBoxCipher {
    const NAME: &'static str = "nacl";

    fn new(key: &SecretKey) -> Result<Self, KeyError> {
        Ok(SecretBoxCipher(XSalsa20Poly1305::new(Key::from_slice(key.as_bytes()))))
    }

    /// A fresh random nonce for every save, from the thread's CSPRNG (ChaCha12 seeded from the
    /// operating system and reseeded every 64 KiB): 192 random bits never repeat in practice, and a
    /// system call per cookie was a measurable share of a seal.
    fn seal(&self, plaintext: &[u8], _now: i64) -> Result<String, Error> {
        let mut nonce = Nonce::default();
        rand::rng().fill_bytes(&mut nonce);
        self.seal_with(plaintext, &nonce)
    }

    fn open(&self, cookie: &str, _now: i64, _ttl: Option<Duration>) -> Option<Vec<u8>> {
        let mut raw = STANDARD.decode(cookie).ok()?;
        if raw.len() < NONCE_SIZE + TAG_SIZE {
            return None;
        }
        let (head, ciphertext) = raw.split_at_mut(NONCE_SIZE + TAG_SIZE);
        let (nonce, tag) = head.split_at(NONCE_SIZE);
        self.0.decrypt_in_place_detached(Nonce::from_slice(nonce), b"", ciphertext, Tag::from_slice(tag)).ok()?;
        raw.drain(..NONCE_SIZE + TAG_SIZE);
        Some(raw)
    }
}

#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

#[cfg(test)]
mod tests {
    use super::*;
    use session_core::ManualClock;
    use session_core::storage::{AbstractStorage, CookieAction, Origin};
    use session_devkit::vectors::{
        KEY_BASE64, NACL_COOKIE as PYTHON_COOKIE, PAYLOAD as PLAINTEXT, TIME as T, login_alice,
    };

    fn cipher() -> SecretBoxCipher {
        SecretBoxCipher::new(&SecretKey::try_from(KEY_BASE64).unwrap()).unwrap()
    }

    fn storage(clock: &ManualClock, max_age: Option<u64>) -> NaClCookieStorage {
        let config = StorageConfig::new().with_max_age(max_age.map(Duration::from_secs)).with_clock(clock.clock());
        NaClCookieStorage::new(KEY_BASE64).unwrap().with_config(config)
    }

    fn run<F: std::future::Future>(future: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(future)
    }

    #[test]
    fn python_cookie_opens_to_the_python_plaintext() {
        let plaintext = cipher().open(PYTHON_COOKIE, T, None).expect("opens");
        assert_eq!(String::from_utf8(plaintext).unwrap(), PLAINTEXT);
    }

    #[test]
    fn our_cookie_with_the_zero_nonce_is_the_python_cookie() {
        let clock = ManualClock::new(T);
        let storage = storage(&clock, None);
        let mut session = storage.new_state();
        login_alice(&mut session);
        let payload = storage.config().encode(&session).unwrap();
        assert_eq!(payload, PLAINTEXT);
        assert_eq!(cipher().seal_with(payload.as_bytes(), &Nonce::default()).unwrap(), PYTHON_COOKIE);
    }

    #[test]
    fn every_save_draws_a_new_nonce() {
        let clock = ManualClock::new(T);
        let storage = storage(&clock, None);
        let mut session = storage.new_state();
        session.insert("user", "alice").unwrap();
        let mut nonces = std::collections::HashSet::new();
        for _ in 0..20 {
            let CookieAction::Set(cookie) = run(storage.save_session(&mut session, Origin::none())).unwrap() else {
                panic!("a non-empty session sets the cookie");
            };
            let raw = STANDARD.decode(&cookie).unwrap();
            assert_ne!(&raw[..NONCE_SIZE], &[0u8; NONCE_SIZE]);
            nonces.insert(raw[..NONCE_SIZE].to_vec());
            assert_eq!(
                cipher().open(&cookie, T, None).map(String::from_utf8),
                Some(Ok(storage.config().encode(&session).unwrap()))
            );
        }
        assert_eq!(nonces.len(), 20);
    }

    #[test]
    fn python_cookie_loads_and_expires_by_its_created_time() {
        let clock = ManualClock::new(T + 3600);
        let session = run(storage(&clock, Some(3600)).load_session(Some(PYTHON_COOKIE))).unwrap().session;
        assert_eq!(session.get::<String>("user").unwrap().as_deref(), Some("alice"));
        clock.advance(1);
        let expired = run(storage(&clock, Some(3600)).load_session(Some(PYTHON_COOKIE))).unwrap().session;
        // aiohttp keeps an expired session as empty and not new; we start a fresh one, as for any
        // cookie that is no longer good.
        assert!(expired.is_empty() && expired.is_new(), "past max_age: a fresh session");
    }

    #[test]
    fn anything_but_a_standard_base64_box_under_our_key_is_refused() {
        let url_safe = PYTHON_COOKIE.replace('+', "-").replace('/', "_");
        let other_key = SecretBoxCipher::new(&SecretKey::generate().unwrap()).unwrap();
        for cookie in [
            url_safe.as_str(),
            &PYTHON_COOKIE[..PYTHON_COOKIE.len() - 4],
            "AAAA",
            "",
            "not base64!",
            &STANDARD.encode([0u8; NONCE_SIZE + TAG_SIZE - 1]),
            &STANDARD.encode([0u8; NONCE_SIZE + TAG_SIZE]),
        ] {
            assert!(cipher().open(cookie, T, None).is_none(), "{cookie:?}");
        }
        assert!(other_key.open(PYTHON_COOKIE, T, None).is_none());
    }

    #[test]
    fn wrong_keys_are_constructor_errors_and_keys_are_never_shown() {
        assert_eq!(NaClCookieStorage::new(&[0u8; 31][..]).err(), Some(KeyError::Length(31)));
        assert_eq!(NaClCookieStorage::new("abc").err(), Some(KeyError::DecodedLength(2)));
        assert!(format!("{:?}", storage(&ManualClock::new(T), None)).contains("<1 redacted>"));
    }
}
