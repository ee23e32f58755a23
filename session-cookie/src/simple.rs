//! The session JSON itself as the cookie value.

use async_trait::async_trait;
use session_core::storage::{AbstractStorage, CookieAction, Loaded, Origin};
use session_core::{Error, SessionState, StorageConfig};

/// Keeps the session payload, as plain JSON, in the cookie.
///
/// **For tests and local development only: the client can read and rewrite every value**, including
/// whatever says who is logged in. Nothing is signed or encrypted. Use
/// [`EncryptedCookieStorage`](crate::EncryptedCookieStorage) or a server-side storage for anything real.
///
/// It writes what aiohttp-session's `SimpleCookieStorage` writes: the JSON quoted the Python way,
/// `{}` (kept, not deleted) after `invalidate`.
///
/// ```
/// use std::time::Duration;
/// use session_cookie::SimpleCookieStorage;
/// use session_core::StorageConfig;
///
/// let storage = SimpleCookieStorage::new().with_config(StorageConfig::new().with_max_age(Duration::from_secs(3600)));
/// ```
#[derive(Clone, Debug, Default)]
pub struct SimpleCookieStorage {
    config: StorageConfig,
}

impl SimpleCookieStorage {
    /// A storage with the default configuration.
    pub fn new() -> Self {
        Self::default()
    }

    /// Replaces the configuration (cookie, expiry, codec, clock).
    pub fn with_config(mut self, config: StorageConfig) -> Self {
        config.warn_if_unbounded("simple");
        self.config = config;
        self
    }
}

#[async_trait]
impl AbstractStorage for SimpleCookieStorage {
    fn config(&self) -> &StorageConfig {
        &self.config
    }

    async fn load_session(&self, cookie: Option<&str>) -> Result<Loaded, Error> {
        Ok(match cookie {
            Some(payload) => self.config.open("simple", None, payload),
            None => self.new_state(),
        }
        .into())
    }

    async fn save_session(&self, session: &mut SessionState, _: Origin) -> Result<CookieAction, Error> {
        Ok(CookieAction::Set(self.config.encode(session)?))
    }
}
