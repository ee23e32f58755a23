//! The flags every example shares to pick and configure its session storage, and the start-up errors
//! they can give.

use std::sync::Arc;
use std::time::Duration;

use clap::{Args, ValueEnum};
#[cfg(feature = "cookie")]
use session_cookie::{EncryptedCookieStorage, SimpleCookieStorage};
#[cfg(any(feature = "redis", feature = "memcached", feature = "postgres", feature = "mysql", feature = "sqlite"))]
use session_core::Concurrency;
use session_core::accounts::Devices;
use session_core::cookie::CookieError;
#[cfg(any(feature = "cookie", feature = "nacl"))]
use session_core::sealed::{CookieCipher, SealedCookieStorage};
use session_core::sealed::{KeyError, SecretKey};
use session_core::{AbstractStorage, CookieConfig, StorageConfig};
#[cfg(feature = "memcached")]
use session_memcached::{MemcachedBackend, MemcachedStorage, MemcachedStorageError};
#[cfg(feature = "nacl")]
use session_nacl::NaClCookieStorage;
#[cfg(feature = "redis")]
use session_redis::{RedisBackend, RedisStorage};
#[cfg(any(feature = "postgres", feature = "mysql", feature = "sqlite"))]
use session_sql::{SqlBackend, SqlStorage, SqlStorageError};

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
    /// A Postgres table (`--database-url`; aiohttp-session has no SQL storage).
    Postgres,
    /// A MySQL or MariaDB table (`--database-url`).
    Mysql,
    /// A SQLite database (`--database-url`, in memory by default: no server to start).
    Sqlite,
}

/// How concurrent saves of one session combine (Redis and memcached).
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ConcurrencyFlag {
    /// Each request's changes are merged into what is stored (the default).
    Merge,
    /// The last save overwrites the whole session (aiohttp-session's behaviour).
    LastWriterWins,
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
    /// service to share sessions. Without it a key is generated and sessions end at restart. Prefer the
    /// environment variable: a flag's value is visible to every user of the machine (`ps`).
    #[arg(long, env = "SESSION_SECRET_KEY", hide_env_values = true)]
    pub secret_key: Option<String>,

    /// Name of the session cookie.
    #[arg(long, env = "SESSION_COOKIE_NAME", default_value = "AIOHTTP_SESSION")]
    pub cookie_name: String,

    /// aiohttp-session's max_age in seconds: the session ends this long after its last write, and the
    /// cookie carries it as Max-Age.
    #[arg(long, env = "SESSION_MAX_AGE")]
    pub max_age: Option<u64>,

    /// Seconds of inactivity (reads count) after which the session ends.
    #[arg(long, env = "SESSION_IDLE_TIMEOUT")]
    pub idle_timeout: Option<u64>,

    /// Seconds after its start at which the session ends, however active.
    #[arg(long, env = "SESSION_ABSOLUTE_TIMEOUT")]
    pub absolute_timeout: Option<u64>,

    /// How concurrent requests on one session combine their saves (Redis and memcached).
    #[arg(long, env = "SESSION_CONCURRENCY", value_enum, default_value_t = ConcurrencyFlag::Merge)]
    pub concurrency: ConcurrencyFlag,

    /// Redis for `--storage redis`.
    #[arg(long, env = "REDIS_URL", default_value = "redis://127.0.0.1:6379")]
    pub redis_url: String,

    /// The database for `--storage postgres|mysql|sqlite` (`postgres://user:password@host/db`,
    /// `mysql://…`, `sqlite://file.db?mode=rwc`); the table `sessions` is created if missing. Default:
    /// `postgres://postgres@127.0.0.1/postgres`, `mysql://root@127.0.0.1/sessions`, `sqlite::memory:`.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,

    /// memcached servers for `--storage memcached` (host:port, comma-separated).
    #[arg(long, env = "MEMCACHED", value_delimiter = ',', default_value = "127.0.0.1:11211")]
    pub memcached: Vec<String>,

    /// Cookie storages (`encrypted`, `nacl`): keep the per-user epochs of log-out-everywhere in the
    /// Redis at `--redis-url`, so a user's cookies can be ended (built with `--features redis`).
    #[arg(long, env = "SESSION_REVOCATION")]
    pub revocation: bool,
}

/// Why the storage could not be set up. Each message names what is wrong and never the key.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    /// `--cookie-name` cannot be a cookie.
    #[error("{0}")]
    Cookie(#[from] CookieError),
    /// The cookie needs `Secure`, which the demo leaves off on a loopback address.
    #[error("{0} (on a loopback --host the demo sends the cookie without Secure; use another --cookie-name)")]
    CookieNeedsSecure(CookieError),
    /// `--secret-key` is not a key.
    #[error("the secret key is not valid: {0}")]
    SecretKey(#[from] KeyError),
    /// `--redis-url` does not parse.
    #[error("invalid --redis-url {url:?}: {reason}")]
    RedisUrl {
        /// The URL as given, its password hidden ([`without_password`]).
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// `--memcached` holds an address that does not parse or resolve.
    #[cfg(feature = "memcached")]
    #[error("invalid --memcached: {0}")]
    Memcached(#[from] MemcachedStorageError),
    /// `--database-url` does not name a database, or the tables cannot be created there.
    #[cfg(any(feature = "postgres", feature = "mysql", feature = "sqlite"))]
    #[error("--database-url {url}: {source}")]
    Database {
        /// The URL, its password hidden ([`without_password`]).
        url: String,
        /// What went wrong.
        source: SqlStorageError,
    },
    /// `--storage` (or `--revocation`) asks for what this build of the demo does not have.
    #[error("this demo was built without {storage}: run it with `cargo run -p examples --features {feature}`")]
    NotBuilt {
        /// The flag asked for (`--storage redis`).
        storage: &'static str,
        /// The cargo feature that adds it.
        feature: &'static str,
    },
}

/// A storage and where it lives, to check at start-up that the store answers.
pub struct Configured {
    /// The storage.
    pub storage: Arc<dyn AbstractStorage>,
    /// For a server-side storage: what to call it in messages (`Redis at redis://…`).
    pub store: Option<String>,
    /// The same storage when it lists a user's devices (Redis).
    pub devices: Option<Arc<dyn Devices>>,
}

impl StorageArgs {
    /// The storage configuration these flags describe; `secure` is the cookie's `Secure` attribute.
    pub fn storage_config(&self, secure: bool) -> Result<StorageConfig, SetupError> {
        let cookie = CookieConfig::builder().name(self.cookie_name.clone()).secure(secure).build().map_err(
            |error| match error {
                CookieError::Rule { .. } if !secure => SetupError::CookieNeedsSecure(error),
                error => SetupError::Cookie(error),
            },
        )?;
        Ok(StorageConfig::new()
            .with_cookie(cookie)
            .with_max_age(self.max_age.map(Duration::from_secs))
            .with_idle_timeout(self.idle_timeout.map(Duration::from_secs))
            .with_absolute_timeout(self.absolute_timeout.map(Duration::from_secs)))
    }

    #[cfg(any(feature = "redis", feature = "memcached", feature = "postgres", feature = "mysql", feature = "sqlite"))]
    fn concurrency(&self) -> Concurrency {
        match self.concurrency {
            ConcurrencyFlag::Merge => Concurrency::Merge,
            ConcurrencyFlag::LastWriterWins => Concurrency::LastWriterWins,
        }
    }

    /// The storage these flags describe. A malformed cookie name, key, URL or address is an error; a
    /// missing key is generated, with a warning.
    pub async fn build(&self, secure: bool) -> Result<Configured, SetupError> {
        let config = self.storage_config(secure)?;
        Ok(match self.storage {
            #[cfg(feature = "cookie")]
            StorageKind::Simple => cookie(SimpleCookieStorage::new().with_config(config)),
            #[cfg(feature = "cookie")]
            StorageKind::Encrypted => {
                let storage = EncryptedCookieStorage::new(secret_key(self.secret_key.as_deref()))?.with_config(config);
                self.sealed(storage)?
            }
            #[cfg(feature = "nacl")]
            StorageKind::Nacl => {
                let storage = NaClCookieStorage::new(secret_key(self.secret_key.as_deref()))?.with_config(config);
                self.sealed(storage)?
            }
            #[cfg(feature = "redis")]
            StorageKind::Redis => {
                let storage = Arc::new(redis(&self.redis_url, config)?.with_concurrency(self.concurrency()));
                Configured {
                    storage: Arc::clone(&storage) as Arc<dyn AbstractStorage>,
                    store: Some(format!("Redis at {}", without_password(&self.redis_url))),
                    devices: Some(storage),
                }
            }
            #[cfg(feature = "memcached")]
            StorageKind::Memcached => {
                let backend = MemcachedBackend::connect(self.memcached.iter().cloned()).await?;
                Configured {
                    storage: Arc::new(
                        MemcachedStorage::new(backend).with_config(config).with_concurrency(self.concurrency()),
                    ),
                    store: Some(format!("memcached at {}", self.memcached.join(","))),
                    devices: None,
                }
            }
            #[cfg(feature = "postgres")]
            StorageKind::Postgres => self.sql("postgres://postgres@127.0.0.1/postgres", "Postgres", config).await?,
            #[cfg(feature = "mysql")]
            StorageKind::Mysql => self.sql("mysql://root@127.0.0.1/sessions", "MySQL", config).await?,
            #[cfg(feature = "sqlite")]
            StorageKind::Sqlite => self.sql("sqlite::memory:", "SQLite", config).await?,
            #[allow(unreachable_patterns, reason = "every storage is built with --all-features")]
            other => return Err(not_built(other)),
        })
    }

    /// The SQL storage at `--database-url` (or `default`), its tables created and a reaper running.
    #[cfg(any(feature = "postgres", feature = "mysql", feature = "sqlite"))]
    async fn sql(&self, default: &str, name: &str, config: StorageConfig) -> Result<Configured, SetupError> {
        let url = self.database_url.as_deref().unwrap_or(default);
        let refuse = |source| SetupError::Database { url: without_password(url), source };
        let backend = SqlBackend::connect_lazy(url).map_err(refuse)?;
        backend.migrate().await.map_err(refuse)?;
        let backend = backend.spawn_reaper(Duration::from_secs(60), 1000);
        let storage = Arc::new(SqlStorage::new(backend).with_config(config).with_concurrency(self.concurrency()));
        Ok(Configured {
            storage: Arc::clone(&storage) as Arc<dyn AbstractStorage>,
            store: Some(format!("{name} at {}", without_password(url))),
            devices: Some(storage),
        })
    }

    /// A cookie storage, lent the Redis at `--redis-url` for log-out-everywhere with `--revocation`.
    #[cfg(any(feature = "cookie", feature = "nacl"))]
    fn sealed<C: CookieCipher>(&self, storage: SealedCookieStorage<C>) -> Result<Configured, SetupError> {
        if !self.revocation {
            return Ok(cookie(storage));
        }
        #[cfg(feature = "redis")]
        {
            let backend = RedisBackend::from_url(&self.redis_url).map_err(|error| SetupError::RedisUrl {
                url: without_password(&self.redis_url),
                reason: error.to_string(),
            })?;
            Ok(Configured {
                storage: Arc::new(storage.with_revocation(backend)),
                store: Some(format!("Redis at {} (revocation)", without_password(&self.redis_url))),
                devices: None,
            })
        }
        #[cfg(not(feature = "redis"))]
        Err(SetupError::NotBuilt { storage: "--revocation", feature: "redis" })
    }
}

/// The error for a storage this build leaves out, naming the feature that adds it.
fn not_built(kind: StorageKind) -> SetupError {
    let (storage, feature) = match kind {
        StorageKind::Simple => ("--storage simple", "cookie"),
        StorageKind::Encrypted => ("--storage encrypted", "cookie"),
        StorageKind::Nacl => ("--storage nacl", "nacl"),
        StorageKind::Redis => ("--storage redis", "redis"),
        StorageKind::Memcached => ("--storage memcached", "memcached"),
        StorageKind::Postgres => ("--storage postgres", "postgres"),
        StorageKind::Mysql => ("--storage mysql", "mysql"),
        StorageKind::Sqlite => ("--storage sqlite", "sqlite"),
    };
    SetupError::NotBuilt { storage, feature }
}

#[cfg(any(feature = "cookie", feature = "nacl"))]
fn cookie(storage: impl AbstractStorage + 'static) -> Configured {
    Configured { storage: Arc::new(storage), store: None, devices: None }
}

/// The Redis storage at `url` with `config`; a URL that does not parse says why.
#[cfg(feature = "redis")]
pub fn redis(url: &str, config: StorageConfig) -> Result<RedisStorage, SetupError> {
    use deadpool_redis::redis::IntoConnectionInfo;
    let refuse = |reason: String| SetupError::RedisUrl { url: without_password(url), reason };
    url.into_connection_info()
        .map_err(|error| refuse(format!("{error} (expected redis://[:password@]host:port[/db] or rediss://…)")))?;
    let backend = RedisBackend::from_url(url).map_err(|error| refuse(error.to_string()))?;
    Ok(RedisStorage::new(backend).with_config(config))
}

/// The key given as base64 text, or a generated one with a warning that sessions end at restart.
pub fn secret_key(text: Option<&str>) -> String {
    match text {
        Some(text) => text.to_owned(),
        None => {
            eprintln!(
                "warning: no --secret-key given; using a key generated for this run, so sessions will not survive a \
                 restart"
            );
            SecretKey::generate().map(|key| key.to_base64()).unwrap_or_default()
        }
    }
}

/// `url` with the password of its user part replaced by `***`, for messages and logs: a store's
/// password never reaches either. Works on text that does not parse as a URL too (an error message
/// quotes exactly that), so it reads the text rather than parsing it: everything between the first
/// `:` after the scheme and the last `@` of the authority is the password.
pub fn without_password(url: &str) -> String {
    let start = url.find("://").map_or(0, |at| at + 3);
    let authority_end = url[start..].find('/').map_or(url.len(), |at| start + at);
    let Some(at) = url[start..authority_end].rfind('@').map(|at| start + at) else {
        return url.to_owned();
    };
    let password = url[start..at].find(':').map_or(start, |colon| start + colon + 1);
    format!("{}***{}", &url[..password], &url[at..])
}

#[cfg(test)]
mod tests {
    use super::without_password;

    #[test]
    fn passwords_are_hidden_and_the_rest_kept() {
        assert_eq!(without_password("redis://:hunter2@127.0.0.1:6379/0"), "redis://:***@127.0.0.1:6379/0");
        assert_eq!(without_password("rediss://app:p@ss:w@rd@cache:6380"), "rediss://app:***@cache:6380");
        assert_eq!(without_password("redis://secret@host"), "redis://***@host", "a lone user part may be a password");
        assert_eq!(without_password("redis://127.0.0.1:6379/a@b"), "redis://127.0.0.1:6379/a@b", "no user part");
        assert_eq!(without_password("not a url :pw@x"), "not a url :***@x");
        assert_eq!(without_password("redis://host"), "redis://host");
    }
}
