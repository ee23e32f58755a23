//! The session JSON itself as the cookie value.

use async_trait::async_trait;
use session_core::{AbstractStorage, CookieAction, Error, Session, StorageConfig};

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
/// use session_cookie::SimpleCookieStorage;
/// use session_core::CookieConfig;
///
/// let storage = SimpleCookieStorage::new().with_config(CookieConfig::new().max_age(Some(3600)));
/// ```
#[derive(Clone, Debug, Default)]
pub struct SimpleCookieStorage {
    config: StorageConfig,
}

impl SimpleCookieStorage {
    /// A storage with the default cookie settings and JSON codec.
    pub fn new() -> Self {
        Self::default()
    }

    /// Replaces the cookie settings (pass a `CookieConfig`) or the whole configuration (a
    /// `StorageConfig`, which also carries the codec and the clock).
    pub fn with_config(mut self, config: impl Into<StorageConfig>) -> Self {
        self.config = config.into();
        self
    }
}

#[async_trait]
impl AbstractStorage for SimpleCookieStorage {
    fn config(&self) -> &StorageConfig {
        &self.config
    }

    async fn load_session(&self, cookie: Option<&str>) -> Result<Session, Error> {
        Ok(match cookie {
            Some(payload) => self.config.open("simple", None, payload),
            None => self.new_session(),
        })
    }

    async fn save_session(&self, session: &mut Session) -> Result<CookieAction, Error> {
        Ok(CookieAction::Set(self.config.encode(session)?))
    }
}
