//! What every storage shares: its cookie, its expiry policy, its codec and its clock, and the rules
//! that use them.

use std::any::TypeId;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::clock::Clock;
use crate::codec::{Codec, JsonCodec, Payload};
use crate::cookie::CookieConfig;
use crate::error::{BoxError, Error};
use crate::expiry::Expiry;
use crate::session::SessionState;

/// The part of a storage that is the same for every backend: the [`CookieConfig`], the [`Expiry`]
/// policy, the [`Codec`] and the [`Clock`]. Give it to a storage with its `with_config`.
///
/// ```
/// use std::time::Duration;
/// use session_core::{CookieConfig, StorageConfig};
///
/// let config = StorageConfig::default()
///     .with_cookie(CookieConfig::builder().name("SID").build()?)
///     .with_max_age(Duration::from_secs(3600));
/// assert_eq!(config.cookie().name(), "SID");
/// # Ok::<(), session_core::cookie::CookieError>(())
/// ```
///
/// # For storage authors
///
/// A storage keeps one and returns it from
/// [`AbstractStorage::config`](crate::storage::AbstractStorage::config); [`new_state`](Self::new_state),
/// [`open`](Self::open), [`encode`](Self::encode) and [`reject`](Self::reject) hold the rules every
/// backend must apply the same way, so a backend only moves bytes.
///
/// ```
/// use std::time::Duration;
/// use session_core::{ManualClock, StorageConfig};
///
/// let clock = ManualClock::new(1_700_000_000);
/// let config = StorageConfig::default().with_max_age(Duration::from_secs(60)).with_clock(clock.clock());
///
/// let mut session = config.new_state();
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
    expiry: Expiry,
    codec: Arc<dyn Codec>,
    /// The codec is the default JSON one, whose text `open` parses straight into a session's parts.
    json: bool,
    clock: Clock,
}

impl Default for StorageConfig {
    fn default() -> Self {
        StorageConfig {
            cookie: CookieConfig::default(),
            expiry: Expiry::default(),
            codec: Arc::new(JsonCodec),
            json: true,
            clock: Clock::system(),
        }
    }
}

impl fmt::Debug for StorageConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StorageConfig")
            .field("cookie", &self.cookie)
            .field("expiry", &self.expiry)
            .field("clock", &self.clock)
            .finish_non_exhaustive()
    }
}

impl StorageConfig {
    /// The defaults: the default cookie, no expiry, the JSON codec, the system clock.
    pub fn new() -> Self {
        Self::default()
    }

    /// Replaces the cookie settings.
    pub fn with_cookie(mut self, cookie: CookieConfig) -> Self {
        self.cookie = cookie;
        self
    }

    /// aiohttp-session's `max_age`: a session idle for longer than this since its last write loads
    /// empty, and it is the lifetime written with each session (the cookie's `Max-Age` and `Expires`,
    /// the Fernet TTL, the Redis or memcached entry's expiry). **Without any limit a session never
    /// ends**: a stolen cookie of a cookie storage stays valid forever.
    #[doc(alias = "expires", alias = "ttl")]
    pub fn with_max_age(mut self, max_age: impl Into<Option<Duration>>) -> Self {
        self.expiry.set_max_age(max_age.into());
        self
    }

    /// A session unused for longer than this (reads count as use) loads empty. The cookie stays a
    /// browser-session cookie unless `max_age` is set too; a server-side entry lives this long after
    /// its last use. See [`Expiry`].
    pub fn with_idle_timeout(mut self, idle: impl Into<Option<Duration>>) -> Self {
        self.expiry.set_idle_timeout(idle.into());
        self
    }

    /// How often a read refreshes a session under an idle timeout (default: half the idle timeout).
    /// Each refresh is a save: a new cookie, or a rewritten entry.
    pub fn with_refresh_interval(mut self, interval: impl Into<Option<Duration>>) -> Self {
        self.expiry.set_refresh_interval(interval.into());
        self
    }

    /// A session ends this long after it started, however active it is (OWASP's absolute timeout).
    /// The start is kept in the session under a reserved key.
    pub fn with_absolute_timeout(mut self, absolute: impl Into<Option<Duration>>) -> Self {
        self.expiry.set_absolute_timeout(absolute.into());
        self
    }

    /// How long a session that no other limit bounds (no `max_age`, no idle timeout) lives after its
    /// last write: [`DEFAULT_LIFETIME`](crate::expiry::DEFAULT_LIFETIME), two weeks, unless changed. On
    /// a cookie storage the sealed payload's age is checked against it (a copied cookie stops working);
    /// on a server-side storage the entry expires then. `None`: **such sessions never end**, as in
    /// aiohttp-session without `max_age`; a storage built so logs a warning.
    pub fn with_default_lifetime(mut self, lifetime: impl Into<Option<Duration>>) -> Self {
        self.expiry.set_default_lifetime(lifetime.into());
        self
    }

    /// The longest a session may be remembered ([`SessionState::remember_for`]):
    /// [`DEFAULT_REMEMBER_LIMIT`](crate::expiry::DEFAULT_REMEMBER_LIMIT), 30 days, unless changed.
    /// `None`: sessions are never remembered beyond the storage's own limits.
    #[doc(alias = "remember_me")]
    pub fn with_remember_limit(mut self, limit: impl Into<Option<Duration>>) -> Self {
        self.expiry.set_remember_limit(limit.into());
        self
    }

    /// Replaces the codec (aiohttp-session's `encoder` and `decoder`).
    #[doc(alias = "encoder", alias = "decoder")]
    pub fn with_codec<C: Codec>(mut self, codec: C) -> Self {
        self.json = TypeId::of::<C>() == TypeId::of::<JsonCodec>();
        self.codec = Arc::new(codec);
        self
    }

    /// Replaces the clock (tests only: production reads the system clock).
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// The cookie settings.
    pub fn cookie(&self) -> &CookieConfig {
        &self.cookie
    }

    /// When sessions end.
    pub fn expiry(&self) -> &Expiry {
        &self.expiry
    }

    /// The storage's `max_age`.
    pub fn max_age(&self) -> Option<Duration> {
        self.expiry.max_age()
    }

    /// The codec.
    pub fn codec(&self) -> &dyn Codec {
        &*self.codec
    }

    /// The clock.
    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    /// Now, by this storage's clock.
    pub fn now(&self) -> i64 {
        self.clock.now()
    }

    /// A fresh session with this storage's policy and clock (aiohttp-session's `new_session()`).
    #[doc(alias = "new_session")]
    pub fn new_state(&self) -> SessionState {
        SessionState::fresh(&self.expiry, self.clock.clone())
    }

    /// The text to store for `session`: the codec's output for its record.
    pub fn encode(&self, session: &SessionState) -> Result<String, Error> {
        self.codec.encode(&session.record()).map_err(Error::Encode)
    }

    /// The session stored as `text` under `identity`, with every load rule applied: `{}` is new with no
    /// identity; a session past a limit of the expiry policy loses its data; text the codec cannot
    /// read, or a value that is not a session, gives a fresh session and a debug line naming `storage`.
    pub fn open(&self, storage: &'static str, identity: Option<String>, text: &str) -> SessionState {
        let payload = if self.json {
            Payload::from_json(text).map_err(BoxError::from)
        } else {
            self.codec.decode(text).map(Payload::from_value)
        };
        let payload = match payload {
            Ok(payload) => payload,
            Err(error) => return self.reject(storage, &format_args!("payload does not decode: {error}")),
        };
        match SessionState::from_payload(identity, payload, &self.expiry, self.clock.clone()) {
            Ok(session) => session,
            Err(malformed) => self.reject(storage, &malformed),
        }
    }

    /// Warns when no limit at all ends a session of `storage`: every session would then live forever.
    /// A storage calls it once, where it takes its configuration (every storage of these crates does).
    pub fn warn_if_unbounded(&self, storage: &'static str) {
        if self.expiry.is_unbounded() {
            tracing::warn!(
                storage,
                cookie = %self.cookie.name(),
                "no limit ends a session of this storage: every session lives forever (set a max_age, an idle \
                 timeout or a default lifetime)"
            );
        }
    }

    /// A fresh session in place of one that `storage` could not accept, with a debug line that says
    /// why: a client's bad cookie is the client's problem, not an operator's (a warning each would
    /// flood the log under a bot). The reason must not carry the cookie, the key or the payload.
    pub fn reject(&self, storage: &'static str, reason: &dyn fmt::Display) -> SessionState {
        tracing::debug!(storage, cookie = %self.cookie.name(), %reason, "session rejected; starting a fresh one");
        self.new_state()
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
        let mut session = config.new_state();
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
        let config = StorageConfig::default().with_max_age(Duration::from_secs(10)).with_clock(clock.clock());
        let mut session = config.new_state();
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
    fn reads_refresh_an_idle_session_and_the_absolute_timeout_ends_it_anyway() {
        let clock = ManualClock::new(T);
        let config = StorageConfig::default()
            .with_idle_timeout(Duration::from_secs(10))
            .with_absolute_timeout(Duration::from_secs(25))
            .with_clock(clock.clock());
        let mut session = config.new_state();
        session.insert("k", 1).unwrap();
        let mut stored = config.encode(&session).unwrap();
        assert!(stored.contains(r#""__session_meta__": {"started": 1700000000}"#), "{stored}");
        for (step, refreshed) in [(4, false), (8, true), (12, false)] {
            clock.set(T + step);
            let read = config.open("test", None, &stored);
            assert_eq!(read.len(), 1, "alive at +{step}");
            assert_eq!(read.is_changed(), refreshed, "a read at +{step} refreshes at most every 5 s");
            if refreshed {
                assert_eq!(read.created(), T + step);
                stored = config.encode(&read).unwrap();
            }
        }
        clock.set(T + 19);
        assert!(config.open("test", None, &stored).is_empty(), "unused for 11 s since the refresh at +8");
        clock.set(T + 18);
        let read = config.open("test", None, &stored);
        assert!(read.is_changed() && !read.is_empty());
        clock.set(T + 26);
        assert!(config.open("test", None, &config.encode(&read).unwrap()).is_empty(), "past the absolute timeout");
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
        let config = StorageConfig::default().with_codec(Reversed);
        let mut session = config.new_state();
        session.insert("a", 1).unwrap();
        let stored = config.encode(&session).unwrap();
        assert!(stored.starts_with('}'));
        assert_eq!(config.open("test", None, &stored).get::<i64>("a").unwrap(), Some(1));
    }
}
