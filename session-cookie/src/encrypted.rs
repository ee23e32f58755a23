//! The session payload in a Fernet token: aiohttp-session's `EncryptedCookieStorage`.

use async_trait::async_trait;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use fernet::Fernet;
use session_core::{AbstractStorage, CookieAction, Error, KeyError, KeyRing, SecretKey, Session, StorageConfig};

/// How far in the future a token's timestamp may be when a TTL is set (Python `cryptography`'s
/// `_MAX_CLOCK_SKEW`).
const MAX_CLOCK_SKEW: u64 = 60;

/// Keeps the session in the cookie, encrypted and authenticated with
/// [Fernet](https://github.com/fernet/spec) (AES-128-CBC + HMAC-SHA256), byte-compatible with
/// aiohttp-session's `EncryptedCookieStorage`: a Python service with the same key reads our cookies
/// and we read its.
///
/// - **Key**: 32 bytes, given raw or as base64 text ([`SecretKey`]); `Fernet.generate_key()` output
///   works as it is. Generate one with [`EncryptedCookieStorage::generate_key`].
/// - **Expiry**: the storage's `max_age` is the Fernet TTL, counted from the last save, and tokens
///   stamped more than 60 s in the future are refused when it is set; the session's own idle check
///   applies too. **Without `max_age` a cookie is valid forever**, and since a cookie storage cannot
///   revoke anything, a copied cookie stays usable after logout: set `max_age`.
/// - **Anything that does not decrypt** (another key, tampering, truncation, garbage, expiry) is a
///   fresh session, never an error.
/// - **Key rotation**: [`with_keys`](Self::with_keys) takes several keys; the first encrypts, any
///   decrypts. Put the new key first, keep the old one until `max_age` has passed, then drop it.
/// - An empty session deletes the cookie.
///
/// ```
/// use session_cookie::EncryptedCookieStorage;
/// use session_core::CookieConfig;
///
/// let storage = EncryptedCookieStorage::new("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=")?
///     .with_config(CookieConfig::new().max_age(Some(3600)).secure(true));
/// # Ok::<(), session_core::KeyError>(())
/// ```
#[derive(Clone, Debug)]
pub struct EncryptedCookieStorage {
    config: StorageConfig,
    keys: KeyRing<Fernet>,
}

impl EncryptedCookieStorage {
    /// A storage that encrypts and decrypts with `key`: a [`SecretKey`], raw bytes (`&[u8]`,
    /// `[u8; 32]`) or base64 text (`&str`, `String`), as aiohttp-session accepts them.
    pub fn new<K>(key: K) -> Result<Self, KeyError>
    where
        K: TryInto<SecretKey>,
        KeyError: From<K::Error>,
    {
        Self::with_keys([key.try_into()?])
    }

    /// A storage that encrypts with the first key and decrypts with any of them (key rotation).
    ///
    /// ```
    /// use session_cookie::EncryptedCookieStorage;
    /// use session_core::SecretKey;
    ///
    /// let new = EncryptedCookieStorage::generate_key();
    /// let old = SecretKey::try_from("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=")?;
    /// let storage = EncryptedCookieStorage::with_keys([new, old])?;
    /// # Ok::<(), session_core::KeyError>(())
    /// ```
    pub fn with_keys(keys: impl IntoIterator<Item = SecretKey>) -> Result<Self, KeyError> {
        let keys = KeyRing::new(keys, |key| Fernet::new(&key.to_base64()).ok_or(KeyError::DecodedLength(32)))?;
        Ok(EncryptedCookieStorage { config: StorageConfig::default(), keys })
    }

    /// Replaces the cookie settings (pass a `CookieConfig`) or the whole configuration (a
    /// `StorageConfig`, which also carries the codec and the clock).
    pub fn with_config(mut self, config: impl Into<StorageConfig>) -> Self {
        self.config = config.into();
        self
    }

    /// A new random key from the operating system's CSPRNG. Store it (`key.to_base64()`) where the
    /// application reads its secrets: a key generated at each start logs every user out at each restart.
    pub fn generate_key() -> SecretKey {
        SecretKey::from_base64(&Fernet::generate_key()).expect("Fernet::generate_key gives 32 bytes in base64")
    }

    fn decrypt(&self, token: &str) -> Option<Vec<u8>> {
        let now = u64::try_from(self.config.now()).unwrap_or(0);
        let stamped = token_timestamp(token)?;
        let ttl = self.config.max_age();
        // The fernet crate adds the TTL to the token's timestamp and the skew to now unchecked; decide the
        // edge cases here so a forged timestamp cannot overflow it. Without a TTL Python accepts tokens
        // from the future, and so do we.
        let (ttl, now) = match ttl {
            Some(_) if stamped > now.saturating_add(MAX_CLOCK_SKEW) => return None,
            Some(ttl) if stamped.checked_add(ttl).is_none() => (None, now),
            Some(ttl) => (Some(ttl), now),
            None => (None, now.max(stamped.saturating_sub(MAX_CLOCK_SKEW))),
        };
        self.keys.open(|fernet| fernet.decrypt_at_time(token, ttl, now).ok())
    }
}

/// The timestamp of a Fernet token, from its first 12 base64 characters (version byte + 8 bytes).
fn token_timestamp(token: &str) -> Option<u64> {
    let head = URL_SAFE_NO_PAD.decode(token.get(..12)?).ok()?;
    match head.as_slice() {
        [0x80, stamp @ ..] => Some(u64::from_be_bytes(stamp.try_into().ok()?)),
        _ => None,
    }
}

#[async_trait]
impl AbstractStorage for EncryptedCookieStorage {
    fn config(&self) -> &StorageConfig {
        &self.config
    }

    async fn load_session(&self, cookie: Option<&str>) -> Result<Session, Error> {
        Ok(self.config.open_sealed("encrypted", cookie, |token| self.decrypt(token)))
    }

    async fn save_session(&self, session: &mut Session) -> Result<CookieAction, Error> {
        let now = u64::try_from(self.config.now()).unwrap_or(0);
        self.config.seal(session, |payload| Ok(self.keys.sealing().encrypt_at_time(payload, now)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use session_core::{CookieConfig, ManualClock};

    use session_testkit::vectors::{
        FERNET_TOKEN as PYTHON_TOKEN, KEY_BASE64, PAYLOAD as PLAINTEXT, TIME as T, login_alice,
    };

    fn key() -> SecretKey {
        SecretKey::try_from(KEY_BASE64).unwrap()
    }

    fn storage(clock: &ManualClock, max_age: Option<u64>) -> EncryptedCookieStorage {
        EncryptedCookieStorage::new(key())
            .unwrap()
            .with_config(StorageConfig::new(CookieConfig::new().max_age(max_age)).with_clock(clock.clock()))
    }

    #[test]
    fn python_vector_decrypts_to_the_python_plaintext() {
        let clock = ManualClock::new(T);
        let plaintext = storage(&clock, None).decrypt(PYTHON_TOKEN).expect("decrypts");
        assert_eq!(String::from_utf8(plaintext).unwrap(), PLAINTEXT);
        assert_eq!(token_timestamp(PYTHON_TOKEN), Some(T as u64));
    }

    #[tokio::test]
    async fn python_vector_loads_as_the_python_session() {
        let clock = ManualClock::new(T + 3600);
        let session = storage(&clock, Some(3600)).load_session(Some(PYTHON_TOKEN)).await.unwrap();
        assert!(!session.is_new());
        assert_eq!(session.get::<String>("user").unwrap().as_deref(), Some("alice"));
        assert_eq!(session.get::<i64>("n").unwrap(), Some(42));
        assert_eq!(session.created(), T);
    }

    #[tokio::test]
    async fn our_payload_bytes_equal_the_python_plaintext_and_our_token_decrypts_in_python_form() {
        let clock = ManualClock::new(T);
        let storage = storage(&clock, None);
        let mut session = storage.new_session();
        login_alice(&mut session);
        assert_eq!(storage.config().encode(&session).unwrap(), PLAINTEXT);
        let CookieAction::Set(token) = storage.save_session(&mut session).await.unwrap() else {
            panic!("a non-empty session sets the cookie");
        };
        // Same key, same time, same plaintext: only the random IV differs from the Python token.
        assert_eq!(token.len(), PYTHON_TOKEN.len());
        assert_eq!(&token[..12], &PYTHON_TOKEN[..12], "version and timestamp");
        assert_ne!(token, PYTHON_TOKEN, "the IV is random");
        assert_eq!(storage.decrypt(&token).map(String::from_utf8), Some(Ok(PLAINTEXT.to_owned())));
    }

    #[test]
    fn ttl_is_the_storage_max_age_counted_from_the_token_time() {
        let clock = ManualClock::new(T + 3600);
        assert!(storage(&clock, Some(3600)).decrypt(PYTHON_TOKEN).is_some(), "age == ttl is valid");
        clock.advance(1);
        assert!(storage(&clock, Some(3600)).decrypt(PYTHON_TOKEN).is_none());
        assert!(storage(&clock, None).decrypt(PYTHON_TOKEN).is_some(), "no max_age, no TTL");
    }

    #[test]
    fn future_tokens_are_refused_past_the_skew_only_with_a_ttl() {
        let clock = ManualClock::new(T - 60);
        assert!(storage(&clock, Some(10)).decrypt(PYTHON_TOKEN).is_some(), "60 s ahead is tolerated");
        clock.set(T - 61);
        assert!(storage(&clock, Some(10)).decrypt(PYTHON_TOKEN).is_none());
        clock.set(T - 100_000);
        assert!(storage(&clock, None).decrypt(PYTHON_TOKEN).is_some(), "Python accepts it without a TTL");
    }

    #[test]
    fn forged_extreme_timestamps_are_rejected_without_overflow() {
        let clock = ManualClock::new(T);
        for stamp in [u64::MAX, u64::MAX - 30, 0] {
            let mut raw = vec![0x80];
            raw.extend_from_slice(&stamp.to_be_bytes());
            raw.extend_from_slice(&[0u8; 16 + 16 + 32]);
            let token = base64::engine::general_purpose::URL_SAFE.encode(&raw);
            for max_age in [None, Some(10), Some(u64::MAX)] {
                assert!(storage(&clock, max_age).decrypt(&token).is_none());
            }
        }
    }

    #[test]
    fn rotation_encrypts_with_the_first_key_and_decrypts_with_any() {
        let clock = ManualClock::new(T);
        let new = EncryptedCookieStorage::generate_key();
        let rotated = EncryptedCookieStorage::with_keys([new.clone(), key()])
            .unwrap()
            .with_config(StorageConfig::default().with_clock(clock.clock()));
        assert!(rotated.decrypt(PYTHON_TOKEN).is_some(), "old key still decrypts");
        let token = rotated.keys.sealing().encrypt_at_time(b"{}", T as u64);
        let only_new =
            EncryptedCookieStorage::new(new).unwrap().with_config(StorageConfig::default().with_clock(clock.clock()));
        assert!(only_new.decrypt(&token).is_some());
        assert!(storage(&clock, None).decrypt(&token).is_none(), "the old key did not encrypt it");
    }

    #[test]
    fn wrong_keys_are_constructor_errors() {
        assert_eq!(EncryptedCookieStorage::new(&b"123"[..]).err(), Some(KeyError::Length(3)));
        assert_eq!(EncryptedCookieStorage::new("short").err(), Some(KeyError::NotBase64));
        assert_eq!(EncryptedCookieStorage::with_keys([]).err(), Some(KeyError::Missing));
    }

    #[test]
    fn debug_hides_the_keys() {
        let shown = format!("{:?}", EncryptedCookieStorage::new(key()).unwrap());
        assert!(shown.contains("<1 redacted>"));
        assert!(!shown.contains("AAEC"));
    }
}
