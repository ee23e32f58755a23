//! Concurrent requests on one session keep each other's writes: a save is a compare-and-set against
//! what its request loaded, and on a conflict it takes what the other request stored and re-applies
//! only its own changes (a three-way merge with what it loaded as the base).
//!
//! One loop does it, for a batch of one save or of many (`lanes.rs` gathers them): fold the batch's
//! changes on top of what is stored, store it if the entry is still that, else reload and fold again,
//! backing off, until the request's deadline. An entry found gone (a logout, `cycle_id`, expiry) or
//! logged out by a Python peer (`{}` stored) ends the loop: nothing is written back.

use std::sync::Arc;
use std::time::Duration;

use super::entries::Entries;
use crate::backend::{CasOutcome, CompareAndSet, Versioned};
use crate::deadline::Deadline;
use crate::error::Error;
use crate::items::{Diff, Items};
use crate::session::SessionState;

/// One request's save in a batch: its session and the stored version it loaded.
pub(super) struct Change<T> {
    pub(super) session: SessionState,
    pub(super) origin: Versioned<T>,
}

/// What a batch did, as every save it carried hears it (cheap to clone).
#[derive(Clone)]
pub(super) enum Merged<T> {
    /// The entry now holds the batch's changes, at this version.
    Stored(Arc<Versioned<T>>),
    /// The entry was removed or logged out meanwhile: nothing was written.
    Gone,
    /// The store failed or the deadline passed.
    Failed(BatchFailure),
}

/// A batch's failure as the saves that waited for it report it: the same kind for a timeout or a
/// conflict, the cause as text otherwise (the save that wrote the batch keeps the error itself).
#[derive(Clone, Debug)]
pub(super) enum BatchFailure {
    Timeout(Duration),
    Conflict { attempts: usize, waited: Duration },
    Other(Arc<str>),
}

impl BatchFailure {
    pub(super) fn of(error: &Error) -> Self {
        match error {
            Error::Timeout { timeout } => BatchFailure::Timeout(*timeout),
            Error::Conflict { attempts, waited } => BatchFailure::Conflict { attempts: *attempts, waited: *waited },
            other => BatchFailure::Other(crate::error::describe(other).into()),
        }
    }

    pub(super) fn error(&self) -> Error {
        match self {
            BatchFailure::Timeout(timeout) => Error::Timeout { timeout: *timeout },
            BatchFailure::Conflict { attempts, waited } => Error::Conflict { attempts: *attempts, waited: *waited },
            BatchFailure::Other(cause) => {
                Error::Backend(format!("the write that carried this save failed: {cause}").into())
            }
        }
    }
}

/// The error of a store whose compare-and-set refused to write over an entry that had not changed.
fn refused_unchanged() -> Error {
    Error::backend(
        "the store answered Conflict to a compare-and-set of an entry nobody had changed (same token, same bytes): \
         its `store_if` never stores",
    )
}

/// The longest pause between two attempts of a contended save.
const MAX_BACKOFF: Duration = Duration::from_millis(50);

/// Writes `changes` folded on top of the stored version `expected`, with one compare-and-set; another
/// process's write in between means a reload and a new fold, backing off, within `deadline`. The
/// version written, or `None` when the entry is gone.
pub(super) async fn write_merged<T: Clone + PartialEq + Send + Sync + 'static>(
    cas: &dyn CompareAndSet<Token = T>,
    entries: &Entries,
    key: &str,
    id: &str,
    changes: &[&Change<T>],
    mut expected: Versioned<T>,
    deadline: &Deadline,
) -> Result<Option<Versioned<T>>, Error> {
    // Each change as a diff of what its request loaded, worked out once for every attempt: a retry
    // re-applies them on what is stored then, so its window between load and store stays short.
    let mut diffs = Diffs::of(changes.len());
    let mut attempts = 0;
    loop {
        attempts += 1;
        let Some(session) = fold(entries, changes, &expected, id, &mut diffs) else {
            return Ok(None);
        };
        let (payload, ttl) = entries.payload(&session)?;
        if let CasOutcome::Stored(token) = deadline.run(cas.store_if(key, payload.as_bytes(), ttl, &expected)).await? {
            return Ok(Some(Versioned { bytes: payload.into_bytes(), token }));
        }
        crate::metrics::conflict();
        // The first retry goes at once (the reload is a round trip already); contention beyond that
        // backs off, so processes that keep colliding spread out.
        let contended = Error::Conflict { attempts, waited: deadline.spent() };
        if attempts > 1 && deadline.sleep(backoff(u32::try_from(attempts).unwrap_or(u32::MAX))).await.is_err() {
            return Err(contended);
        }
        if deadline.passed() {
            return Err(contended);
        }
        crate::metrics::retry();
        match deadline.run(cas.load_versioned(key)).await? {
            // Nobody wrote, yet the write was refused: retrying cannot help. Say what the store did
            // rather than time out as if the session kept changing.
            Some(current) if same_version(&current, &expected) => return Err(refused_unchanged()),
            Some(current) => expected = current,
            None => return Ok(None),
        }
    }
}

/// The changes on top of what is stored, in order: a change made on exactly what is stored is taken
/// whole; the others re-apply only what their request changed. `None` when the stored session is no
/// longer theirs to write: `{}` (a Python peer logged it out), undecodable, or past a limit of the
/// expiry policy.
fn fold<T: PartialEq>(
    entries: &Entries,
    changes: &[&Change<T>],
    stored: &Versioned<T>,
    id: &str,
    diffs: &mut Diffs,
) -> Option<SessionState> {
    let mut folded: Option<SessionState> = None;
    for (at, change) in changes.iter().enumerate() {
        let theirs = match folded.take() {
            Some(session) => session,
            None if same_version(stored, &change.origin) => {
                folded = Some(change.session.clone());
                continue;
            }
            None => {
                let theirs = entries.open(id, &stored.bytes);
                if theirs.is_new() || theirs.has_ended() {
                    return None;
                }
                theirs
            }
        };
        let diff = diffs.of_change(at, changes, |origin| entries.open(id, origin).into_items());
        folded = Some(change.session.rebased(diff, theirs));
    }
    folded
}

/// The diff of each change of a batch, worked out when first needed; the loaded items they are worked
/// out from are decoded once per version (most changes of a batch loaded the same one).
struct Diffs {
    diffs: Vec<Option<Diff>>,
    loaded: Vec<(usize, Items)>,
}

impl Diffs {
    fn of(changes: usize) -> Self {
        Diffs { diffs: vec![None; changes], loaded: Vec::new() }
    }

    /// The diff of `changes[at]`; `decode` turns a stored payload into its items.
    fn of_change<T: PartialEq>(
        &mut self,
        at: usize,
        changes: &[&Change<T>],
        decode: impl FnOnce(&[u8]) -> Items,
    ) -> &Diff {
        let Diffs { diffs, loaded } = self;
        diffs[at].get_or_insert_with(|| {
            let origin = &changes[at].origin;
            let known = loaded.iter().position(|(other, _)| same_version(&changes[*other].origin, origin));
            let index = known.unwrap_or_else(|| {
                loaded.push((at, decode(&origin.bytes)));
                loaded.len() - 1
            });
            changes[at].session.diff_since(&loaded[index].1)
        })
    }
}

/// Whether `a` and `b` are one version of an entry: the same token and the same bytes (a store that
/// compares bytes has a token that says nothing).
fn same_version<T: PartialEq>(a: &Versioned<T>, b: &Versioned<T>) -> bool {
    a.token == b.token && a.bytes == b.bytes
}

/// A random pause in `[0, min(0.5 ms × 2^attempts, 50 ms))`: contending processes spread out instead of
/// colliding again in step.
fn backoff(attempts: u32) -> Duration {
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

    #[test]
    fn a_batch_failure_keeps_its_kind_for_every_save() {
        let waited = Duration::from_millis(3);
        for error in [Error::Timeout { timeout: waited }, Error::Conflict { attempts: 4, waited }] {
            let told = BatchFailure::of(&error).error();
            assert_eq!(told.to_string(), error.to_string());
        }
        let store = Error::backend(std::io::Error::other("refused"));
        let told = BatchFailure::of(&store).error();
        assert!(told.is_backend() && told.to_string() == store.to_string());
        let cause = std::error::Error::source(&told).map(ToString::to_string).unwrap_or_default();
        assert!(cause.contains("refused"), "{cause}");
    }
}
