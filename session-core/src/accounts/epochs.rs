//! The per-user epoch of log-out-everywhere (see [the module docs](super)).

use std::time::Duration;

use super::hash_hex;
use crate::backend::{Condition, KeyValueBackend};
use crate::deadline::Deadline;
use crate::error::Error;
use crate::hex::random_hex;
use crate::session::SessionState;
use crate::storage::StorageConfig;

/// The epochs of one storage's users in `store`: each under `<prefix><cookie name>_user_<hash of the
/// user>`, living as long as any session of the storage may. The rules of log-out-everywhere, the same
/// for a server-side storage (its own store) and a cookie storage (the store it was lent).
pub(crate) struct Epochs<'a, B: ?Sized> {
    pub(crate) store: &'a B,
    pub(crate) prefix: &'a str,
    pub(crate) config: &'a StorageConfig,
}

impl<B: KeyValueBackend + ?Sized> Epochs<'_, B> {
    /// Where `user`'s epoch lives; their index of sessions is beside it.
    pub(crate) fn user_key(&self, user: &str) -> String {
        format!("{}{}_user_{}", self.prefix, self.config.cookie().name(), hash_hex(user))
    }

    /// How long an epoch (and a user's index) lives: as long as any session may.
    pub(crate) fn ttl(&self) -> Option<Duration> {
        self.config.expiry().longest_life()
    }

    /// At the save of a login: records the epoch its user has now (none: never logged out everywhere,
    /// or long enough ago that no session can remember it), which a later log-out-everywhere replaces.
    pub(crate) async fn record_login(&self, session: &mut SessionState, deadline: &Deadline) -> Result<(), Error> {
        let key = match (session.logged_in(), session.user()) {
            (true, Some(user)) => self.user_key(user),
            _ => return Ok(()),
        };
        if let Some(epoch) = self.current(&key, deadline).await? {
            session.set_epoch(epoch);
        }
        Ok(())
    }

    /// At a load: whether `session` was logged in before its user's last log-out-everywhere (the store
    /// holds an epoch, and not the one the login recorded). A session without a user costs nothing.
    pub(crate) async fn ended(&self, session: &SessionState, deadline: &Deadline) -> Result<bool, Error> {
        let Some(user) = session.user() else { return Ok(false) };
        let current = self.current(&self.user_key(user), deadline).await?;
        Ok(current.is_some_and(|current| session.epoch() != Some(current.as_str())))
    }

    /// Logs every session of `user` out: a new random epoch.
    pub(crate) async fn renew(&self, user: &str, deadline: &Deadline) -> Result<(), Error> {
        let epoch = random_hex::<16>().map_err(Error::backend)?;
        let key = self.user_key(user);
        deadline.run(self.store.store(&key, epoch.as_bytes(), self.ttl(), Condition::Always)).await?;
        crate::metrics::logged_out_everywhere();
        Ok(())
    }

    async fn current(&self, key: &str, deadline: &Deadline) -> Result<Option<String>, Error> {
        let stored = deadline.run(self.store.load(key)).await?;
        Ok(stored.map(|bytes| String::from_utf8_lossy(&bytes).into_owned()))
    }
}

/// A store lent to a cookie storage for its users' epochs, whatever the backend: the token of
/// compare-and-set, which epochs do not use, erased.
pub(crate) type EpochStore = std::sync::Arc<dyn KeyValueBackend<Token = ()>>;

/// `backend` as an [`EpochStore`].
pub(crate) fn epoch_store<B: KeyValueBackend>(backend: B) -> EpochStore {
    std::sync::Arc::new(Untokened(backend))
}

/// A backend seen without its compare-and-set.
struct Untokened<B>(B);

#[async_trait::async_trait]
impl<B: KeyValueBackend> KeyValueBackend for Untokened<B> {
    type Token = ();

    fn name(&self) -> &'static str {
        self.0.name()
    }

    fn timeout(&self) -> Duration {
        self.0.timeout()
    }

    async fn load(&self, key: &str) -> Result<Option<Vec<u8>>, Error> {
        self.0.load(key).await
    }

    async fn store(
        &self,
        key: &str,
        payload: &[u8],
        ttl: Option<Duration>,
        condition: Condition,
    ) -> Result<bool, Error> {
        self.0.store(key, payload, ttl, condition).await
    }

    async fn delete(&self, key: &str) -> Result<(), Error> {
        self.0.delete(key).await
    }
}
