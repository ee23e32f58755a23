//! Saves of one session within one process are written together, not raced.
//!
//! The first save of a session leads its lane and writes its change. Saves that arrive meanwhile wait
//! in the lane; when the write is done, they form the next batch, led by the first of them, which
//! writes every change of the batch at once. So a browser that fires 32 requests at once costs about
//! one write per batch, and the writes of one process never conflict with each other.
//!
//! A lane only gathers and hands on: what a batch writes, and what its outcome is, are the caller's
//! (`merge.rs`). A leader that goes away (its request cancelled) puts the rest of its batch back at
//! the head of the lane and hands it on, so no waiting change is lost; a waiting save gives up at its
//! own deadline.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};

use tokio::sync::oneshot;

use crate::deadline::Deadline;
use crate::error::Error;

/// The lanes of one storage, by store key: a key is present while a batch of it is being written, with
/// the changes waiting for the next one. `C` is a change, `O` the outcome of a batch.
pub(super) struct Lanes<C, O> {
    lanes: Mutex<HashMap<String, Vec<Waiting<C, O>>>>,
}

impl<C, O> Default for Lanes<C, O> {
    fn default() -> Self {
        Lanes { lanes: Mutex::new(HashMap::new()) }
    }
}

/// A change waiting in a lane, and how to tell its save what happened.
struct Waiting<C, O> {
    change: C,
    reply: oneshot::Sender<Turn<C, O>>,
}

/// What a waiting save hears.
enum Turn<C, O> {
    /// A batch carried its change: the batch's outcome.
    Done(O),
    /// It leads the next batch: its own change, then `others`.
    Lead { own: C, others: Vec<Waiting<C, O>>, previous: Option<O> },
}

/// Where a save stands after joining its lane.
pub(super) enum Joined<'a, C, O: Clone> {
    /// A batch led by another save carried this change.
    Done(O),
    /// This save writes a batch.
    Lead(Lead<'a, C, O>),
}

/// The batch a save leads: its own change first, then the changes that waited. Finish it with the
/// outcome; dropped unfinished (the request went away), it hands the others back to the lane.
pub(super) struct Lead<'a, C, O: Clone> {
    lanes: &'a Lanes<C, O>,
    key: String,
    own: C,
    others: Vec<Waiting<C, O>>,
    previous: Option<O>,
}

impl<C, O: Clone> Lanes<C, O> {
    fn lock(&self) -> MutexGuard<'_, HashMap<String, Vec<Waiting<C, O>>>> {
        self.lanes.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Puts `change` in the lane of `key`: it leads a batch at once if no batch of the key is being
    /// written, else it waits (until `deadline`) for a batch that carries it or for its turn to lead.
    pub(super) async fn join(&self, key: &str, change: C, deadline: &Deadline) -> Result<Joined<'_, C, O>, Error> {
        let turn = {
            let mut lanes = self.lock();
            match lanes.get_mut(key) {
                Some(waiting) => {
                    let (reply, turn) = oneshot::channel();
                    waiting.push(Waiting { change, reply });
                    turn
                }
                None => {
                    lanes.insert(key.to_owned(), Vec::new());
                    let lead =
                        Lead { lanes: self, key: key.to_owned(), own: change, others: Vec::new(), previous: None };
                    return Ok(Joined::Lead(lead));
                }
            }
        };
        match tokio::time::timeout_at(deadline.instant(), turn).await {
            Ok(Ok(Turn::Done(outcome))) => Ok(Joined::Done(outcome)),
            Ok(Ok(Turn::Lead { own, others, previous })) => {
                Ok(Joined::Lead(Lead { lanes: self, key: key.to_owned(), own, others, previous }))
            }
            // Every path answers a waiting save or hands its change on; a lost channel is a bug.
            Ok(Err(_)) => Err(Error::Backend("the batch that was to carry this save went away".into())),
            Err(_) => Err(deadline.missed()),
        }
    }

    /// Hands the lane of `key` to the first waiting save still there, with every waiting change as its
    /// batch, or closes it when none waits.
    fn hand_on(&self, key: &str, mut previous: Option<O>) {
        let mut lanes = self.lock();
        loop {
            let Some(waiting) = lanes.get_mut(key) else { return };
            let mut queue = std::mem::take(waiting).into_iter();
            let Some(first) = queue.next() else {
                lanes.remove(key);
                return;
            };
            let others = queue.collect();
            match first.reply.send(Turn::Lead { own: first.change, others, previous }) {
                Ok(()) => return,
                // Its request went away: its change goes with it, the others wait on.
                Err(Turn::Lead { others, previous: back, .. }) => {
                    previous = back;
                    if let Some(waiting) = lanes.get_mut(key) {
                        *waiting = others;
                    }
                }
                Err(Turn::Done(_)) => return,
            }
        }
    }
}

impl<C, O: Clone> Lead<'_, C, O> {
    /// The changes of the batch, this save's first, then in the order they arrived.
    pub(super) fn changes(&self) -> Vec<&C> {
        std::iter::once(&self.own).chain(self.others.iter().map(|waiting| &waiting.change)).collect()
    }

    /// The outcome of the batch before this one, when it handed the lane on.
    pub(super) fn previous(&self) -> Option<&O> {
        self.previous.as_ref()
    }

    /// Tells every save of the batch its `outcome` and hands the lane on.
    pub(super) fn finish(mut self, outcome: O) {
        for waiting in self.others.drain(..) {
            let _ = waiting.reply.send(Turn::Done(outcome.clone()));
        }
        self.previous = Some(outcome);
    }
}

impl<C, O: Clone> Drop for Lead<'_, C, O> {
    /// Finished or not, the lane goes on: changes not answered (a leader that went away) lead the way.
    fn drop(&mut self) {
        if !self.others.is_empty() {
            let mut lanes = self.lanes.lock();
            let waiting = lanes.entry(self.key.clone()).or_default();
            waiting.splice(0..0, self.others.drain(..));
        }
        self.lanes.hand_on(&self.key, self.previous.take());
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use super::*;

    type TestLanes = Lanes<u32, &'static str>;

    fn run<F: std::future::Future>(future: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap().block_on(future)
    }

    fn deadline() -> Deadline {
        Deadline::after(Duration::from_secs(5), Duration::ZERO)
    }

    #[test]
    fn saves_that_wait_form_the_next_batch_and_hear_its_outcome() {
        run(async {
            let lanes = Arc::new(TestLanes::default());
            let Ok(Joined::Lead(first)) = lanes.join("k", 1, &deadline()).await else { panic!("the first save leads") };
            assert_eq!(first.changes(), [&1]);
            let waiting: Vec<_> = (2..=4)
                .map(|n| {
                    let lanes = Arc::clone(&lanes);
                    tokio::spawn(async move {
                        match lanes.join("k", n, &deadline()).await {
                            Ok(Joined::Done(outcome)) => (n, outcome.to_owned()),
                            Ok(Joined::Lead(lead)) => {
                                let batch: Vec<u32> = lead.changes().into_iter().copied().collect();
                                let previous = lead.previous().copied();
                                lead.finish("second");
                                (n, format!("led {batch:?} after {previous:?}"))
                            }
                            Err(error) => panic!("{error}"),
                        }
                    })
                })
                .collect();
            tokio::task::yield_now().await;
            first.finish("first");
            let mut heard = Vec::new();
            for save in waiting {
                heard.push(save.await.unwrap());
            }
            assert_eq!(
                heard,
                [
                    (2, "led [2, 3, 4] after Some(\"first\")".to_owned()),
                    (3, "second".to_owned()),
                    (4, "second".to_owned())
                ]
            );
            assert!(lanes.lock().is_empty(), "the lane closes when nobody waits");
        });
    }

    #[test]
    fn a_leader_that_goes_away_hands_its_batch_on() {
        run(async {
            let lanes = Arc::new(TestLanes::default());
            let Ok(Joined::Lead(first)) = lanes.join("k", 1, &deadline()).await else { panic!("leads") };
            let waiting = {
                let lanes = Arc::clone(&lanes);
                tokio::spawn(async move {
                    let Ok(Joined::Lead(second)) = lanes.join("k", 2, &deadline()).await else { panic!("leads next") };
                    let batch: Vec<u32> = second.changes().into_iter().copied().collect();
                    drop(second); // goes away too
                    batch
                })
            };
            let third = {
                let lanes = Arc::clone(&lanes);
                tokio::spawn(async move {
                    tokio::task::yield_now().await;
                    match lanes.join("k", 3, &deadline()).await {
                        Ok(Joined::Lead(lead)) => lead.changes().into_iter().copied().collect::<Vec<_>>(),
                        _ => panic!("the third leads once the second went away"),
                    }
                })
            };
            tokio::task::yield_now().await;
            tokio::task::yield_now().await;
            drop(first);
            assert_eq!(waiting.await.unwrap(), [2, 3], "the second leads what waited");
            assert_eq!(third.await.unwrap(), [3], "the change left behind is handed on, not lost");
        });
    }

    #[test]
    fn a_save_waits_no_longer_than_its_deadline() {
        run(async {
            let lanes = TestLanes::default();
            let Ok(Joined::Lead(_first)) = lanes.join("k", 1, &deadline()).await else { panic!("leads") };
            let short = Deadline::after(Duration::from_millis(20), Duration::ZERO);
            assert!(matches!(lanes.join("k", 2, &short).await, Err(Error::Timeout { .. })));
        });
    }
}
