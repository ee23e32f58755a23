//! The Fernet cipher of aiohttp-session's `EncryptedCookieStorage`.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use session_core::Error;
use session_core::sealed::{CookieCipher, KeyError, SealedCookieStorage, SecretKey};

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
/// - **Expiry**: the storage's `max_age` is also the Fernet TTL, counted from the last save, and tokens
///   stamped more than 60 s in the future are refused when it is set. **Without a limit a cookie is
///   valid forever**, and since a cookie storage cannot revoke anything, a copied cookie stays usable
///   after logout: set `max_age` (or an idle or absolute timeout).
/// - **Key rotation**: [`with_keys`](SealedCookieStorage::with_keys) takes several keys; the first
///   encrypts, any decrypts.
/// - Anything that does not decrypt is a fresh session; an empty session deletes the cookie.
///
/// ```
/// use std::time::Duration;
/// use session_cookie::EncryptedCookieStorage;
/// use session_core::StorageConfig;
///
/// // The same key text as Python's Fernet.generate_key(); keep it with your secrets.
/// let key = std::env::var("SESSION_SECRET_KEY").unwrap_or_else(|_| EncryptedCookieStorage::generate_key());
/// let storage = EncryptedCookieStorage::new(key)?
///     .with_config(StorageConfig::new().with_max_age(Duration::from_secs(3600)));
/// # Ok::<(), session_cookie::KeyError>(())
/// ```
pub type EncryptedCookieStorage = SealedCookieStorage<FernetCipher>;

/// One Fernet key (see [`EncryptedCookieStorage`]).
#[derive(Clone)]
pub struct FernetCipher(fernet::Fernet);

impl CookieCipher for FernetCipher {
    const NAME: &'static str = "encrypted";

    fn new(key: &SecretKey) -> Result<Self, KeyError> {
        fernet::Fernet::new(&key.to_base64()).map(FernetCipher).ok_or(KeyError::DecodedLength(32))
    }

    fn seal(&self, plaintext: &[u8], now: i64) -> Result<String, Error> {
        Ok(self.0.encrypt_at_time(plaintext, u64::try_from(now).unwrap_or(0)))
    }

    fn open(&self, token: &str, now: i64, ttl: Option<Duration>) -> Option<Vec<u8>> {
        let now = u64::try_from(now).unwrap_or(0);
        let stamped = token_timestamp(token)?;
        // The fernet crate adds the TTL to the token's timestamp and the skew to now unchecked; decide the
        // edge cases here so a forged timestamp cannot overflow it. Without a TTL Python accepts tokens
        // from the future, and so do we.
        let (ttl, now) = match ttl.map(|ttl| ttl.as_secs()) {
            Some(_) if stamped > now.saturating_add(MAX_CLOCK_SKEW) => return None,
            Some(ttl) if stamped.checked_add(ttl).is_none() => (None, now),
            Some(ttl) => (Some(ttl), now),
            None => (None, now.max(stamped.saturating_sub(MAX_CLOCK_SKEW))),
        };
        self.0.decrypt_at_time(token, ttl, now).ok()
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

#[cfg(test)]
mod tests {
    use super::*;
    use session_core::storage::{AbstractStorage, CookieAction, Origin};
    use session_core::{ManualClock, StorageConfig};
    use session_devkit::vectors::{
        FERNET_TOKEN as PYTHON_TOKEN, KEY_BASE64, PAYLOAD as PLAINTEXT, TIME as T, login_alice,
    };

    fn cipher() -> FernetCipher {
        FernetCipher::new(&SecretKey::try_from(KEY_BASE64).unwrap()).unwrap()
    }

    fn storage(clock: &ManualClock, max_age: Option<u64>) -> EncryptedCookieStorage {
        let config = StorageConfig::new().with_max_age(max_age.map(Duration::from_secs)).with_clock(clock.clock());
        EncryptedCookieStorage::new(KEY_BASE64).unwrap().with_config(config)
    }

    fn run<F: std::future::Future>(future: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(future)
    }

    #[test]
    fn python_vector_decrypts_to_the_python_plaintext() {
        let plaintext = cipher().open(PYTHON_TOKEN, T, None).expect("decrypts");
        assert_eq!(String::from_utf8(plaintext).unwrap(), PLAINTEXT);
        assert_eq!(token_timestamp(PYTHON_TOKEN), Some(T as u64));
    }

    #[test]
    fn python_vector_loads_as_the_python_session() {
        let clock = ManualClock::new(T + 3600);
        let session = run(storage(&clock, Some(3600)).load_session(Some(PYTHON_TOKEN))).unwrap().session;
        assert!(!session.is_new());
        assert_eq!(session.get::<String>("user").unwrap().as_deref(), Some("alice"));
        assert_eq!(session.get::<i64>("n").unwrap(), Some(42));
        assert_eq!(session.created(), T);
    }

    #[test]
    fn our_payload_bytes_equal_the_python_plaintext_and_our_token_decrypts_in_python_form() {
        let clock = ManualClock::new(T);
        let storage = storage(&clock, None);
        let mut session = storage.new_state();
        login_alice(&mut session);
        assert_eq!(storage.config().encode(&session).unwrap(), PLAINTEXT);
        let CookieAction::Set(token) = run(storage.save_session(&mut session, Origin::none())).unwrap() else {
            panic!("a non-empty session sets the cookie");
        };
        // Same key, same time, same plaintext: only the random IV differs from the Python token.
        assert_eq!(token.len(), PYTHON_TOKEN.len());
        assert_eq!(&token[..12], &PYTHON_TOKEN[..12], "version and timestamp");
        assert_ne!(token, PYTHON_TOKEN, "the IV is random");
        assert_eq!(cipher().open(&token, T, None).map(String::from_utf8), Some(Ok(PLAINTEXT.to_owned())));
    }

    #[test]
    fn ttl_is_the_storage_max_age_counted_from_the_token_time() {
        let hour = Some(Duration::from_secs(3600));
        assert!(cipher().open(PYTHON_TOKEN, T + 3600, hour).is_some(), "age == ttl is valid");
        assert!(cipher().open(PYTHON_TOKEN, T + 3601, hour).is_none());
        assert!(cipher().open(PYTHON_TOKEN, T + 3601, None).is_some(), "no max_age, no TTL");
    }

    #[test]
    fn future_tokens_are_refused_past_the_skew_only_with_a_ttl() {
        let ten = Some(Duration::from_secs(10));
        assert!(cipher().open(PYTHON_TOKEN, T - 60, ten).is_some(), "60 s ahead is tolerated");
        assert!(cipher().open(PYTHON_TOKEN, T - 61, ten).is_none());
        assert!(cipher().open(PYTHON_TOKEN, T - 100_000, None).is_some(), "Python accepts it without a TTL");
    }

    #[test]
    fn forged_extreme_timestamps_are_rejected_without_overflow() {
        for stamp in [u64::MAX, u64::MAX - 30, 0] {
            let mut raw = vec![0x80];
            raw.extend_from_slice(&stamp.to_be_bytes());
            raw.extend_from_slice(&[0u8; 16 + 16 + 32]);
            let token = base64::engine::general_purpose::URL_SAFE.encode(&raw);
            for ttl in [None, Some(10), Some(u64::MAX)] {
                assert!(cipher().open(&token, T, ttl.map(Duration::from_secs)).is_none());
            }
        }
    }

    #[test]
    fn wrong_keys_are_constructor_errors_and_keys_are_never_shown() {
        assert_eq!(EncryptedCookieStorage::new(&b"123"[..]).err(), Some(KeyError::Length(3)));
        assert_eq!(EncryptedCookieStorage::new("short").err(), Some(KeyError::NotBase64));
        let shown = format!("{:?}", EncryptedCookieStorage::new(KEY_BASE64).unwrap());
        assert!(shown.contains("<1 redacted>") && !shown.contains("AAEC"), "{shown}");
    }
}
