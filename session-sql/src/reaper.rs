//! Deleting expired rows in the background. Loads never serve an expired row whether or not this
//! runs (their statements compare `expires_at` with the database's clock); the reaper frees the
//! space, in bounded batches, so no sweep of a large table holds its locks for long.

use std::time::Duration;

use crate::dialect::Statements;
use crate::error::SqlStorageError;
use crate::pool::{Pool, on_pool};

/// A running reaper task, aborted when dropped.
#[derive(Debug)]
pub(crate) struct Reaper(tokio::task::JoinHandle<()>);

impl Drop for Reaper {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl Reaper {
    /// Purges every `interval`, on the current tokio runtime.
    pub(crate) fn spawn(pool: Pool, sql: &Statements, interval: Duration, batch: u32) -> Self {
        let (reap, reap_index) = (sql.reap.clone(), sql.reap_index.clone());
        Reaper(tokio::spawn(async move {
            let mut ticks = tokio::time::interval(interval);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                ticks.tick().await;
                for statement in [&reap, &reap_index] {
                    if let Err(error) = purge_with(&pool, statement, batch).await {
                        // The next tick tries again; a database that is down is also every request's error.
                        tracing::warn!(error = %error, "could not delete expired sessions");
                    }
                }
            }
        }))
    }
}

/// Deletes expired rows of the sessions table and of its index, batch by batch, until a batch
/// comes back short; answers how many rows went.
pub(crate) async fn purge(pool: &Pool, sql: &Statements, batch: u32) -> Result<u64, SqlStorageError> {
    Ok(purge_with(pool, &sql.reap, batch).await? + purge_with(pool, &sql.reap_index, batch).await?)
}

async fn purge_with(pool: &Pool, statement: &str, batch: u32) -> Result<u64, SqlStorageError> {
    let batch = batch.max(1);
    let mut deleted = 0;
    loop {
        let done = on_pool!(pool, pool => sqlx::query(statement).bind(i64::from(batch)).execute(pool).await
            .map(|done| done.rows_affected()))
        .map_err(|source| SqlStorageError::Statement { statement: "DELETE expired", source })?;
        deleted += done;
        if done < u64::from(batch) {
            return Ok(deleted);
        }
        // Between batches, other statements get the table (and, on one runtime thread, the CPU).
        tokio::task::yield_now().await;
    }
}
