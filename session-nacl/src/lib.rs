//! `NaClCookieStorage`: the session in a NaCl secretbox (XSalsa20-Poly1305) cookie, byte-compatible with
//! aiohttp-session's `NaClCookieStorage` (PyNaCl's `SecretBox`).
//!
//! The cookie is the **standard** base64 (with `+`, `/` and `=` padding) of
//! `nonce (24 bytes) ‖ MAC (16) ‖ ciphertext`, exactly what PyNaCl's
//! `SecretBox(key).encrypt(payload, nonce, encoder=Base64Encoder)` returns, with a fresh random nonce
//! from the operating system's CSPRNG for every save.
//!
//! # Keys
//!
//! A key is 32 random bytes: raw, or as base64 text (url-safe or standard). Generate one with
//! [`NaClCookieStorage::generate_key`] and keep `key.to_base64()` with your secrets, or in Python:
//! `base64.b64encode(nacl.utils.random(32))`. A Python service and a Rust one that share the key
//! share the sessions.
//!
//! To rotate, give [`NaClCookieStorage::with_keys`] the new key first and the old one after: new
//! cookies are sealed with the new key, old ones still open. Drop the old key once `max_age` has passed.
//!
//! # Expiry
//!
//! A secretbox carries no timestamp (unlike Fernet), so expiry is the session's own rule: with the
//! storage's `max_age` set, a session idle for longer than `max_age` since its last write loads empty.
//! **Without `max_age` a cookie never expires**, and a cookie storage cannot revoke one, so set it.
//!
//! ```
//! use session_core::CookieConfig;
//! use session_nacl::NaClCookieStorage;
//!
//! let storage = NaClCookieStorage::new("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=")?
//!     .with_config(CookieConfig::new().max_age(Some(3600)));
//! # Ok::<(), session_core::KeyError>(())
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

use async_trait::async_trait;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use crypto_secretbox::aead::{Aead, AeadCore, KeyInit, OsRng};
use crypto_secretbox::{Key, Nonce, XSalsa20Poly1305};
use session_core::{AbstractStorage, CookieAction, Error, KeyError, KeyRing, SecretKey, Session, StorageConfig};

const NONCE_SIZE: usize = 24;
const TAG_SIZE: usize = 16;

/// Keeps the session in the cookie, sealed with XSalsa20-Poly1305 (see the [crate docs](crate)).
///
/// Anything that does not open (another key, a changed byte, truncation, url-safe base64, garbage) is
/// a fresh session, never an error. An empty session deletes the cookie.
#[derive(Clone, Debug)]
pub struct NaClCookieStorage {
    config: StorageConfig,
    keys: KeyRing<XSalsa20Poly1305>,
}

impl NaClCookieStorage {
    /// A storage that seals and opens with `key`: a [`SecretKey`], raw bytes or base64 text.
    pub fn new<K>(key: K) -> Result<Self, KeyError>
    where
        K: TryInto<SecretKey>,
        KeyError: From<K::Error>,
    {
        Self::with_keys([key.try_into()?])
    }

    /// A storage that seals with the first key and opens with any of them (key rotation).
    pub fn with_keys(keys: impl IntoIterator<Item = SecretKey>) -> Result<Self, KeyError> {
        let keys = KeyRing::new(keys, |key| Ok(XSalsa20Poly1305::new(Key::from_slice(key.as_bytes()))))?;
        Ok(NaClCookieStorage { config: StorageConfig::default(), keys })
    }

    /// Replaces the cookie settings (pass a `CookieConfig`) or the whole configuration (a
    /// `StorageConfig`, which also carries the codec and the clock).
    pub fn with_config(mut self, config: impl Into<StorageConfig>) -> Self {
        self.config = config.into();
        self
    }

    /// A new random key from the operating system's CSPRNG.
    pub fn generate_key() -> SecretKey {
        let key = XSalsa20Poly1305::generate_key(&mut OsRng);
        SecretKey::try_from(key.as_slice()).expect("secretbox keys are 32 bytes")
    }

    /// The cookie for `plaintext` under `nonce`: base64(nonce ‖ MAC ‖ ciphertext). Production code
    /// always passes a fresh random nonce ([`save_session`](AbstractStorage::save_session)); tests
    /// pass a fixed one to reproduce PyNaCl's output.
    fn seal_with(&self, plaintext: &[u8], nonce: &Nonce) -> Result<String, Error> {
        // Fails only for inputs beyond the cipher's 256 GiB keystream.
        let sealed = self.keys.sealing().encrypt(nonce, plaintext).map_err(|e| Error::Encode(e.to_string().into()))?;
        let mut cookie = Vec::with_capacity(NONCE_SIZE + sealed.len());
        cookie.extend_from_slice(nonce);
        cookie.extend_from_slice(&sealed);
        Ok(STANDARD.encode(cookie))
    }

    fn open(&self, cookie: &str) -> Option<Vec<u8>> {
        let raw = STANDARD.decode(cookie).ok()?;
        if raw.len() < NONCE_SIZE + TAG_SIZE {
            return None;
        }
        let (nonce, sealed) = raw.split_at(NONCE_SIZE);
        let nonce = Nonce::from_slice(nonce);
        self.keys.open(|secretbox| secretbox.decrypt(nonce, sealed).ok())
    }
}

#[async_trait]
impl AbstractStorage for NaClCookieStorage {
    fn config(&self) -> &StorageConfig {
        &self.config
    }

    async fn load_session(&self, cookie: Option<&str>) -> Result<Session, Error> {
        Ok(self.config.open_sealed("nacl", cookie, |token| self.open(token)))
    }

    async fn save_session(&self, session: &mut Session) -> Result<CookieAction, Error> {
        let nonce = XSalsa20Poly1305::generate_nonce(&mut OsRng);
        self.config.seal(session, |payload| self.seal_with(payload, &nonce))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use session_core::{CookieConfig, ManualClock};

    use session_testkit::vectors::{
        KEY_BASE64, NACL_COOKIE as PYTHON_COOKIE, PAYLOAD as PLAINTEXT, TIME as T, login_alice,
    };

    fn key() -> SecretKey {
        SecretKey::try_from(KEY_BASE64).unwrap()
    }

    fn storage(clock: &ManualClock, max_age: Option<u64>) -> NaClCookieStorage {
        NaClCookieStorage::new(key())
            .unwrap()
            .with_config(StorageConfig::new(CookieConfig::new().max_age(max_age)).with_clock(clock.clock()))
    }

    #[test]
    fn python_cookie_opens_to_the_python_plaintext() {
        let clock = ManualClock::new(T);
        let plaintext = storage(&clock, None).open(PYTHON_COOKIE).expect("opens");
        assert_eq!(String::from_utf8(plaintext).unwrap(), PLAINTEXT);
    }

    #[tokio::test]
    async fn our_cookie_with_the_zero_nonce_is_the_python_cookie() {
        let clock = ManualClock::new(T);
        let storage = storage(&clock, None);
        let mut session = storage.new_session();
        login_alice(&mut session);
        let payload = storage.config().encode(&session).unwrap();
        assert_eq!(payload, PLAINTEXT);
        assert_eq!(storage.seal_with(payload.as_bytes(), &Nonce::default()).unwrap(), PYTHON_COOKIE);
    }

    #[tokio::test]
    async fn every_save_draws_a_new_nonce() {
        let clock = ManualClock::new(T);
        let storage = storage(&clock, None);
        let mut session = storage.new_session();
        session.insert("user", "alice").unwrap();
        let mut nonces = std::collections::HashSet::new();
        for _ in 0..20 {
            let CookieAction::Set(cookie) = storage.save_session(&mut session).await.unwrap() else {
                panic!("a non-empty session sets the cookie");
            };
            let raw = STANDARD.decode(&cookie).unwrap();
            assert_ne!(&raw[..NONCE_SIZE], &[0u8; NONCE_SIZE]);
            nonces.insert(raw[..NONCE_SIZE].to_vec());
            assert_eq!(
                storage.open(&cookie).map(String::from_utf8),
                Some(Ok(storage.config().encode(&session).unwrap()))
            );
        }
        assert_eq!(nonces.len(), 20);
    }

    #[tokio::test]
    async fn python_cookie_loads_and_expires_by_its_created_time() {
        let clock = ManualClock::new(T + 3600);
        let session = storage(&clock, Some(3600)).load_session(Some(PYTHON_COOKIE)).await.unwrap();
        assert_eq!(session.get::<String>("user").unwrap().as_deref(), Some("alice"));
        clock.advance(1);
        let expired = storage(&clock, Some(3600)).load_session(Some(PYTHON_COOKIE)).await.unwrap();
        assert!(expired.is_empty() && !expired.is_new(), "aiohttp's age check: empty, not new");
    }

    #[test]
    fn anything_but_a_standard_base64_box_under_our_key_is_refused() {
        let clock = ManualClock::new(T);
        let storage = storage(&clock, None);
        let url_safe = PYTHON_COOKIE.replace('+', "-").replace('/', "_");
        let other_key = NaClCookieStorage::new(NaClCookieStorage::generate_key()).unwrap();
        for cookie in [
            url_safe.as_str(),
            &PYTHON_COOKIE[..PYTHON_COOKIE.len() - 4],
            "AAAA",
            "",
            "not base64!",
            &STANDARD.encode([0u8; NONCE_SIZE + TAG_SIZE - 1]),
            &STANDARD.encode([0u8; NONCE_SIZE + TAG_SIZE]),
        ] {
            assert!(storage.open(cookie).is_none(), "{cookie:?}");
        }
        assert!(other_key.open(PYTHON_COOKIE).is_none());
    }

    #[test]
    fn rotation_seals_with_the_first_key_and_opens_with_any() {
        let new = NaClCookieStorage::generate_key();
        let rotated = NaClCookieStorage::with_keys([new.clone(), key()]).unwrap();
        assert!(rotated.open(PYTHON_COOKIE).is_some(), "the old key still opens");
        let cookie = rotated.seal_with(b"{}", &Nonce::default()).unwrap();
        assert!(NaClCookieStorage::new(new).unwrap().open(&cookie).is_some());
        assert!(NaClCookieStorage::new(key()).unwrap().open(&cookie).is_none(), "the old key did not seal it");
    }

    #[test]
    fn wrong_keys_are_constructor_errors_and_keys_are_never_shown() {
        assert_eq!(NaClCookieStorage::new(&[0u8; 31][..]).err(), Some(KeyError::Length(31)));
        assert_eq!(NaClCookieStorage::new("abc").err(), Some(KeyError::DecodedLength(2)));
        assert_eq!(NaClCookieStorage::with_keys([]).err(), Some(KeyError::Missing));
        assert!(format!("{:?}", storage(&ManualClock::new(T), None)).contains("<1 redacted>"));
    }
}
