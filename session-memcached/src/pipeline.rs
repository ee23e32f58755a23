//! Concurrent exchanges share round trips: requests that arrive while others are on the wire go out
//! together as one pipelined batch.
//!
//! Why by hand: the memcache client checks a connection out of its pool for every exchange, and each
//! exchange costs its own syscalls (a liveness probe, a write, a read that first finds nothing and
//! parks on epoll). Redis's client multiplexes one connection, so under the same load it paid a third
//! less server CPU per request (the bench's fresh-visitor rows, "memcached: one round trip per
//! request, or batched" in BENCHMARKS.md). The client's own `run_batch` already pipelines a batch per
//! server and attributes each reply; this file only gathers the batch: a queue drained by one task,
//! with a few batches in flight at once so one slow exchange does not hold up the rest.

use std::sync::{Arc, Mutex};

use memcache::exp::{AsyncMetaClient, Error, Op, OpResult};
use tokio::sync::{Semaphore, mpsc, oneshot};
use tokio::time::Instant;

/// Batches on the wire at once. One would batch the most but serialise every exchange behind the
/// slowest; a few keep a large value or a slow server from stalling the others. It stays within the
/// client's 8 idle connections per server, so every batch finds a pooled connection: before batching,
/// each concurrent exchange beyond those 8 dialed a connection of its own and closed it after.
const IN_FLIGHT: usize = 4;

/// The most operations in one batch (one write of at most this many commands).
const MAX_BATCH: usize = 128;

/// One operation waiting for its batch.
struct Job {
    op: Op,
    /// The caller gives up at this instant; the batch does not outlive its latest caller.
    deadline: Instant,
    reply: oneshot::Sender<Result<OpResult, Error>>,
}

/// The queue in front of an [`AsyncMetaClient`]. Its task is started by the first exchange, on the
/// runtime that makes it, and again on the next exchange if that runtime has gone.
pub(crate) struct Pipeline {
    client: AsyncMetaClient,
    queue: Mutex<Option<mpsc::UnboundedSender<Job>>>,
}

/// Why an exchange got no reply.
pub(crate) enum Unanswered {
    /// The client failed it.
    Failed(Error),
    /// The batch outlived the deadline and was dropped (its connection with it).
    TimedOut,
}

impl Pipeline {
    pub(crate) fn new(client: AsyncMetaClient) -> Self {
        Pipeline { client, queue: Mutex::new(None) }
    }

    /// Runs `op` in the next batch and waits for its reply until `deadline`.
    pub(crate) async fn run(&self, op: impl Into<Op>, deadline: Instant) -> Result<OpResult, Unanswered> {
        let (reply, answer) = oneshot::channel();
        let mut job = Job { op: op.into(), deadline, reply };
        let mut sent = false;
        // A send fails when the task's runtime is gone: start another on this one, once. If that one
        // is gone at once too, this runtime is shutting down and runs no new task: retrying would spin.
        for _ in 0..2 {
            let queue = self.queue();
            match queue.send(job) {
                Ok(()) => {
                    sent = true;
                    break;
                }
                Err(mpsc::error::SendError(back)) => {
                    job = back;
                    self.forget(&queue);
                }
            }
        }
        if !sent {
            return Err(Unanswered::Failed(Error::Protocol("the async runtime is shutting down".to_owned())));
        }
        match tokio::time::timeout_at(deadline, answer).await {
            Ok(Ok(result)) => result.map_err(Unanswered::Failed),
            Ok(Err(_)) | Err(_) => Err(Unanswered::TimedOut),
        }
    }

    fn queue(&self) -> mpsc::UnboundedSender<Job> {
        let mut queue = self.queue.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        match queue.as_ref() {
            Some(sender) if !sender.is_closed() => sender.clone(),
            _ => {
                let (sender, jobs) = mpsc::unbounded_channel();
                tokio::spawn(drain(self.client.clone(), jobs));
                *queue = Some(sender.clone());
                sender
            }
        }
    }

    fn forget(&self, closed: &mpsc::UnboundedSender<Job>) {
        let mut queue = self.queue.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if queue.as_ref().is_some_and(|sender| sender.same_channel(closed)) {
            *queue = None;
        }
    }
}

/// Takes whatever has queued up each time a batch slot is free. Ends when every sender is gone.
async fn drain(client: AsyncMetaClient, mut jobs: mpsc::UnboundedReceiver<Job>) {
    let slots = Arc::new(Semaphore::new(IN_FLIGHT));
    // Grown by what arrives: at low load a batch is one job, and a job is far from small.
    let mut batch = Vec::new();
    loop {
        let Ok(slot) = Arc::clone(&slots).acquire_owned().await else { return };
        if jobs.recv_many(&mut batch, MAX_BATCH).await == 0 {
            return;
        }
        let batch = std::mem::take(&mut batch);
        let client = client.clone();
        tokio::spawn(async move {
            exchange(&client, batch).await;
            drop(slot);
        });
    }
}

/// One batch: every live job's operation pipelined, each reply sent to its caller.
async fn exchange(client: &AsyncMetaClient, batch: Vec<Job>) {
    // A caller that has already given up does not need its command sent.
    let (ops, replies): (Vec<Op>, Vec<_>) =
        batch.into_iter().filter(|job| !job.reply.is_closed()).map(|job| (job.op, (job.deadline, job.reply))).unzip();
    let Some(deadline) = replies.iter().map(|(deadline, _)| *deadline).max() else { return };
    // Dropping the batch future on the deadline drops its connection mid-exchange, so no stray reply
    // is left for the next batch; the callers see a timeout.
    let Ok(outcome) = tokio::time::timeout_at(deadline, client.run_batch(ops)).await else { return };
    match outcome {
        Ok(results) => {
            for ((_, reply), result) in replies.into_iter().zip(results) {
                let _ = reply.send(result);
            }
        }
        // Refused before anything was sent (an operation the client will not encode; the backend
        // checks keys first, so this is not expected): every caller of the batch hears why.
        Err(refused) => {
            let why = refused.to_string();
            for (_, reply) in replies {
                let _ = reply.send(Err(Error::Protocol(why.clone())));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use memcache::exp::{Get, MetaClientBuilder};
    use session_testkit::MemcachedServer;

    use super::*;

    /// Two callers in one batch while memcached is frozen: the one with the short deadline gives up at
    /// it, the batch goes on for the other, which gets its reply once memcached thaws.
    #[tokio::test]
    async fn a_batch_lasts_as_long_as_its_latest_caller() {
        let server = MemcachedServer::start().await.expect("memcached");
        let client = MetaClientBuilder::new()
            .connect_timeout(None)
            .io_timeout(None)
            .connect_async(server.address())
            .await
            .expect("client");
        let pipeline = Pipeline::new(client);
        let warm = pipeline.run(Get::new("warm"), Instant::now() + Duration::from_secs(2)).await;
        assert!(warm.is_ok(), "a connection to reuse");
        server.pause().expect("SIGSTOP");
        tokio::time::sleep(Duration::from_millis(100)).await;
        let now = Instant::now();
        // Both queue before the batch task runs (one thread): they go out as one batch.
        let short = pipeline.run(Get::new("short"), now + Duration::from_millis(150));
        let long = pipeline.run(Get::new("long"), now + Duration::from_secs(5));
        let thaw = async {
            tokio::time::sleep(Duration::from_millis(600)).await;
            server.resume().expect("SIGCONT");
        };
        let (short, long, ()) = tokio::join!(short, long, thaw);
        assert!(matches!(short, Err(Unanswered::TimedOut)), "the short caller gives up at its deadline");
        assert!(long.is_ok(), "the batch outlives its earliest caller and answers the latest");
    }

    /// A caller polled while its runtime shuts down (a request in flight at the end of a test or a
    /// graceful stop) gets an error at once: no task can start, so waiting or retrying would spin.
    #[test]
    fn a_runtime_that_is_shutting_down_is_an_error_not_a_spin() {
        let server_runtime = tokio::runtime::Runtime::new().expect("runtime");
        let server = server_runtime.block_on(MemcachedServer::start()).expect("memcached");
        let client = server_runtime.block_on(MetaClientBuilder::new().connect_async(server.address())).expect("client");
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
        let handle = runtime.handle().clone();
        runtime.shutdown_background();
        let (done, finished) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let pipeline = Pipeline::new(client);
            let result = handle.block_on(pipeline.run(Get::new("k"), Instant::now() + Duration::from_secs(1)));
            let _ = done.send(matches!(result, Err(Unanswered::Failed(_))));
        });
        let failed = finished.recv_timeout(Duration::from_secs(10)).expect("an answer, not a spin");
        assert!(failed, "a client error");
    }
}
