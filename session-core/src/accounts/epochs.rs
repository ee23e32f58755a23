//! The per-user epoch of log-out-everywhere (see [the module docs](super)).

use std::time::Duration;

use super::hash_hex;
use crate::backend::{Condition, KeyValueBackend};
use crate::deadline::Deadline;
use crate::error::Error;
use crate::hex::push_hex;
use crate::session::SessionState;

/// `<prefix><cookie_name>_user_<hash of the user>`.
pub(crate) fn user_key(prefix: &str, cookie_name: &str, user: &str) -> String {
    format!("{prefix}{cookie_name}_user_{}", hash_hex(user))
}

/// The epoch `user` has now (`None`: never logged out everywhere, or long enough ago that no session
/// can remember it): what a login records.
pub(crate) async fn current_epoch<B: KeyValueBackend + ?Sized>(
    backend: &B,
    key: &str,
    deadline: &Deadline,
) -> Result<Option<String>, Error> {
    let stored = deadline.run(backend.load(key)).await?;
    Ok(stored.map(|bytes| String::from_utf8_lossy(&bytes).into_owned()))
}

/// Logs every session of the user out: a new epoch, living `ttl` (`None`: forever).
pub(crate) async fn new_epoch<B: KeyValueBackend + ?Sized>(
    backend: &B,
    key: &str,
    ttl: Option<Duration>,
    deadline: &Deadline,
) -> Result<(), Error> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes)
        .map_err(|e| Error::backend(format!("the operating system's random source failed: {e}")))?;
    let mut epoch = String::with_capacity(32);
    push_hex(&mut epoch, &bytes);
    deadline.run(backend.store(key, epoch.as_bytes(), ttl, Condition::Always)).await?;
    Ok(())
}

/// Whether `session` was logged in before its user's last log-out-everywhere: the store holds an
/// epoch, and not the one the login recorded.
pub(crate) async fn is_revoked<B: KeyValueBackend + ?Sized>(
    backend: &B,
    key: &str,
    session: &SessionState,
    deadline: &Deadline,
) -> Result<bool, Error> {
    let current = current_epoch(backend, key, deadline).await?;
    Ok(current.is_some_and(|current| session.epoch() != Some(current.as_str())))
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

    fn accepts_key(&self, key: &str) -> bool {
        self.0.accepts_key(key)
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
