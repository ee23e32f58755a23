//! One deadline for everything the store does for one request.
//!
//! A request's store work is its load and its save, with the handler in between: the deadline is a
//! budget of store time, the backend's [`timeout`](super::KeyValueBackend::timeout), that the load
//! spends first and the save spends the rest of (waiting in its lane, the write, retries, deleting the
//! entry a rotation replaced). Every backend call runs under it, so a store that hangs, ours or a
//! third party's, costs a request [`Error::Timeout`] once the budget is spent, plus the time the
//! runtime takes to wake the task (milliseconds; the tests allow 250 ms under load).

use std::future::Future;
use std::time::Duration;

use tokio::time::Instant;

use crate::error::Error;

/// When a request's store work must be over.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Deadline {
    at: Instant,
    timeout: Duration,
}

impl Deadline {
    /// A budget of `timeout` of which `spent` is gone, from now.
    pub(crate) fn after(timeout: Duration, spent: Duration) -> Self {
        Deadline { at: Instant::now() + timeout.saturating_sub(spent), timeout }
    }

    /// Runs one call of the store, answering [`Error::Timeout`] if the deadline comes first (the call
    /// is then dropped); once the deadline has passed, no call starts.
    pub(crate) async fn run<T>(&self, call: impl Future<Output = Result<T, Error>>) -> Result<T, Error> {
        if self.passed() {
            return Err(self.missed());
        }
        match tokio::time::timeout_at(self.at, call).await {
            Ok(answer) => answer,
            Err(_) => Err(self.missed()),
        }
    }

    /// Waits for `pause`, or fails when the deadline comes first.
    pub(crate) async fn sleep(&self, pause: Duration) -> Result<(), Error> {
        if Instant::now() + pause >= self.at {
            return Err(self.missed());
        }
        tokio::time::sleep(pause).await;
        Ok(())
    }

    /// Whether the deadline has come.
    pub(crate) fn passed(&self) -> bool {
        Instant::now() >= self.at
    }

    /// The error of a request whose store work outlived the deadline.
    pub(crate) fn missed(&self) -> Error {
        Error::Timeout { timeout: self.timeout }
    }

    /// The store time this request has used so far.
    pub(crate) fn spent(&self) -> Duration {
        self.timeout.saturating_sub(self.at.saturating_duration_since(Instant::now()))
    }

    /// The instant itself, for waits that are not store calls (a lane).
    pub(crate) fn instant(&self) -> Instant {
        self.at
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run<F: Future>(future: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread().enable_time().start_paused(true).build().unwrap().block_on(future)
    }

    #[test]
    fn a_call_that_outlives_the_budget_is_a_timeout() {
        run(async {
            let deadline = Deadline::after(Duration::from_secs(2), Duration::from_millis(1500));
            let slow = deadline.run(async {
                tokio::time::sleep(Duration::from_millis(600)).await;
                Ok(())
            });
            assert!(matches!(slow.await, Err(Error::Timeout { timeout }) if timeout == Duration::from_secs(2)));
            let quick = deadline.run(async { Ok(7) });
            assert!(quick.await.is_err(), "the budget is spent: nothing more runs");
        });
    }

    #[test]
    fn the_budget_left_is_what_the_load_did_not_spend() {
        run(async {
            let deadline = Deadline::after(Duration::from_secs(2), Duration::from_millis(500));
            tokio::time::sleep(Duration::from_millis(300)).await;
            assert_eq!(deadline.spent(), Duration::from_millis(800));
            assert!(deadline.run(async { Ok(()) }).await.is_ok());
            assert!(deadline.sleep(Duration::from_millis(1199)).await.is_ok());
            assert!(deadline.sleep(Duration::from_millis(1)).await.is_err(), "a pause past the deadline fails at once");
        });
    }
}
