//! The Fernet cipher of aiohttp-session's `EncryptedCookieStorage`.

use aes::Aes128;
use aes::cipher::block_padding::Pkcs7;
use aes::cipher::{BlockDecryptMut, BlockEncryptMut, InnerIvInit, KeyInit};
use base64_simd::URL_SAFE;
use hmac::{Hmac, Mac};
use rand::Rng;
use session_core::Error;
use session_core::sealed::{AgeLimit, CookieCipher, KeyError, SealedCookieStorage, SecretKey};
use sha2::Sha256;

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

/// One Fernet key (see [`EncryptedCookieStorage`]): its AES-128 key schedule and its HMAC-SHA256
/// state, each set up once.
///
/// Fernet is written here on the RustCrypto primitives rather than through the `fernet` crate, which
/// sets up both keys and asks the OS for each IV on every call: for a ~300-byte session that setup was
/// most of a seal. The IV comes from `rand`'s thread RNG (ChaCha12 seeded from the OS and reseeded
/// every 64 KiB), as the Fernet spec allows for a CSPRNG. The `fernet` crate stays as the tests'
/// oracle: every token of ours opens with it and every token of it opens with ours.
#[derive(Clone)]
pub struct FernetCipher {
    encryption: Aes128,
    signing: Hmac<Sha256>,
}

/// Version byte, timestamp, IV: what precedes the ciphertext.
const HEADER: usize = 1 + 8 + 16;
/// The HMAC-SHA256 tag at the end.
const TAG: usize = 32;
const VERSION: u8 = 0x80;

impl CookieCipher for FernetCipher {
    const NAME: &'static str = "encrypted";

    fn new(key: &SecretKey) -> Result<Self, KeyError> {
        // A Fernet key is the signing key, then the encryption key.
        let (signing, encryption) = key.as_bytes().split_at(16);
        let signing = <Hmac<Sha256> as Mac>::new_from_slice(signing).map_err(|_| KeyError::DecodedLength(32))?;
        let encryption = Aes128::new_from_slice(encryption).map_err(|_| KeyError::DecodedLength(32))?;
        Ok(FernetCipher { encryption, signing })
    }

    fn seal(&self, plaintext: &[u8], now: i64) -> Result<String, Error> {
        let mut iv = [0u8; 16];
        rand::rng().fill_bytes(&mut iv);
        let padded = (plaintext.len() / 16 + 1) * 16;
        let mut token = Vec::with_capacity(HEADER + padded + TAG);
        token.push(VERSION);
        token.extend_from_slice(&u64::try_from(now).unwrap_or(0).to_be_bytes());
        token.extend_from_slice(&iv);
        token.extend_from_slice(plaintext);
        token.resize(HEADER + padded, 0);
        // The key schedule by reference: `Aes128` keeps the AES-NI or the software schedule in a
        // union the size of the software one (704 bytes), a copy per call as `perf record` of the
        // bench's fresh visitors showed.
        cbc::Encryptor::<&Aes128>::inner_iv_init(&self.encryption, &iv.into())
            .encrypt_padded_mut::<Pkcs7>(&mut token[HEADER..], plaintext.len())
            .map_err(|_| Error::backend("Fernet padding: the buffer was sized for it"))?;
        let mut mac = self.signing.clone();
        mac.update(&token);
        token.extend_from_slice(&mac.finalize().into_bytes());
        Ok(URL_SAFE.encode_to_string(&token))
    }

    fn open(&self, token: &str, limit: Option<AgeLimit>) -> Option<Vec<u8>> {
        let mut raw = URL_SAFE.decode_to_vec(token).ok()?;
        let ciphertext = raw.len().checked_sub(HEADER + TAG).filter(|n| *n > 0 && n % 16 == 0)?;
        if raw[0] != VERSION {
            return None;
        }
        let stamped = u64::from_be_bytes(raw[1..9].try_into().ok()?);
        // Python's `cryptography` checks the age and the clock skew only with a TTL; so do we, without
        // overflow on a forged timestamp.
        if let Some(AgeLimit { now, ttl }) = limit {
            let (now, ttl) = (u64::try_from(now).unwrap_or(0), ttl.as_secs());
            if stamped > now.saturating_add(MAX_CLOCK_SKEW) || stamped.saturating_add(ttl) < now {
                return None;
            }
        }
        let (signed, tag) = raw.split_at(HEADER + ciphertext);
        let mut mac = self.signing.clone();
        mac.update(signed);
        mac.verify_slice(tag).ok()?;
        let iv: [u8; 16] = raw[9..HEADER].try_into().ok()?;
        let plaintext = cbc::Decryptor::<&Aes128>::inner_iv_init(&self.encryption, &iv.into())
            .decrypt_padded_mut::<Pkcs7>(&mut raw[HEADER..HEADER + ciphertext])
            .ok()?
            .len();
        raw.copy_within(HEADER..HEADER + plaintext, 0);
        raw.truncate(plaintext);
        Some(raw)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    // The `base64` crate in the tests: a second implementation takes the tokens apart.
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE;

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
        let plaintext = cipher().open(PYTHON_TOKEN, None).expect("decrypts");
        assert_eq!(String::from_utf8(plaintext).unwrap(), PLAINTEXT);
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
        assert_eq!(cipher().open(&token, None).map(String::from_utf8), Some(Ok(PLAINTEXT.to_owned())));
    }

    #[test]
    fn ttl_is_the_storage_max_age_counted_from_the_token_time() {
        let hour = |now| Some(AgeLimit { now, ttl: Duration::from_secs(3600) });
        assert!(cipher().open(PYTHON_TOKEN, hour(T + 3600)).is_some(), "age == ttl is valid");
        assert!(cipher().open(PYTHON_TOKEN, hour(T + 3601)).is_none());
        assert!(cipher().open(PYTHON_TOKEN, None).is_some(), "no max_age, no TTL");
    }

    #[test]
    fn future_tokens_are_refused_past_the_skew_only_with_a_ttl() {
        let ten = |now| Some(AgeLimit { now, ttl: Duration::from_secs(10) });
        assert!(cipher().open(PYTHON_TOKEN, ten(T - 60)).is_some(), "60 s ahead is tolerated");
        assert!(cipher().open(PYTHON_TOKEN, ten(T - 61)).is_none());
        assert!(cipher().open(PYTHON_TOKEN, None).is_some(), "Python accepts it without a TTL");
    }

    #[test]
    fn forged_extreme_timestamps_are_rejected_without_overflow() {
        for stamp in [u64::MAX, u64::MAX - 30, 0] {
            let mut raw = vec![0x80];
            raw.extend_from_slice(&stamp.to_be_bytes());
            raw.extend_from_slice(&[0u8; 16 + 16 + 32]);
            let token = URL_SAFE.encode(&raw);
            for ttl in [None, Some(10), Some(u64::MAX)] {
                let limit = ttl.map(|ttl| AgeLimit { now: T, ttl: Duration::from_secs(ttl) });
                assert!(cipher().open(&token, limit).is_none());
            }
        }
    }

    proptest::proptest! {
        /// Every token of ours opens with the `fernet` crate and every token of it opens with ours, at
        /// any time and for any plaintext; a token with one byte changed opens with neither.
        #[test]
        fn tokens_cross_with_the_fernet_crate(
            plaintext in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..600),
            now in 0i64..4_000_000_000,
            flip in 0usize..1000,
        ) {
            let oracle = fernet::Fernet::new(KEY_BASE64).unwrap();
            let ours = cipher();
            let token = ours.seal(&plaintext, now).unwrap();
            proptest::prop_assert_eq!(oracle.decrypt_at_time(&token, None, now as u64).ok(), Some(plaintext.clone()));
            let theirs = oracle.encrypt_at_time(&plaintext, now as u64);
            proptest::prop_assert_eq!(ours.open(&theirs, None), Some(plaintext.clone()));
            proptest::prop_assert_eq!(ours.open(&token, Some(AgeLimit { now, ttl: Duration::from_secs(60) })), Some(plaintext.clone()));

            let mut raw = URL_SAFE.decode(&token).unwrap();
            let at = flip % raw.len();
            raw[at] ^= 0x01;
            let tampered = URL_SAFE.encode(&raw);
            proptest::prop_assert_eq!(ours.open(&tampered, None), None);
            proptest::prop_assert!(oracle.decrypt_at_time(&tampered, None, now as u64).is_err());
        }
    }

    #[test]
    fn truncated_and_garbage_tokens_open_as_nothing() {
        let token = cipher().seal(b"{}", T).unwrap();
        for cut in 0..token.len() {
            assert_eq!(cipher().open(&token[..cut], None), None, "cut at {cut}");
        }
        for garbage in ["", "=", "gAAAAA", "not base64 at all", &"A".repeat(200)] {
            assert_eq!(cipher().open(garbage, None), None, "{garbage}");
        }
    }

    /// Only canonical base64 opens, as with the `base64` crate before: no token without its padding
    /// or with the unused bits of its last character set (no Fernet implementation writes either).
    #[test]
    fn only_canonical_base64_opens() {
        // 57 + 16 bytes: the text ends in one byte and `==`.
        let token = cipher().seal(b"short", T).unwrap();
        assert!(token.ends_with("==") && cipher().open(&token, None).is_some(), "{token}");
        assert!(cipher().open(token.trim_end_matches('='), None).is_none());
        let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        let mut bytes = token.into_bytes();
        let last = bytes.len() - 3;
        let index = alphabet.iter().position(|&c| c == bytes[last]).unwrap();
        // The last character's low four bits are not data: the same bytes, another spelling.
        bytes[last] = alphabet[index ^ 1];
        let respelled = String::from_utf8(bytes).unwrap();
        assert_eq!(URL_SAFE.decode(&respelled).ok(), None, "the tests' decoder is strict too");
        assert!(cipher().open(&respelled, None).is_none());
    }

    #[test]
    fn wrong_keys_are_constructor_errors_and_keys_are_never_shown() {
        assert_eq!(EncryptedCookieStorage::new(&b"123"[..]).err(), Some(KeyError::Length(3)));
        assert_eq!(EncryptedCookieStorage::new("short").err(), Some(KeyError::NotBase64));
        let shown = format!("{:?}", EncryptedCookieStorage::new(KEY_BASE64).unwrap());
        assert!(shown.contains("<1 redacted>") && !shown.contains("AAEC"), "{shown}");
    }
}
