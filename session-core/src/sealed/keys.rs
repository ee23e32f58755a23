//! The 32-byte secret of the sealed cookie storages, parsed the way aiohttp-session accepts it.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::{URL_SAFE, URL_SAFE_NO_PAD};

/// A 32-byte secret key for the encrypted cookie storages (Fernet, NaCl).
///
/// As in aiohttp-session, raw bytes are the key itself and text is its base64 form: the 44-character
/// url-safe text that `Fernet.generate_key()` prints, or the standard alphabet (`+/`), with or without
/// `=` padding. Anything that is not exactly 32 bytes is an error that says so.
///
/// The key is never shown: `Debug` prints `SecretKey(<redacted>)`.
///
/// ```
/// use session_core::SecretKey;
///
/// let from_text = SecretKey::try_from("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=")?;
/// let from_bytes = SecretKey::try_from(&(0u8..32).collect::<Vec<u8>>()[..])?;
/// assert_eq!(from_text, from_bytes);
/// assert_eq!(format!("{from_text:?}"), "SecretKey(<redacted>)");
/// assert!(SecretKey::try_from("too short").is_err());
/// # Ok::<(), session_core::sealed::KeyError>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct SecretKey([u8; 32]);

/// Why a key was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// Raw key bytes of the wrong length.
    #[error("a secret key must be 32 bytes, got {0}")]
    Length(usize),
    /// Text that is not base64.
    #[error(
        "a secret key given as text must be the base64 of 32 bytes (44 characters, e.g. from `Fernet.generate_key()`)"
    )]
    NotBase64,
    /// Base64 text of the wrong number of bytes.
    #[error("a secret key given as text must be the base64 of 32 bytes, got {0} bytes")]
    DecodedLength(usize),
    /// No key at all where at least one is needed.
    #[error("at least one secret key is needed")]
    Missing,
    /// The operating system's random source failed while generating a key.
    #[error("the operating system's random source failed")]
    Random,
}

/// A bad key where a session [`Error`](crate::Error) is expected: `?` in a handler or a `main`
/// that returns one.
impl From<KeyError> for crate::error::Error {
    fn from(error: KeyError) -> Self {
        crate::error::Error::Config(Box::new(error))
    }
}

/// A [`SecretKey`] converts into itself without failing.
impl From<std::convert::Infallible> for KeyError {
    fn from(never: std::convert::Infallible) -> Self {
        match never {}
    }
}

impl SecretKey {
    /// A new random key from the operating system's CSPRNG. Store it (`key.to_base64()`) where the
    /// application reads its secrets: a key generated at each start logs every user out at each
    /// restart.
    pub fn generate() -> Result<Self, KeyError> {
        let mut key = [0u8; 32];
        getrandom::fill(&mut key).map_err(|_| KeyError::Random)?;
        Ok(SecretKey(key))
    }

    /// The key bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// The key as url-safe base64 with padding: the text form Python's `Fernet(key)` takes.
    pub fn to_base64(&self) -> String {
        URL_SAFE.encode(self.0)
    }

    /// Parses base64 text (url-safe or standard alphabet, padding optional).
    pub fn from_base64(text: &str) -> Result<Self, KeyError> {
        let normalized: String = text
            .trim()
            .trim_end_matches('=')
            .chars()
            .map(|c| match c {
                '+' => '-',
                '/' => '_',
                c => c,
            })
            .collect();
        let bytes = URL_SAFE_NO_PAD.decode(normalized).map_err(|_| KeyError::NotBase64)?;
        let key: [u8; 32] = bytes.as_slice().try_into().map_err(|_| KeyError::DecodedLength(bytes.len()))?;
        Ok(SecretKey(key))
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretKey(<redacted>)")
    }
}

impl TryFrom<&[u8]> for SecretKey {
    type Error = KeyError;

    /// Raw key bytes (Python `bytes`).
    fn try_from(bytes: &[u8]) -> Result<Self, KeyError> {
        bytes.try_into().map(SecretKey).map_err(|_| KeyError::Length(bytes.len()))
    }
}

impl TryFrom<[u8; 32]> for SecretKey {
    type Error = KeyError;

    fn try_from(bytes: [u8; 32]) -> Result<Self, KeyError> {
        Ok(SecretKey(bytes))
    }
}

impl TryFrom<Vec<u8>> for SecretKey {
    type Error = KeyError;

    fn try_from(bytes: Vec<u8>) -> Result<Self, KeyError> {
        SecretKey::try_from(bytes.as_slice())
    }
}

impl TryFrom<&SecretKey> for SecretKey {
    type Error = KeyError;

    fn try_from(key: &SecretKey) -> Result<Self, KeyError> {
        Ok(key.clone())
    }
}

impl TryFrom<&str> for SecretKey {
    type Error = KeyError;

    /// Base64 text (Python `str`).
    fn try_from(text: &str) -> Result<Self, KeyError> {
        SecretKey::from_base64(text)
    }
}

impl TryFrom<String> for SecretKey {
    type Error = KeyError;

    fn try_from(text: String) -> Result<Self, KeyError> {
        SecretKey::from_base64(&text)
    }
}

impl TryFrom<&String> for SecretKey {
    type Error = KeyError;

    fn try_from(text: &String) -> Result<Self, KeyError> {
        SecretKey::from_base64(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

    #[test]
    fn text_and_bytes_give_the_same_key() {
        let key = SecretKey::try_from(TEXT).unwrap();
        assert_eq!(key.as_bytes()[31], 31);
        assert_eq!(key.to_base64(), TEXT);
        assert_eq!(SecretKey::try_from(TEXT.trim_end_matches('=')).unwrap(), key);
    }

    #[test]
    fn both_base64_alphabets_are_accepted() {
        let key = SecretKey::try_from([0xfb; 32]).unwrap();
        let url_safe = key.to_base64();
        assert!(url_safe.contains('-') || url_safe.contains('_'));
        let standard = url_safe.replace('-', "+").replace('_', "/");
        assert_eq!(SecretKey::try_from(standard.as_str()).unwrap(), key);
    }

    #[test]
    fn wrong_keys_are_clear_errors() {
        assert_eq!(SecretKey::try_from(&b"123"[..]), Err(KeyError::Length(3)));
        assert_eq!(SecretKey::try_from("not base64!"), Err(KeyError::NotBase64));
        assert_eq!(SecretKey::try_from("AAAA"), Err(KeyError::DecodedLength(3)));
        // The base64 text passed as bytes is 44 bytes, not a key (Python raises too).
        assert_eq!(SecretKey::try_from(TEXT.as_bytes()), Err(KeyError::Length(44)));
    }

    #[test]
    fn generated_keys_differ() {
        let (a, b) = (SecretKey::generate().unwrap(), SecretKey::generate().unwrap());
        assert_ne!(a, b);
        assert_eq!(SecretKey::try_from(a.to_base64().as_str()).unwrap(), a);
    }

    #[test]
    fn debug_never_shows_the_key() {
        let shown = format!("{:?}", SecretKey::try_from(TEXT).unwrap());
        assert!(!shown.contains("AAEC") && !shown.contains('0'));
    }
}
