//! The flags every example shares to pick and configure its session storage.

use std::sync::Arc;

use clap::{Args, ValueEnum};
use session_cookie::{EncryptedCookieStorage, SimpleCookieStorage};
use session_core::{AbstractStorage, CookieConfig, KeyError, SecretKey};
use session_memcached::{MemcachedBackend, MemcachedStorage};
use session_nacl::NaClCookieStorage;
use session_redis::{RedisBackend, RedisStorage};

/// The storages an example can run on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum StorageKind {
    /// Plain JSON in the cookie (readable and forgeable by the client: demos only).
    Simple,
    /// Fernet-encrypted cookie, compatible with aiohttp-session's EncryptedCookieStorage.
    Encrypted,
    /// NaCl secretbox cookie, compatible with aiohttp-session's NaClCookieStorage.
    Nacl,
    /// Redis (`--redis-url`), compatible with aiohttp-session's RedisStorage.
    Redis,
    /// memcached (`--memcached`), compatible with aiohttp-session's MemcachedStorage.
    Memcached,
}

/// Session flags (each also read from the environment variable shown in `--help`).
///
/// No `Debug`: it holds the secret key.
#[derive(Args, Clone)]
pub struct StorageArgs {
    /// Where sessions live.
    #[arg(long, env = "SESSION_STORAGE", value_enum, default_value_t = StorageKind::Encrypted)]
    pub storage: StorageKind,

    /// Url-safe base64 of 32 bytes, e.g. from Python's `Fernet.generate_key()`; share it with a Python
    /// service to share sessions. Without it a key is generated and sessions end at restart.
    #[arg(long, env = "SESSION_SECRET_KEY", hide_env_values = true)]
    pub secret_key: Option<String>,

    /// Name of the session cookie.
    #[arg(long, env = "SESSION_COOKIE_NAME", default_value = "AIOHTTP_SESSION")]
    pub cookie_name: String,

    /// Idle timeout of a session in seconds (none: sessions never expire).
    #[arg(long, env = "SESSION_MAX_AGE")]
    pub max_age: Option<u64>,

    /// Redis for `--storage redis`.
    #[arg(long, env = "REDIS_URL", default_value = "redis://127.0.0.1:6379")]
    pub redis_url: String,

    /// memcached servers for `--storage memcached` (host:port, comma-separated).
    #[arg(long, env = "MEMCACHED", value_delimiter = ',', default_value = "127.0.0.1:11211")]
    pub memcached: Vec<String>,
}

/// Why the storage could not be set up.
pub type SetupError = Box<dyn std::error::Error + Send + Sync>;

impl StorageArgs {
    /// The cookie settings these flags describe.
    pub fn cookie_config(&self) -> CookieConfig {
        CookieConfig::new().name(self.cookie_name.clone()).max_age(self.max_age)
    }

    /// The storage these flags describe. A malformed key or URL is an error; a missing key is
    /// generated, with a warning on stderr.
    pub async fn build(&self) -> Result<Arc<dyn AbstractStorage>, SetupError> {
        let config = self.cookie_config();
        Ok(match self.storage {
            StorageKind::Simple => Arc::new(SimpleCookieStorage::new().with_config(config)),
            StorageKind::Encrypted => {
                let key = secret_key(self.secret_key.as_deref(), EncryptedCookieStorage::generate_key)?;
                Arc::new(EncryptedCookieStorage::new(key)?.with_config(config))
            }
            StorageKind::Nacl => {
                let key = secret_key(self.secret_key.as_deref(), NaClCookieStorage::generate_key)?;
                Arc::new(NaClCookieStorage::new(key)?.with_config(config))
            }
            StorageKind::Redis => Arc::new(redis(&self.redis_url, config)?),
            StorageKind::Memcached => {
                let backend = MemcachedBackend::connect(self.memcached.iter().cloned()).await?;
                Arc::new(MemcachedStorage::new(backend).with_config(config))
            }
        })
    }
}

/// The Redis storage at `url` with the `cookie` settings.
pub fn redis(url: &str, cookie: CookieConfig) -> Result<RedisStorage, SetupError> {
    Ok(RedisStorage::new(RedisBackend::from_url(url)?).with_config(cookie))
}

/// The key given as base64 `text`, or a generated one with a warning that sessions end at restart.
pub fn secret_key(text: Option<&str>, generate: fn() -> SecretKey) -> Result<SecretKey, KeyError> {
    match text {
        Some(text) => SecretKey::from_base64(text),
        None => {
            eprintln!(
                "warning: no --secret-key given; using a key generated for this run, \
                     so sessions will not survive a restart"
            );
            Ok(generate())
        }
    }
}
