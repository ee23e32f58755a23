//! Saves of one session within one process are written together, not raced.
//!
//! The first save of a session becomes its writer; saves that arrive while it writes wait in the
//! session's lane. When the write is done, the waiting saves form the next batch, and one of them
//! writes it: every change of the batch applied in arrival order on top of what was just stored (each
//! a three-way merge against what its own request loaded), in one compare-and-set. So a browser that
//! fires 32 requests at once costs about one write per batch, and the writes of one process never
//! conflict with each other; compare-and-set and its retries are left for other processes.
//!
//! A batch's writer that goes away (its request cancelled) drops the batch; each waiting save then
//! falls back to saving alone, which is correct, only slower.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Instant;

use tokio::sync::oneshot;

use super::ServerSideStorage;
use super::backend::{CasOutcome, CompareAndSet, Versioned};
use super::merge::backoff;
use crate::error::Error;
use crate::items::{self, Items};
use crate::session::Session;
use crate::storage::CookieAction;

/// One request's save: its session and the stored version it loaded.
pub(super) struct Change<T> {
    pub(super) session: Session,
    pub(super) origin: Versioned<T>,
}

/// A change in a batch, and how to tell its request the outcome (none for the batch's writer).
struct Member<T> {
    change: Change<T>,
    reply: Option<oneshot::Sender<Turn<T>>>,
}

/// What a waiting save hears.
enum Turn<T> {
    /// Its change was written (or lost to an invalidation): the answer for its cookie.
    Done(CookieAction),
    /// The batch failed (the store is down): it saves alone, and reports its own error.
    Failed,
    /// It writes the next batch, whose first member is its own change, on top of `latest`.
    Lead { batch: Vec<Member<T>>, latest: Option<Versioned<T>> },
}

/// The lanes of one storage: a key is present while a writer holds it, with the saves waiting for it.
pub(super) struct Lanes<T> {
    lanes: Mutex<HashMap<String, Vec<Member<T>>>>,
}

impl<T> Default for Lanes<T> {
    fn default() -> Self {
        Lanes { lanes: Mutex::new(HashMap::new()) }
    }
}

impl<T> Lanes<T> {
    fn lock(&self) -> MutexGuard<'_, HashMap<String, Vec<Member<T>>>> {
        self.lanes.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Frees a lane when its writer goes away without handing it on (a cancelled request): the waiting
/// saves lose their channel and save alone.
struct Holding<'a, T> {
    lanes: &'a Lanes<T>,
    key: &'a str,
    armed: bool,
}

impl<T> Drop for Holding<'_, T> {
    fn drop(&mut self) {
        if self.armed {
            self.lanes.lock().remove(self.key);
        }
    }
}

/// What a batch did to the store.
struct Written<T> {
    actions: Vec<CookieAction>,
    latest: Option<Versioned<T>>,
}

/// Where a batch's fold stands: the entry as the store has it, gone, or the session so far.
enum State {
    Stored,
    Gone,
    Session(Session),
}

impl<B: CompareAndSet> ServerSideStorage<B> {
    /// Saves `session` (loaded at `origin`) in its lane: as the writer of a batch, or by waiting for one.
    pub(super) async fn save_in_lane(
        &self,
        lanes: &Lanes<B::Token>,
        session: &mut Session,
        origin: Versioned<B::Token>,
        id: String,
        key: String,
    ) -> Result<CookieAction, Error> {
        let waiting = {
            let mut map = lanes.lock();
            match map.get_mut(&key) {
                Some(queue) => {
                    // A copy waits in the lane; this one stays, to save alone should the lane fail.
                    let (reply, turn) = oneshot::channel();
                    let change = Change { session: session.clone(), origin: origin.clone() };
                    queue.push(Member { change, reply: Some(reply) });
                    Some(turn)
                }
                None => {
                    map.insert(key.clone(), Vec::new());
                    None
                }
            }
        };
        let (batch, latest) = match waiting {
            // The writer: its session moves into the batch (what is left keeps its cookie settings).
            None => (vec![Member { change: Change { session: session.take(), origin }, reply: None }], None),
            Some(turn) => match turn.await {
                Ok(Turn::Done(action)) => return Ok(action),
                Ok(Turn::Lead { batch, latest }) => (batch, latest),
                // The batch failed, or its writer went away: save alone.
                Ok(Turn::Failed) | Err(_) => return self.save_alone(session, Some(origin), id, key).await,
            },
        };
        self.write_lane(lanes, batch, latest, &id, &key).await
    }

    /// Writes `batch` (this request's change first) on top of `latest`, answers the others, and hands
    /// the lane to the next batch; this request's own answer.
    async fn write_lane(
        &self,
        lanes: &Lanes<B::Token>,
        mut batch: Vec<Member<B::Token>>,
        latest: Option<Versioned<B::Token>>,
        id: &str,
        key: &str,
    ) -> Result<CookieAction, Error> {
        let mut holding = Holding { lanes, key, armed: true };
        let written = self.write_batch(&batch, latest, id, key).await;
        let (own, latest) = match written {
            Ok(Written { actions, latest }) => {
                let mut actions = actions.into_iter();
                let own = actions.next().unwrap_or(CookieAction::Remove);
                for (member, action) in batch.drain(1..).zip(actions) {
                    if let Some(reply) = member.reply {
                        let _ = reply.send(Turn::Done(action));
                    }
                }
                (Ok(own), latest)
            }
            Err(error) => {
                for member in batch.drain(1..) {
                    if let Some(reply) = member.reply {
                        let _ = reply.send(Turn::Failed);
                    }
                }
                (Err(error), None)
            }
        };
        // Hand the lane to the first waiting save still there, with everything that waits as its batch.
        let mut latest = latest;
        loop {
            let mut next = {
                let mut map = lanes.lock();
                let queue = map.get_mut(key).map(std::mem::take).unwrap_or_default();
                if queue.is_empty() {
                    map.remove(key);
                    break;
                }
                queue
            };
            let first = next.remove(0);
            let Some(reply) = first.reply else {
                // Every waiting save has a channel; put the rest back should one not.
                lanes.lock().entry(key.to_owned()).or_default().splice(0..0, next);
                continue;
            };
            let mut members = Vec::with_capacity(next.len() + 1);
            members.push(Member { change: first.change, reply: None });
            members.extend(next);
            match reply.send(Turn::Lead { batch: members, latest }) {
                Ok(()) => break,
                // Its request went away: the rest wait on, and the next one leads.
                Err(Turn::Lead { batch: members, latest: back }) => {
                    latest = back;
                    lanes.lock().entry(key.to_owned()).or_default().splice(0..0, members.into_iter().skip(1));
                }
                Err(_) => break,
            }
        }
        holding.armed = false;
        own
    }

    /// Folds the changes of `batch` in order on top of what is stored (`latest`, or the first change's
    /// origin) and writes the result with one compare-and-set; another process's write in between
    /// means a reload and a new fold, backing off, within the backend's timeout.
    async fn write_batch(
        &self,
        batch: &[Member<B::Token>],
        latest: Option<Versioned<B::Token>>,
        id: &str,
        key: &str,
    ) -> Result<Written<B::Token>, Error> {
        let mut expected = latest.or_else(|| batch.first().map(|member| member.change.origin.clone()));
        // Each change as edits of what its request loaded, worked out once for every attempt: a retry
        // re-applies them on what is stored then, so its window between load and store stays short.
        let mut changes = Changes::of(batch.len());
        let started = Instant::now();
        let mut attempts = 0;
        loop {
            attempts += 1;
            let (state, actions) = self.fold(batch, expected.as_ref(), id, &mut changes);
            let session = match state {
                // Changes that together emptied the session are written like any others (as a merge
                // across processes writes them): skipping them would keep what they removed.
                State::Session(session) if !(session.is_empty() && session.is_new()) => session,
                // Nothing left to write: every change lost to an invalidation, or wrote nothing.
                _ => return Ok(Written { actions, latest: expected }),
            };
            let payload = self.config.encode(&session)?;
            let ttl = self.entry_ttl(&session);
            if let CasOutcome::Stored(token) =
                self.backend.store_if(key, payload.as_bytes(), ttl, expected.as_ref()).await?
            {
                return Ok(Written { actions, latest: Some(Versioned { bytes: payload.into_bytes(), token }) });
            }
            let waited = started.elapsed();
            if waited >= self.backend.timeout() {
                return Err(Error::Conflict { attempts, waited });
            }
            if attempts > 1 {
                tokio::time::sleep(backoff(u32::try_from(attempts).unwrap_or(u32::MAX))).await;
            }
            expected = self.backend.load_versioned(key).await?;
        }
    }

    /// Each change of `batch` on top of the one before, starting from the stored `expected`: a change
    /// whose origin is what is stored is taken whole; others re-apply only what their request changed.
    /// An invalidation wins over changes made on what it invalidated (they answer `Remove`).
    fn fold(
        &self,
        batch: &[Member<B::Token>],
        expected: Option<&Versioned<B::Token>>,
        id: &str,
        changes: &mut Changes,
    ) -> (State, Vec<CookieAction>) {
        let mut state = if expected.is_some() { State::Stored } else { State::Gone };
        let mut actions = Vec::with_capacity(batch.len());
        for (at, Member { change, .. }) in batch.iter().enumerate() {
            let current = std::mem::replace(&mut state, State::Gone);
            let theirs = match current {
                State::Stored if expected.is_some_and(|stored| same_version(stored, &change.origin)) => {
                    state = State::Session(change.session.clone());
                    actions.push(CookieAction::Set(id.to_owned()));
                    continue;
                }
                State::Stored => expected.map(|stored| self.open(id, &stored.bytes)),
                State::Session(session) => Some(session),
                State::Gone => None,
            };
            match theirs {
                // Deleted meanwhile, or `{}` stored (a Python peer invalidated it): the invalidation wins,
                // unless this change invalidated too and starts afresh.
                None if change.session.is_invalidated() => {
                    state = State::Session(change.session.clone());
                    actions.push(CookieAction::Set(id.to_owned()));
                }
                None => actions.push(CookieAction::Remove),
                Some(theirs) if theirs.is_new() && !change.session.is_invalidated() => {
                    state = State::Session(theirs);
                    actions.push(CookieAction::Remove);
                }
                Some(theirs) => {
                    let edits = changes.of_member(at, batch, |origin| self.open(id, origin).items().clone());
                    state = State::Session(change.session.rebased(edits, theirs));
                    actions.push(CookieAction::Set(id.to_owned()));
                }
            }
        }
        (state, actions)
    }
}

/// The edits of each change of a batch, worked out when first needed; the loaded items they are
/// worked out from are decoded once per version (most changes of a batch loaded the same one).
struct Changes {
    edits: Vec<Option<items::Changes>>,
    loaded: Vec<(usize, Items)>,
}

impl Changes {
    fn of(members: usize) -> Self {
        Changes { edits: vec![None; members], loaded: Vec::new() }
    }

    /// The edits of `batch[at]`; `decode` turns a stored payload into its items.
    fn of_member<T: PartialEq>(
        &mut self,
        at: usize,
        batch: &[Member<T>],
        decode: impl FnOnce(&[u8]) -> Items,
    ) -> &items::Changes {
        let Changes { edits, loaded } = self;
        edits[at].get_or_insert_with(|| {
            let origin = &batch[at].change.origin;
            let known = loaded.iter().position(|(other, _)| same_version(&batch[*other].change.origin, origin));
            let index = known.unwrap_or_else(|| {
                loaded.push((at, decode(&origin.bytes)));
                loaded.len() - 1
            });
            batch[at].change.session.changes_since(&loaded[index].1)
        })
    }
}

/// Whether `a` and `b` are one version of an entry: the same token and the same bytes (a store that
/// compares bytes has a token that says nothing).
fn same_version<T: PartialEq>(a: &Versioned<T>, b: &Versioned<T>) -> bool {
    a.token == b.token && a.bytes == b.bytes
}
