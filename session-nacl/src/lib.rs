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

mod poly1305;
mod xsalsa20;

use base64_simd::STANDARD;
use rand::Rng;
use session_core::Error;
use session_core::sealed::{AgeLimit, CookieCipher, SealedCookieStorage};
use zeroize::Zeroizing;

use crate::poly1305::TAG_SIZE;
use crate::xsalsa20::SecretBoxStream;

/// What building the storage takes: a key, the error of a bad one, and the settings every storage has.
pub use session_core::StorageConfig;
pub use session_core::sealed::{KeyError, SecretKey};

const NONCE_SIZE: usize = 24;
/// Where the ciphertext starts in a cookie's bytes: after the nonce and the MAC.
const BOX_START: usize = NONCE_SIZE + TAG_SIZE;

/// Keeps the session in the cookie, sealed with XSalsa20-Poly1305 (see the [crate docs](crate)).
///
/// Anything that does not open (another key, a changed byte, truncation, url-safe base64, garbage) is
/// a fresh session, never an error. An empty session deletes the cookie.
pub type NaClCookieStorage = SealedCookieStorage<SecretBoxCipher>;

/// One secretbox key (see [`NaClCookieStorage`]).
///
/// NaCl's `crypto_secretbox`, composed here as the `crypto_secretbox` crate composes it: the first
/// 32 bytes of the XSalsa20 stream are the Poly1305 key, the rest encrypts the plaintext, and the MAC
/// covers the ciphertext. Both are this crate's, for speed: XSalsa20 with four blocks at a time in
/// SIMD vectors where a pass needs four, and Poly1305 on 64-bit limbs (each module says what it
/// measured). Seal and open of a typical session took 1.24 to 1.31 µs with the `salsa20` crate and
/// orion's Poly1305, and take 0.93 to 1.10 µs, beside Fernet's 0.82 to 0.92 µs on a CPU with AES
/// and SHA instructions (three rounds of `cargo bench -p session-nacl --bench storage --
/// secretbox_ours/typical` before and after, and `-p session-cookie` for `fernet_ours`, pinned to
/// one core). `crypto_secretbox` stays as the tests' oracle: every cookie of ours opens with it, and
/// every box it seals opens with ours.
#[derive(Clone)]
pub struct SecretBoxCipher {
    key: Zeroizing<[u8; 32]>,
}

impl SecretBoxCipher {
    /// The cookie of `plaintext` under `nonce`: one buffer laid out as PyNaCl writes it
    /// (`nonce ‖ MAC ‖ ciphertext`), encrypted in place, then encoded once.
    fn seal_with(&self, plaintext: &[u8], nonce: &[u8; NONCE_SIZE]) -> String {
        let mut cookie = Vec::with_capacity(BOX_START + plaintext.len());
        cookie.extend_from_slice(nonce);
        cookie.extend_from_slice(&[0; TAG_SIZE]);
        cookie.extend_from_slice(plaintext);
        let stream = SecretBoxStream::new(&self.key, nonce, plaintext.len());
        stream.apply(&mut cookie[BOX_START..]);
        let tag = poly1305::tag(&stream.mac_key(), &cookie[BOX_START..]);
        cookie[NONCE_SIZE..BOX_START].copy_from_slice(&tag);
        STANDARD.encode_to_string(cookie)
    }
}

impl CookieCipher for SecretBoxCipher {
    const NAME: &'static str = "nacl";

    fn new(key: &SecretKey) -> Result<Self, KeyError> {
        Ok(SecretBoxCipher { key: Zeroizing::new(*key.as_bytes()) })
    }

    /// A fresh random nonce for every save, from the thread's CSPRNG (ChaCha12 seeded from the
    /// operating system and reseeded every 64 KiB): 192 random bits never repeat in practice, and a
    /// system call per cookie was a measurable share of a seal.
    fn seal(&self, plaintext: &[u8], _now: i64) -> Result<String, Error> {
        let mut nonce = [0u8; NONCE_SIZE];
        rand::rng().fill_bytes(&mut nonce);
        Ok(self.seal_with(plaintext, &nonce))
    }

    fn open(&self, cookie: &str, _limit: Option<AgeLimit>) -> Option<Vec<u8>> {
        let mut raw = STANDARD.decode_to_vec(cookie).ok()?;
        let (head, ciphertext) = raw.split_at_mut_checked(BOX_START)?;
        let (nonce, tag) = head.split_at(NONCE_SIZE);
        let stream = SecretBoxStream::new(&self.key, nonce.try_into().ok()?, ciphertext.len());
        // The MAC, compared in constant time, before anything is decrypted.
        if !poly1305::verify(&stream.mac_key(), ciphertext, tag) {
            return None;
        }
        stream.apply(ciphertext);
        raw.drain(..BOX_START);
        Some(raw)
    }
}

#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

#[cfg(test)]
mod tests {
    use std::time::Duration;

    // The `base64` crate in the tests: a second implementation takes the cookies apart.
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;

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
        let plaintext = cipher().open(PYTHON_COOKIE, None).expect("opens");
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
        assert_eq!(cipher().seal_with(payload.as_bytes(), &[0; NONCE_SIZE]), PYTHON_COOKIE);
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
                cipher().open(&cookie, None).map(String::from_utf8),
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
            assert!(cipher().open(cookie, None).is_none(), "{cookie:?}");
        }
        assert!(other_key.open(PYTHON_COOKIE, None).is_none());
    }

    /// A box of 1,000 bytes sealed by PyNaCl 1.6.2 (libsodium): five passes of the stream and 62
    /// pairs of Poly1305 blocks checked against an implementation that shares no code with ours.
    /// `SecretBox(base64.b64decode(KEY_BASE64)).encrypt(bytes((i * 7 + 3) % 256 for i in
    /// range(1000)), bytes(range(100, 124)))`, in standard base64.
    #[test]
    fn a_long_pynacl_box_matches_byte_for_byte() {
        const PYNACL_BOX: &str = "ZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXp7kqFH6OyKptsS4JkfoT+yawGziNElkOPdi79qxGDaxnRN0LkvazDWvw2++1TNRRxUS4UF4LAxlvDuND5SNy2YKZLKz3B98ETbiHPKpHwcK9iAQZ21F9qlfkKNFuJX3ci/Z63MT+ipJmb56fCn/2hwWlljWMNQH/cT2JmWe0uikDRrNbdi+B19TQveV8ODf6NAPYqcgKhosL324eLoChcFuZDR9xciMW84gDueMiF2nKziFVpQolde8wlCSpbuBicrL3gX9RYX2h5OaTWjY3crfPMn0xWQyEGgH/h9tdmi/0HKi7W+H4so9DKqbClmheGMMZqth4iLoEnAfpdjIYPpDJnNdaipRalelmsJcRC+Sl5+qkMNYtslcyy9r46DKVkrCxDTnetEPwbiBkXRPveqFrrb5VYDfMqt7cG2jlKLZ/cpUQ20u/+tc16LphUkm4inXXCz5347ELHL+DukjiPCD6yp1VzNN35aToVXe9BoKMBPnOSYRyPUydDXbzmXzn8Qf18GvwWFMyWGAYp6ffOnyL889mNPRRoTIwsu5hjlGXDdG3LAmTyy5i8yz79udhfNj1o+JUntPR5vWPVg87nMg1xnUQ5mjVkff0CAEgYRC7ok14ik6LFh9dD9zKjiDd4M+E4uueaIgiPB6a4RZiQKRQk6KagwdIBvyalj0ZLGvXO/sb+F4ApOkqpx+oGbd1zu+AENGJ3Jn/sqOwfmY2naAd5Fjlc08Ot/WoD2vpebYmy5KRbNUmv3J9MeIerAeGPl0w2JwuQs6/GI+xwCPTil6RjUdcLprpZiLrgjDrWNkafhQmVmfHBsoSIjIajD5gEBUK9UeYEBGTYx8VZz0aOPgtW84qcrn+bfvLYy7CIvxFK0+qK9VfDNwqwmMotToMtbyyx70DmhvAX0jwLak1pnuZzaDbmQk7sY9yyE7KCbkAmX+KSMokfeoHlwv7BDfpUIBihrUsPGwRYF/uVtvEyDCmYUknPlYlU/NQQLzaRWJXVw7g5xwSxrUQjaMsaeNC3ICKzXQMfKmBbdRw745kDvBQhjkL2Y92/RliI6KtZPSSofp0kNcyv/b3UgSuae9U8mK87jFwoe+FoVM7XvJ+Fwtc8IVUiOQgxZ2bv//MpoVQPy9ynDuUbCYQUThNbqH0kltgQS9Hqe7sFzGdxPPm+xvVq2fmlayWhKkmVYiJwavesiBg7nWk3qFvy0dpS6CHn75SSqdQo4CM2YwY4QX1wnLmXwhYNdy008+IzB6/TS2W+umSbcWer9pEZSa13IKcw0OhYS4EXU8U4nYm795jwGNssLpdxh3b9gE6sNn/AXr2BauFpuu7zOqyXX9nVOo0j/nb8V0OPQmSo=";
        let plaintext: Vec<u8> = (0..1000).map(|i| ((i * 7 + 3) % 256) as u8).collect();
        let nonce: [u8; NONCE_SIZE] = std::array::from_fn(|i| 100 + i as u8);
        assert_eq!(cipher().seal_with(&plaintext, &nonce), PYNACL_BOX);
        assert_eq!(cipher().open(PYNACL_BOX, None), Some(plaintext));
    }

    #[test]
    fn an_empty_plaintext_crosses_with_the_crypto_secretbox_crate() {
        use crypto_secretbox::aead::{Aead, KeyInit};
        let oracle =
            crypto_secretbox::XSalsa20Poly1305::new(SecretKey::try_from(KEY_BASE64).unwrap().as_bytes().into());
        let nonce = [7; NONCE_SIZE];
        let cookie = cipher().seal_with(b"", &nonce);
        let sealed = oracle.encrypt((&nonce).into(), &b""[..]).unwrap();
        assert_eq!(STANDARD.decode(&cookie).unwrap(), [&nonce[..], &sealed].concat());
        assert_eq!(cipher().open(&cookie, None), Some(Vec::new()));
    }

    proptest::proptest! {
        /// Every cookie of ours opens with the `crypto_secretbox` crate and every box it seals opens
        /// with ours, for any plaintext and nonce; a cookie with one byte changed opens with neither.
        #[test]
        fn boxes_cross_with_the_crypto_secretbox_crate(
            plaintext in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..600),
            nonce in proptest::prelude::any::<[u8; NONCE_SIZE]>(),
            flip in 0usize..1000,
        ) {
            use crypto_secretbox::aead::{Aead, KeyInit};
            let key = SecretKey::try_from(KEY_BASE64).unwrap();
            let oracle = crypto_secretbox::XSalsa20Poly1305::new(key.as_bytes().into());
            let ours = cipher();
            let cookie = ours.seal_with(&plaintext, &nonce);
            let raw = STANDARD.decode(&cookie).unwrap();
            let (their_nonce, sealed) = raw.split_at(NONCE_SIZE);
            // PyNaCl's layout is the nonce, then the combined box (the MAC, then the ciphertext).
            proptest::prop_assert_eq!(their_nonce, &nonce[..]);
            proptest::prop_assert_eq!(oracle.decrypt(their_nonce.into(), sealed).ok(), Some(plaintext.clone()));

            let theirs = oracle.encrypt((&nonce).into(), plaintext.as_slice()).unwrap();
            let their_cookie = STANDARD.encode([&nonce[..], &theirs].concat());
            proptest::prop_assert_eq!(&their_cookie, &cookie);
            proptest::prop_assert_eq!(ours.open(&their_cookie, None), Some(plaintext.clone()));

            let mut tampered = raw.clone();
            let at = flip % tampered.len();
            tampered[at] ^= 0x01;
            proptest::prop_assert_eq!(ours.open(&STANDARD.encode(&tampered), None), None);
            let (nonce, sealed) = tampered.split_at(NONCE_SIZE);
            proptest::prop_assert!(oracle.decrypt(nonce.into(), sealed).is_err());
        }
    }

    proptest::proptest! {
        /// Any bytes, base64-encoded or not, open to nothing rather than a panic; a box under our key
        /// always has a MAC that these fail.
        #[test]
        fn random_cookies_open_to_nothing(raw in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..400)) {
            proptest::prop_assert_eq!(cipher().open(&STANDARD.encode(&raw), None), None);
            proptest::prop_assert_eq!(cipher().open(&String::from_utf8_lossy(&raw), None), None);
        }
    }

    #[test]
    fn wrong_keys_are_constructor_errors_and_keys_are_never_shown() {
        assert_eq!(NaClCookieStorage::new(&[0u8; 31][..]).err(), Some(KeyError::Length(31)));
        assert_eq!(NaClCookieStorage::new("abc").err(), Some(KeyError::DecodedLength(2)));
        assert!(format!("{:?}", storage(&ManualClock::new(T), None)).contains("<1 redacted>"));
    }
}
