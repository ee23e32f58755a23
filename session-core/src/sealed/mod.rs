//! For cipher authors: cookie storages whose cookie is the session payload, sealed by a cipher.
//! [`SealedCookieStorage`] holds every rule (key rotation, the load and save rules, expiry); a cipher
//! ([`CookieCipher`]) only seals and opens bytes. `session-cookie`'s Fernet and `session-nacl`'s
//! secretbox are two such ciphers.

mod keys;

use std::fmt;
use std::time::Duration;

use async_trait::async_trait;

pub use keys::{KeyError, SecretKey};

use crate::accounts::{self, EpochStore, Epochs};
use crate::backend::KeyValueBackend;
use crate::deadline::Deadline;
use crate::error::Error;
use crate::session::SessionState;
use crate::storage::{AbstractStorage, CookieAction, Loaded, Origin, StorageConfig};

/// One key's cipher for a [`SealedCookieStorage`]: turns the session payload into a cookie value and
/// back. Everything else (key rotation, what an empty session does, expiry, fresh sessions for bad
/// cookies) is the storage's.
///
/// A third cipher is one small impl. AES-256-GCM with a random 96-bit nonce per cookie, for a
/// deployment without Python peers:
///
/// ```
/// use std::time::Duration;
/// use aes_gcm::aead::{Aead, AeadCore, KeyInit, OsRng};
/// use aes_gcm::{Aes256Gcm, Nonce};
/// use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
/// use session_core::Error;
/// use session_core::sealed::{AgeLimit, CookieCipher, KeyError, SealedCookieStorage, SecretKey};
///
/// struct AesGcm(Aes256Gcm);
///
/// impl CookieCipher for AesGcm {
///     const NAME: &'static str = "aes-gcm";
///
///     fn new(key: &SecretKey) -> Result<Self, KeyError> {
///         Ok(AesGcm(Aes256Gcm::new(key.as_bytes().into())))
///     }
///
///     fn seal(&self, plaintext: &[u8], _now: i64) -> Result<String, Error> {
///         let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
///         let sealed = self.0.encrypt(&nonce, plaintext).map_err(|e| Error::Encode(e.to_string().into()))?;
///         Ok(URL_SAFE_NO_PAD.encode([nonce.as_slice(), &sealed].concat()))
///     }
///
///     fn open(&self, cookie: &str, _limit: Option<AgeLimit>) -> Option<Vec<u8>> {
///         let raw = URL_SAFE_NO_PAD.decode(cookie).ok()?;
///         let (nonce, sealed) = raw.split_at_checked(12)?;
///         self.0.decrypt(Nonce::from_slice(nonce), sealed).ok()
///     }
/// }
///
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let storage = SealedCookieStorage::<AesGcm>::new(SecretKey::generate()?)?;
/// let mut session = storage.new_state();
/// session.insert("user", "alice")?;
/// let CookieAction::Set(cookie) = storage.save_session(&mut session, Origin::none()).await? else { panic!() };
/// let loaded = storage.load_session(Some(&cookie)).await?;
/// assert_eq!(loaded.session.get::<String>("user")?.as_deref(), Some("alice"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # }).unwrap();
/// # use session_core::storage::{AbstractStorage, CookieAction, Origin};
/// ```
pub trait CookieCipher: Send + Sync + Sized + 'static {
    /// The storage's name in logs (`"encrypted"`, `"nacl"`).
    const NAME: &'static str;

    /// The cipher for one key; the key's own checks (a Fernet key is 32 bytes, say) fail here.
    fn new(key: &SecretKey) -> Result<Self, KeyError>;

    /// The cookie value for `plaintext`, sealed at `now` (Unix seconds, from the storage's clock).
    fn seal(&self, plaintext: &[u8], now: i64) -> Result<String, Error>;

    /// The plaintext of `cookie`, or `None` when this key cannot open it (another key, tampering,
    /// truncation, garbage) or, for a cipher that stamps its cookies, when it is past `limit` (the
    /// storage's `max_age`; none when the storage sets no age).
    fn open(&self, cookie: &str, limit: Option<AgeLimit>) -> Option<Vec<u8>>;
}

/// The oldest a stamped cookie may be when it is opened: `ttl` (the Fernet TTL) counted back from
/// `now` (Unix seconds, from the storage's clock). The storage reads its clock only when it has an
/// age to check.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AgeLimit {
    /// The moment of opening.
    pub now: i64,
    /// The longest a cookie may have lived since it was sealed.
    pub ttl: Duration,
}

/// Keeps the session in the cookie, sealed by the cipher `C`: aiohttp-session's encrypted cookie
/// storages, for any cipher.
///
/// - **Keys**: 32 bytes each, raw or as base64 text ([`SecretKey`]). [`with_keys`](Self::with_keys)
///   takes several for rotation: the first seals, any opens. Put the new key first and keep the old
///   one until `max_age` has passed.
/// - **Anything that does not open** (another key, tampering, truncation, garbage, expiry) is a fresh
///   session, never an error.
/// - An empty session deletes the cookie.
/// - **A cookie storage cannot revoke one cookie**: a copy taken before a logout stays valid until it
///   expires (two weeks after its last write by default: set a shorter limit). It can end every
///   session of a user (log-out-everywhere) with a small key-value store lent to it for the users'
///   epochs: [`with_revocation`](Self::with_revocation).
pub struct SealedCookieStorage<C> {
    config: StorageConfig,
    /// The ciphers of the keys, in order: the first seals, any opens.
    keys: Vec<C>,
    /// Where the users' epochs live, when the app lends a store for log-out-everywhere.
    revocation: Option<EpochStore>,
}

impl<C> fmt::Debug for SealedCookieStorage<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SealedCookieStorage")
            .field("config", &self.config)
            .field("keys", &format_args!("<{} redacted>", self.keys.len()))
            .field("revocation", &self.revocation.as_ref().map(|store| store.name()))
            .finish()
    }
}

impl<C: Clone> Clone for SealedCookieStorage<C> {
    fn clone(&self) -> Self {
        SealedCookieStorage {
            config: self.config.clone(),
            keys: self.keys.clone(),
            revocation: self.revocation.clone(),
        }
    }
}

impl<C: CookieCipher> SealedCookieStorage<C> {
    /// A storage that seals and opens with `key`: a [`SecretKey`], raw bytes (`&[u8]`, `[u8; 32]`) or
    /// base64 text (`&str`, `String`), as aiohttp-session accepts them.
    pub fn new<K>(key: K) -> Result<Self, KeyError>
    where
        K: TryInto<SecretKey>,
        KeyError: From<K::Error>,
    {
        Self::with_keys([key])
    }

    /// A storage that seals with the first key and opens with any of them (key rotation).
    pub fn with_keys<K>(keys: impl IntoIterator<Item = K>) -> Result<Self, KeyError>
    where
        K: TryInto<SecretKey>,
        KeyError: From<K::Error>,
    {
        let keys = keys.into_iter().map(|key| C::new(&key.try_into()?)).collect::<Result<Vec<C>, KeyError>>()?;
        if keys.is_empty() {
            return Err(KeyError::Missing);
        }
        Ok(SealedCookieStorage { config: StorageConfig::default(), keys, revocation: None })
    }

    /// Replaces the configuration (cookie, expiry, codec, clock).
    pub fn with_config(mut self, config: StorageConfig) -> Self {
        config.warn_if_unbounded(C::NAME);
        self.config = config;
        self
    }

    /// Lends the storage a key-value store (a `RedisBackend`, a `MemcachedBackend`, yours) for
    /// log-out-everywhere: one small key per user logged out everywhere, `<cookie_name>_user_<hash>`,
    /// the same as a server-side storage's. A login then reads the user's epoch (one fetch), and so
    /// does the load of a session with a user; the cookie itself is unchanged. Without it,
    /// `log_out_everywhere` answers [`Error::Unsupported`].
    #[doc(alias = "revocation", alias = "logout_all")]
    pub fn with_revocation(mut self, store: impl KeyValueBackend) -> Self {
        self.revocation = Some(accounts::epoch_store(store));
        self
    }

    /// A new key of 32 random bytes from the operating system, as url-safe base64 text, usable wherever
    /// a key is taken (any cipher of this crate's storages takes 32 bytes; for Fernet this is what
    /// Python's `Fernet.generate_key()` prints). Generate it once and keep it with the application's
    /// secrets, e.g. in `SESSION_SECRET_KEY`.
    #[doc(alias = "Fernet.generate_key")]
    pub fn generate_key() -> String {
        // The OS random source failing is a broken host; an empty key then fails where it is used.
        SecretKey::generate().map(|key| key.to_base64()).unwrap_or_default()
    }

    /// The plaintext of `cookie`, opened by the first key that can. The cipher's own age check (the
    /// Fernet TTL) is `max_age`, or the remember limit if longer: the payload's check then holds each
    /// session to its own lifetime.
    fn open(&self, cookie: &str) -> Option<Vec<u8>> {
        let expiry = self.config.expiry();
        let ttl = expiry.max_age().map(|max_age| expiry.remember_limit().map_or(max_age, |limit| max_age.max(limit)));
        // The clock is read only for an age to check (a clock read is a measurable share of a load).
        let limit = ttl.map(|ttl| AgeLimit { now: self.config.now(), ttl });
        self.keys.iter().find_map(|cipher| cipher.open(cookie, limit))
    }

    /// The users' epochs in the store lent for them, with the deadline of this request's use of it.
    fn revocation(&self) -> Option<(Epochs<'_, dyn KeyValueBackend<Token = ()>>, Deadline)> {
        let store = self.revocation.as_deref()?;
        Some((Epochs { store, prefix: "", config: &self.config }, Deadline::after(store.timeout(), Duration::ZERO)))
    }
}

#[async_trait]
impl<C: CookieCipher> AbstractStorage for SealedCookieStorage<C> {
    fn config(&self) -> &StorageConfig {
        &self.config
    }

    async fn load_session(&self, cookie: Option<&str>) -> Result<Loaded, Error> {
        let Some(cookie) = cookie else {
            return Ok(self.new_state().into());
        };
        let session = match self.open(cookie).map(String::from_utf8) {
            Some(Ok(payload)) => self.config.open(C::NAME, None, &payload),
            Some(Err(_)) => self.config.reject(C::NAME, &"opened payload is not UTF-8"),
            None => self.config.reject(C::NAME, &"cookie does not open (another key, tampered, expired or garbage)"),
        };
        // Past its limits (the cipher's own age check is the longest a session may live): over, and a
        // fresh session as for any cookie that does not open.
        if session.has_ended() {
            return Ok(self.new_state().into());
        }
        // A user logged out everywhere since this cookie's login: over.
        if let Some((epochs, deadline)) = self.revocation()
            && epochs.ended(&session, &deadline).await?
        {
            return Ok(self.new_state().into());
        }
        Ok(session.into())
    }

    async fn save_session(&self, session: &mut SessionState, _: Origin) -> Result<CookieAction, Error> {
        if session.holds_nothing() {
            return Ok(CookieAction::Remove);
        }
        if let Some((epochs, deadline)) = self.revocation() {
            epochs.record_login(session, &deadline).await?;
        }
        let payload = self.config.encode(session)?;
        // `with_keys` refuses an empty key list, so there is a first key.
        let Some(sealing) = self.keys.first() else {
            return Err(Error::Encode("no key to seal the cookie with".into()));
        };
        sealing.seal(payload.as_bytes(), self.config.now()).map(CookieAction::Set)
    }

    /// With a revocation store ([`with_revocation`](SealedCookieStorage::with_revocation)): a new
    /// epoch for `user`, which ends every cookie of theirs logged in before it. Without one:
    /// [`Error::Unsupported`].
    async fn log_out_everywhere(&self, user: &str) -> Result<(), Error> {
        let Some((epochs, deadline)) = self.revocation() else {
            return Err(Error::Unsupported {
                what: "log a user out everywhere without a store for it: give it one with `with_revocation`",
            });
        };
        epochs.renew(user, &deadline).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reverses the bytes and tags them with the key's first byte: enough to tell keys apart.
    struct Tagged(u8);

    impl CookieCipher for Tagged {
        const NAME: &'static str = "tagged";
        fn new(key: &SecretKey) -> Result<Self, KeyError> {
            Ok(Tagged(key.as_bytes()[0]))
        }
        fn seal(&self, plaintext: &[u8], _: i64) -> Result<String, Error> {
            Ok(format!("{}:{}", self.0, String::from_utf8_lossy(plaintext)))
        }
        fn open(&self, cookie: &str, _: Option<AgeLimit>) -> Option<Vec<u8>> {
            let (tag, text) = cookie.split_once(':')?;
            (tag == self.0.to_string()).then(|| text.as_bytes().to_vec())
        }
    }

    fn run<F: std::future::Future>(future: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread().build().expect("runtime").block_on(future)
    }

    #[test]
    fn rotation_seals_with_the_first_key_and_opens_with_any() {
        let (new, old) = ([1u8; 32], [2u8; 32]);
        let rotated = SealedCookieStorage::<Tagged>::with_keys([new, old]).unwrap();
        let only_old = SealedCookieStorage::<Tagged>::new(old).unwrap();
        let mut session = only_old.new_state();
        session.insert("k", 1).unwrap();
        let CookieAction::Set(old_cookie) = run(only_old.save_session(&mut session, Origin::none())).unwrap() else {
            panic!("set")
        };
        assert!(!run(rotated.load_session(Some(&old_cookie))).unwrap().session.is_new(), "the old key opens");
        let CookieAction::Set(new_cookie) = run(rotated.save_session(&mut session, Origin::none())).unwrap() else {
            panic!("set")
        };
        assert!(new_cookie.starts_with("1:"), "the first key seals");
        assert!(run(only_old.load_session(Some(&new_cookie))).unwrap().session.is_new());
    }

    #[test]
    fn no_key_bad_keys_and_empty_sessions() {
        assert_eq!(SealedCookieStorage::<Tagged>::with_keys(Vec::<SecretKey>::new()).err(), Some(KeyError::Missing));
        assert_eq!(SealedCookieStorage::<Tagged>::new("short").err(), Some(KeyError::NotBase64));
        let storage = SealedCookieStorage::<Tagged>::new([7u8; 32]).unwrap();
        let mut empty = storage.new_state();
        assert_eq!(run(storage.save_session(&mut empty, Origin::none())).unwrap(), CookieAction::Remove);
        assert!(run(storage.load_session(Some("7:\u{0}not json"))).unwrap().session.is_new());
        assert_eq!(format!("{storage:?}").matches("<1 redacted>").count(), 1);
        assert_eq!(SealedCookieStorage::<Tagged>::generate_key().len(), 44);
    }
}
