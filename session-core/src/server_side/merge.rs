//! Concurrent requests on one session keep each other's writes: a save is a compare-and-set against
//! what its request loaded, and on a conflict it takes what the other request stored and re-applies
//! only its own changes (a three-way merge with what it loaded as the base).

use std::future::Future;
use std::pin::Pin;
use std::time::{Duration, Instant};

use super::ServerSideStorage;
use super::backend::{CasOutcome, CompareAndSet, Versioned};
use super::coalesce::Lanes;
use crate::error::Error;
use crate::items::Changes;
use crate::session::Session;
use crate::storage::{CookieAction, Loaded, Origin};

type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, Error>> + Send + 'a>>;

/// The compare-and-set load and save of a backend that has them, chosen when the storage is built
/// (where the `CompareAndSet` bound is known), so the storage's type stays `ServerSideStorage<B>`.
pub(super) trait Merging<B>: Send + Sync {
    fn load<'a>(&'a self, storage: &'a ServerSideStorage<B>, id: &'a str, key: String)
    -> BoxFuture<'a, Option<Loaded>>;

    fn save<'a>(
        &'a self,
        storage: &'a ServerSideStorage<B>,
        session: &'a mut Session,
        origin: Origin,
        id: String,
        key: String,
    ) -> BoxFuture<'a, CookieAction>;
}

/// The lanes of a storage are its merging saves: a session that was loaded saves in its lane (with the
/// other saves of this process), a new one alone.
impl<B: CompareAndSet> Merging<B> for Lanes<B::Token> {
    fn load<'a>(
        &'a self,
        storage: &'a ServerSideStorage<B>,
        id: &'a str,
        key: String,
    ) -> BoxFuture<'a, Option<Loaded>> {
        Box::pin(storage.load_versioned(id, key))
    }

    fn save<'a>(
        &'a self,
        storage: &'a ServerSideStorage<B>,
        session: &'a mut Session,
        origin: Origin,
        id: String,
        key: String,
    ) -> BoxFuture<'a, CookieAction> {
        Box::pin(async move {
            match origin.take::<Versioned<B::Token>>() {
                Some(origin) => storage.save_in_lane(self, session, origin, id, key).await,
                None => storage.save_alone(session, None, id, key).await,
            }
        })
    }
}

/// The longest pause between two attempts of a contended save.
const MAX_BACKOFF: Duration = Duration::from_millis(50);

impl<B: CompareAndSet> ServerSideStorage<B> {
    /// The session under `key`, remembering the stored version for the save.
    pub(super) async fn load_versioned(&self, id: &str, key: String) -> Result<Option<Loaded>, Error> {
        let Some(stored) = self.backend.load_versioned(&key).await? else {
            return Ok(None);
        };
        let session = self.open(id, &stored.bytes);
        Ok(Some(Loaded { session, origin: Origin::new(stored) }))
    }

    /// Stores `session` only if the entry is still what this request loaded (`expected`; `None`: only
    /// if there is no entry); otherwise re-applies this request's changes on top of what is there and
    /// tries again, backing off with jitter, until the backend's timeout has passed. The save of a new
    /// session, and of one whose lane's writer went away.
    pub(super) async fn save_alone(
        &self,
        session: &mut Session,
        expected: Option<Versioned<B::Token>>,
        mut id: String,
        mut key: String,
    ) -> Result<CookieAction, Error> {
        let mut expected = expected;
        // What this request changed in what it loaded; worked out only if a conflict needs it.
        let mut changes: Option<Changes> = None;
        let started = Instant::now();
        let mut attempts = 0;
        loop {
            attempts += 1;
            let payload = self.config.encode(session)?;
            let ttl = self.entry_ttl(session);
            if let CasOutcome::Stored(_) =
                self.backend.store_if(&key, payload.as_bytes(), ttl, expected.as_ref()).await?
            {
                return Ok(CookieAction::Set(id));
            }
            let waited = started.elapsed();
            if waited >= self.backend.timeout() {
                return Err(Error::Conflict { attempts, waited });
            }
            let Some(current) = expected.as_ref() else {
                // A brand-new id that someone else holds: take another one.
                (id, key) = self.fresh_id(session)?;
                continue;
            };
            let changes = changes.get_or_insert_with(|| session.changes_since(self.open(&id, &current.bytes).items()));
            match self.backend.load_versioned(&key).await? {
                // Deleted meanwhile: another request logged out (or the entry expired). An invalidation
                // wins over our writes, unless we invalidated too and start afresh.
                None if session.is_invalidated() => expected = None,
                None => return Ok(CookieAction::Remove),
                Some(current) => {
                    let theirs = self.open(&id, &current.bytes);
                    // `{}` stored: a Python peer invalidated it; that wins too.
                    if theirs.is_new() && !session.is_invalidated() {
                        return Ok(CookieAction::Remove);
                    }
                    *session = session.rebased(changes, theirs);
                    expected = Some(current);
                }
            }
            // The first retry goes at once (the reload was a round trip already); contention beyond that
            // backs off, so processes that keep colliding spread out.
            if attempts > 1 {
                tokio::time::sleep(backoff(u32::try_from(attempts).unwrap_or(u32::MAX))).await;
            }
        }
    }

    /// Gives `session` a new id; its key.
    fn fresh_id(&self, session: &mut Session) -> Result<(String, String), Error> {
        let id = self.ids.new_id().map_err(Error::Backend)?;
        session.forget_identity();
        session.set_new_identity(id.clone())?;
        let key = self.key(&id);
        Ok((id, key))
    }
}

/// A random pause in `[0, min(0.5 ms × 2^attempts, 50 ms))`: contending processes spread out instead of
/// colliding again in step.
pub(super) fn backoff(attempts: u32) -> Duration {
    let cap = Duration::from_micros(500).saturating_mul(1 << attempts.min(7)).min(MAX_BACKOFF);
    let jitter = getrandom::u32().unwrap_or(u32::MAX / 2);
    cap.mul_f64(f64::from(jitter) / f64::from(u32::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_is_capped() {
        for attempts in 0..20 {
            let cap = Duration::from_micros(500).saturating_mul(1 << attempts.min(7)).min(MAX_BACKOFF);
            assert!(backoff(attempts) <= cap);
        }
        assert!(backoff(30) <= MAX_BACKOFF);
    }
}
