//! Deleting expired rows in the background. Loads never serve an expired row whether or not this
//! runs (their statements compare `expires_at` with the database's clock); the reaper frees the
//! space, walking each table's keys a bounded chunk at a time, so no sweep of a large table holds
//! its locks for long (and `expires_at` needs no index: see `Sweep` in `dialect.rs`).

use std::time::Duration;

use sqlx::Row;

use crate::dialect::{Statements, Sweep};
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
        let sweeps = sql.sweeps.clone();
        Reaper(tokio::spawn(async move {
            let mut ticks = tokio::time::interval(interval);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                ticks.tick().await;
                for sweep in &sweeps {
                    if let Err(error) = purge_with(&pool, sweep, batch).await {
                        // The next tick tries again; a database that is down is also every request's error.
                        tracing::warn!(error = %error, "could not delete expired sessions");
                    }
                }
            }
        }))
    }
}

/// Deletes expired rows of the sessions table and of its index, one chunk of keys at a time, until
/// the walk reaches the last key; answers how many rows went.
pub(crate) async fn purge(pool: &Pool, sql: &Statements, batch: u32) -> Result<u64, SqlStorageError> {
    let mut deleted = 0;
    for sweep in &sql.sweeps {
        deleted += purge_with(pool, sweep, batch).await?;
    }
    Ok(deleted)
}

async fn purge_with(pool: &Pool, sweep: &Sweep, batch: u32) -> Result<u64, SqlStorageError> {
    let failed = |source| SqlStorageError::Statement { statement: "DELETE expired", source };
    let batch = i64::from(batch.max(1));
    let (mut after, mut deleted) = (String::new(), 0);
    loop {
        let (last, scanned) = on_pool!(pool, pool => sqlx::query(&sweep.chunk).bind(&after).bind(batch)
            .fetch_one(pool).await
            .and_then(|row| Ok((row.try_get::<Option<String>, _>(0)?, row.try_get::<i64, _>(1)?))))
        .map_err(failed)?;
        let Some(last) = last else { return Ok(deleted) };
        deleted += on_pool!(pool, pool => sqlx::query(&sweep.delete).bind(&after).bind(&last).execute(pool).await
            .map(|done| done.rows_affected()))
        .map_err(failed)?;
        if scanned < batch {
            return Ok(deleted);
        }
        after = last;
        // Between chunks, other statements get the table (and, on one runtime thread, the CPU).
        tokio::task::yield_now().await;
    }
}
