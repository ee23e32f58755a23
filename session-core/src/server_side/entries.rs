//! How sessions map onto store entries: the key of an id, the payload of a session, the lifetime of its
//! entry. A Python aiohttp-session peer reads and writes the same keys and payloads.

use std::sync::Arc;
use std::time::Duration;

use super::ids::KeyFactory;
use crate::accounts::Epochs;
use crate::error::Error;
use crate::session::SessionState;
use crate::storage::StorageConfig;

/// The layout of one storage's entries: `<prefix><cookie_name>_<id>` holding the session's payload.
#[derive(Clone)]
pub(super) struct Entries {
    pub(super) config: StorageConfig,
    pub(super) ids: Arc<dyn KeyFactory>,
    pub(super) prefix: String,
    /// The store's name, for the warnings of payloads it could not read.
    pub(super) store: &'static str,
}

impl Entries {
    /// The key of the session `id`.
    pub(super) fn key(&self, id: &str) -> String {
        self.key_with(id, "")
    }

    /// `<prefix><cookie_name>_<infix><id>`.
    pub(super) fn key_with(&self, id: &str, infix: &str) -> String {
        let name = self.config.cookie().name();
        let mut key = String::with_capacity(self.prefix.len() + name.len() + 1 + infix.len() + id.len());
        key.push_str(&self.prefix);
        key.push_str(name);
        key.push('_');
        key.push_str(infix);
        key.push_str(id);
        key
    }

    /// A fresh id from the key factory.
    pub(super) fn new_id(&self) -> Result<String, Error> {
        self.ids.new_id().map_err(Error::Backend)
    }

    /// The session stored under `id` as `bytes`, with every load rule applied.
    pub(super) fn open(&self, id: &str, bytes: &[u8]) -> SessionState {
        match std::str::from_utf8(bytes) {
            Ok(payload) => self.config.open(self.store, Some(id.to_owned()), payload),
            Err(_) => self.config.reject(self.store, &"stored payload is not UTF-8"),
        }
    }

    /// The payload to store for `session`, and how long its entry lives: the session's idle limit (its
    /// remembered lifetime, the expiry policy's shortest idle limit, or the default lifetime), or what
    /// is left of an absolute timeout if less.
    pub(super) fn payload(&self, session: &SessionState) -> Result<(String, Option<Duration>), Error> {
        let payload = self.config.encode(session)?;
        let expiry = self.config.expiry();
        let seconds = expiry.entry_seconds(
            self.config.now(),
            session.max_age_seconds(),
            session.started(),
            session.lifetime_seconds(),
        );
        // A lifetime under a second would be no expiry at all for Redis (`EX 0` is refused).
        Ok((payload, seconds.map(|seconds| Duration::from_secs(seconds.max(1)))))
    }

    /// The epochs of this storage's users, kept in `store` beside the entries.
    pub(super) fn epochs<'a, B: ?Sized>(&'a self, store: &'a B) -> Epochs<'a, B> {
        Epochs { store, prefix: &self.prefix, config: &self.config }
    }
}
