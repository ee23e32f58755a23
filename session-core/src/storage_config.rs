//! What every storage shares: its cookie, its codec and its clock, and the rules that use them.

use std::fmt;
use std::sync::Arc;

use crate::clock::Clock;
use crate::codec::{Codec, JsonCodec};
use crate::cookie_config::CookieConfig;
use crate::error::Error;
use crate::session::Session;
use crate::storage::CookieAction;

/// The part of a storage that is the same for every backend: the [`CookieConfig`] (with the storage's
/// `max_age`), the [`Codec`] and the [`Clock`].
///
/// A storage keeps one and returns it from
/// [`AbstractStorage::config`](crate::AbstractStorage::config); its methods hold the rules every
/// backend must apply the same way, so a backend only moves bytes.
///
/// ```
/// use session_core::{CookieConfig, ManualClock, StorageConfig};
///
/// let clock = ManualClock::new(1_700_000_000);
/// let config = StorageConfig::new(CookieConfig::new().name("SID").max_age(Some(60))).with_clock(clock.clock());
///
/// let mut session = config.new_session();
/// session.insert("user", "alice")?;
/// let stored = config.encode(&session)?;
///
/// clock.advance(60);
/// assert_eq!(config.open("doc", None, &stored).get::<String>("user")?.as_deref(), Some("alice"));
/// clock.advance(1);
/// assert!(config.open("doc", None, &stored).is_empty(), "idle for longer than max_age");
/// assert!(config.open("doc", None, "not json").is_new(), "garbage gives a fresh session");
/// # Ok::<(), session_core::Error>(())
/// ```
#[derive(Clone)]
pub struct StorageConfig {
    cookie: CookieConfig,
    codec: Arc<dyn Codec>,
    clock: Clock,
}

impl Default for StorageConfig {
    fn default() -> Self {
        StorageConfig::new(CookieConfig::default())
    }
}

impl From<CookieConfig> for StorageConfig {
    fn from(cookie: CookieConfig) -> Self {
        StorageConfig::new(cookie)
    }
}

impl fmt::Debug for StorageConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StorageConfig")
            .field("cookie", &self.cookie)
            .field("clock", &self.clock)
            .finish_non_exhaustive()
    }
}

impl StorageConfig {
    /// `cookie` with the JSON codec and the system clock.
    pub fn new(cookie: CookieConfig) -> Self {
        StorageConfig { cookie, codec: Arc::new(JsonCodec), clock: Clock::system() }
    }

    /// Replaces the codec (aiohttp-session's `encoder` and `decoder`).
    #[doc(alias = "encoder", alias = "decoder")]
    pub fn with_codec(mut self, codec: impl Codec) -> Self {
        self.codec = Arc::new(codec);
        self
    }

    /// Replaces the clock (tests only: production reads the system clock).
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// Replaces the cookie settings.
    pub fn with_cookie(mut self, cookie: CookieConfig) -> Self {
        self.cookie = cookie;
        self
    }

    /// The cookie settings.
    pub fn cookie(&self) -> &CookieConfig {
        &self.cookie
    }

    /// The codec.
    pub fn codec(&self) -> &dyn Codec {
        &*self.codec
    }

    /// The clock.
    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    /// The storage's `max_age` (from the cookie settings).
    pub fn max_age(&self) -> Option<u64> {
        self.cookie.get_max_age()
    }

    /// Now, by this storage's clock.
    pub fn now(&self) -> i64 {
        self.clock.now()
    }

    /// A fresh session with this storage's `max_age` and clock (aiohttp-session's `new_session()`).
    pub fn new_session(&self) -> Session {
        Session::fresh(self.max_age(), self.clock.clone())
    }

    /// The text to store for `session`: the codec's output for its [`record`](Session::record).
    pub fn encode(&self, session: &Session) -> Result<String, Error> {
        self.codec.encode(&session.record()).map_err(Error::Encode)
    }

    /// The session stored as `text` under `identity`, with every load rule applied: `{}` is new with no
    /// identity; an idle session past `max_age` loses its data; text the codec cannot read, or a value
    /// that is not a session, gives a fresh session and a warning naming `storage`.
    pub fn open(&self, storage: &'static str, identity: Option<String>, text: &str) -> Session {
        let payload = match self.codec.decode(text) {
            Ok(payload) => payload,
            Err(error) => return self.reject(storage, &format_args!("payload does not decode: {error}")),
        };
        match Session::from_payload(identity, payload, self.max_age(), self.clock.clone()) {
            Ok(session) => session,
            Err(malformed) => self.reject(storage, &malformed),
        }
    }

    /// The load path of a storage whose cookie is the encrypted payload (Fernet, NaCl): no cookie is a
    /// new session; a cookie that `decrypt` refuses, or that decrypts to something other than UTF-8, is
    /// a fresh session with a warning; the rest goes through [`open`](Self::open).
    pub fn open_sealed(
        &self,
        storage: &'static str,
        cookie: Option<&str>,
        decrypt: impl FnOnce(&str) -> Option<Vec<u8>>,
    ) -> Session {
        let Some(token) = cookie else {
            return self.new_session();
        };
        let Some(plaintext) = decrypt(token) else {
            return self.reject(storage, &"cookie does not decrypt (another key, tampered, expired or garbage)");
        };
        match std::str::from_utf8(&plaintext) {
            Ok(payload) => self.open(storage, None, payload),
            Err(_) => self.reject(storage, &"decrypted payload is not UTF-8"),
        }
    }

    /// The save path of a storage whose cookie is the encrypted payload: an empty session removes the
    /// cookie; otherwise the cookie is `encrypt` of the encoded payload.
    pub fn seal(
        &self,
        session: &Session,
        encrypt: impl FnOnce(&[u8]) -> Result<String, Error>,
    ) -> Result<CookieAction, Error> {
        if session.is_empty() {
            return Ok(CookieAction::Remove);
        }
        encrypt(self.encode(session)?.as_bytes()).map(CookieAction::Set)
    }

    /// A fresh session in place of one that `storage` could not accept, with a warning that says why.
    /// The reason must not carry the cookie, the key or the payload.
    pub fn reject(&self, storage: &'static str, reason: &dyn fmt::Display) -> Session {
        tracing::warn!(storage, cookie = %self.cookie.get_name(), %reason, "session rejected; starting a fresh one");
        self.new_session()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;
    use crate::codec::SessionRecord;
    use crate::error::BoxError;
    use serde_json::Value;

    const T: i64 = 1_700_000_000;

    #[test]
    fn the_python_payload_vector_is_written_byte_for_byte() {
        let config = StorageConfig::default().with_clock(ManualClock::new(T).clock());
        let mut session = config.new_session();
        session.insert("user", "alice").unwrap();
        session.insert("n", 42).unwrap();
        assert_eq!(
            config.encode(&session).unwrap(),
            r#"{"created": 1700000000, "session": {"user": "alice", "n": 42}}"#
        );
        session.invalidate();
        assert_eq!(config.encode(&session).unwrap(), "{}");
    }

    #[test]
    fn idle_timeout_slides_with_each_write() {
        // aiohttp-session's test_max_age_session_reset: max_age 10, writes at 0 and 8, valid at 15,
        // a write at 15 moves expiry to 25, expired at 30.
        let clock = ManualClock::new(T);
        let config = StorageConfig::new(CookieConfig::new().max_age(Some(10))).with_clock(clock.clock());
        let mut session = config.new_session();
        session.insert("k", 0).unwrap();
        clock.advance(8);
        session.insert("k", 8).unwrap();
        let stored = config.encode(&session).unwrap();
        clock.set(T + 15);
        let mut loaded = config.open("test", None, &stored);
        assert_eq!(loaded.get::<i64>("k").unwrap(), Some(8));
        loaded.insert("k", 15).unwrap();
        let stored = config.encode(&loaded).unwrap();
        clock.set(T + 25);
        assert_eq!(config.open("test", None, &stored).len(), 1);
        clock.set(T + 30);
        assert!(config.open("test", None, &stored).is_empty());
    }

    #[test]
    fn undecodable_and_malformed_payloads_give_fresh_sessions() {
        let config = StorageConfig::default();
        for text in ["", "{", "[1, 2]", "\"text\"", "1", r#"{"created": "x"}"#, r#"{"session": 5}"#] {
            let session = config.open("test", Some("id".into()), text);
            assert!(session.is_new(), "{text:?}");
            assert_eq!(session.identity(), None, "{text:?}");
        }
    }

    #[test]
    fn the_codec_reads_and_writes() {
        struct Reversed;
        impl Codec for Reversed {
            fn encode(&self, record: &SessionRecord<'_>) -> Result<String, BoxError> {
                Ok(serde_json::to_string(record)?.chars().rev().collect())
            }
            fn decode(&self, text: &str) -> Result<Value, BoxError> {
                Ok(serde_json::from_str(&text.chars().rev().collect::<String>())?)
            }
        }
        let config = StorageConfig::default().with_codec(Reversed).with_clock(ManualClock::new(1).clock());
        let mut session = config.new_session();
        session.insert("a", 1).unwrap();
        let stored = config.encode(&session).unwrap();
        assert_eq!(stored, r#"}}1:"a"{:"noisses",1:"detaerc"{"#);
        assert_eq!(config.open("test", None, &stored).get::<i64>("a").unwrap(), Some(1));
    }
}
