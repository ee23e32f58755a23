//! Moving session bytes to and from a SQL table: one statement per load, per save and per delete,
//! each of which checks and writes in one step (a row's `version` is the compare-and-set token).

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use session_core::Error;
use session_core::accounts::UserIndex;
use session_core::server_side::{CasOutcome, CompareAndSet, Condition, KeyValueBackend, Versioned};
use sqlx::Row;

use crate::dialect::{Database, Statements, TableName};
use crate::error::SqlStorageError;
use crate::pool::{Pool, on_pool};
use crate::reaper::Reaper;

/// The default bound on a request's database work: the server-side default.
pub use session_core::server_side::DEFAULT_TIMEOUT;

/// The SQL side of [`SqlStorage`](crate::SqlStorage): a sqlx pool and the table its sessions live in.
///
/// Every row holds one entry: the key (`AIOHTTP_SESSION_<id>` for a session), the payload (the same
/// bytes Redis and memcached hold), a `version` that each write increments (the compare-and-set
/// token of merging saves), and `expires_at` on the database's clock. A second table,
/// `<table>_index`, lists each logged-in user's sessions for [`devices`](session_core::server_side::ServerSideStorage::devices).
#[derive(Clone)]
pub struct SqlBackend {
    inner: Arc<Inner>,
    timeout: Duration,
}

struct Inner {
    pool: Pool,
    sql: Statements,
    table: TableName,
    /// Stops the reaper when the last clone of the backend goes.
    reaper: std::sync::Mutex<Option<Reaper>>,
}

impl fmt::Debug for SqlBackend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqlBackend")
            .field("database", &self.inner.sql.database)
            .field("table", &self.inner.table.to_string())
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

/// A pool becomes a backend on the default table, `sessions`.
#[cfg(feature = "postgres")]
#[cfg_attr(docsrs, doc(cfg(feature = "postgres")))]
impl From<sqlx::PgPool> for SqlBackend {
    fn from(pool: sqlx::PgPool) -> Self {
        SqlBackend::new(Pool::Postgres(pool), TableName::default())
    }
}

/// A pool becomes a backend on the default table, `sessions`.
#[cfg(feature = "mysql")]
#[cfg_attr(docsrs, doc(cfg(feature = "mysql")))]
impl From<sqlx::MySqlPool> for SqlBackend {
    fn from(pool: sqlx::MySqlPool) -> Self {
        SqlBackend::new(Pool::MySql(pool), TableName::default())
    }
}

/// A pool becomes a backend on the default table, `sessions`.
#[cfg(feature = "sqlite")]
#[cfg_attr(docsrs, doc(cfg(feature = "sqlite")))]
impl From<sqlx::SqlitePool> for SqlBackend {
    fn from(pool: sqlx::SqlitePool) -> Self {
        SqlBackend::new(Pool::Sqlite(pool), TableName::default())
    }
}

impl SqlBackend {
    fn new(pool: Pool, table: TableName) -> Self {
        let database = match &pool {
            #[cfg(feature = "postgres")]
            Pool::Postgres(_) => Database::Postgres,
            #[cfg(feature = "mysql")]
            Pool::MySql(_) => Database::MySql,
            #[cfg(feature = "sqlite")]
            Pool::Sqlite(_) => Database::Sqlite,
        };
        let sql = Statements::new(database, &table);
        let inner = Inner { pool, sql, table, reaper: std::sync::Mutex::new(None) };
        SqlBackend { inner: Arc::new(inner), timeout: DEFAULT_TIMEOUT }
    }

    /// A backend on a new pool for the database at `url` (`postgres://…`, `mysql://…` or `mariadb://…`,
    /// `sqlite://path?mode=rwc` or `sqlite::memory:`), whose connections are opened on first use.
    pub fn connect_lazy(url: &str) -> Result<Self, SqlStorageError> {
        let scheme = url.split(':').next().unwrap_or_default().to_ascii_lowercase();
        let pool = match scheme.as_str() {
            #[cfg(feature = "postgres")]
            "postgres" | "postgresql" => {
                Pool::Postgres(pool_options().connect_lazy(url).map_err(SqlStorageError::Config)?)
            }
            #[cfg(feature = "mysql")]
            "mysql" | "mariadb" => Pool::MySql(
                pool_options().connect_lazy(&url.replacen("mariadb:", "mysql:", 1)).map_err(SqlStorageError::Config)?,
            ),
            #[cfg(feature = "sqlite")]
            "sqlite" => Pool::Sqlite(sqlite_pool(url)?),
            _ => return Err(SqlStorageError::UnknownDatabase { scheme: scheme_hint(&scheme) }),
        };
        Ok(SqlBackend::new(pool, TableName::default()))
    }

    /// Keeps sessions in `table` (and its index in `<table>_index`) instead of `sessions`.
    pub fn with_table(self, table: TableName) -> Self {
        let pool = self.inner.pool.clone();
        SqlBackend { timeout: self.timeout, ..SqlBackend::new(pool, table) }
    }

    /// Bounds everything the database does for one request (getting a connection included) to
    /// `timeout`; the default is [`DEFAULT_TIMEOUT`].
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The table the sessions live in.
    pub fn table(&self) -> &TableName {
        &self.inner.table
    }

    /// Creates the tables and indexes this backend uses, if they are missing; running it again
    /// changes nothing. Teams that run their own migrations take the statements from the crate's
    /// docs instead.
    pub async fn migrate(&self) -> Result<(), SqlStorageError> {
        for statement in &self.inner.sql.migrations {
            on_pool!(&self.inner.pool, pool => sqlx::query(statement).execute(pool).await.map(|_| ()))
                .map_err(|source| SqlStorageError::Migration { source })?;
        }
        Ok(())
    }

    /// Deletes expired rows every `interval`, looking at `batch` rows at a time (a chunk of the
    /// primary key), so that a table of millions of rows is never locked for long; it stops when the
    /// last clone of this backend is dropped. Loads never serve an expired row in any case: the reaper
    /// only frees the space.
    pub fn spawn_reaper(self, interval: Duration, batch: u32) -> Self {
        let reaper = Reaper::spawn(self.inner.pool.clone(), &self.inner.sql, interval, batch);
        *self.inner.reaper.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(reaper);
        self
    }

    /// Deletes expired rows now, `batch` rows looked at a time, until the whole table has been walked;
    /// answers how many went. What the reaper runs.
    pub async fn purge_expired(&self, batch: u32) -> Result<u64, SqlStorageError> {
        crate::reaper::purge(&self.inner.pool, &self.inner.sql, batch).await
    }

    fn statement_error(statement: &'static str) -> impl FnOnce(sqlx::Error) -> Error {
        move |source| SqlStorageError::Statement { statement, source }.into()
    }
}

/// The settings of every pool this crate makes: getting a connection counts against the request's
/// deadline, and no ping before each statement (a statement on a dead connection runs again on
/// another one: `pool.rs`).
fn pool_options<DB: sqlx::Database>() -> sqlx::pool::PoolOptions<DB> {
    sqlx::pool::PoolOptions::new().acquire_timeout(DEFAULT_TIMEOUT).test_before_acquire(false)
}

#[cfg(feature = "sqlite")]
fn sqlite_pool(url: &str) -> Result<sqlx::SqlitePool, SqlStorageError> {
    use std::str::FromStr;
    let options = sqlx::sqlite::SqliteConnectOptions::from_str(url).map_err(SqlStorageError::Config)?;
    // Connections are never closed for being idle or old: an in-memory database lives as long as one
    // of them (sqlx names it and shares its cache among the pool's connections, so they all see it).
    let pool = pool_options().max_connections(8).idle_timeout(None).max_lifetime(None);
    // A file database in WAL mode: readers never wait for the writer, and a commit is not an fsync
    // (`synchronous = NORMAL`: a power cut may lose the last commits, never corrupt the file). The
    // default rollback journal served some 570 requests a second in the bench. An in-memory database
    // keeps its own journal whatever is asked.
    let options =
        options.journal_mode(sqlx::sqlite::SqliteJournalMode::Wal).synchronous(sqlx::sqlite::SqliteSynchronous::Normal);
    Ok(pool.connect_lazy_with(options.busy_timeout(DEFAULT_TIMEOUT)))
}

/// The database a URL scheme names, for an error when its feature is off.
fn scheme_hint(scheme: &str) -> String {
    match scheme {
        "postgres" | "postgresql" => "postgres (the `postgres` feature is off)".to_owned(),
        "mysql" | "mariadb" => format!("{scheme} (the `mysql` feature is off)"),
        "sqlite" => "sqlite (the `sqlite` feature is off)".to_owned(),
        other => format!("{other:?}: expected postgres://, mysql://, mariadb:// or sqlite:"),
    }
}

/// A TTL as the milliseconds the statements add to the database's clock; `None` never expires.
fn ttl_ms(ttl: Option<Duration>) -> Option<i64> {
    ttl.map(|ttl| i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX / 2).max(1))
}

#[async_trait]
impl KeyValueBackend for SqlBackend {
    type Token = i64;

    fn name(&self) -> &'static str {
        match self.inner.sql.database {
            Database::Postgres => "postgres",
            Database::MySql => "mysql",
            Database::Sqlite => "sqlite",
        }
    }

    fn timeout(&self) -> Duration {
        self.timeout
    }

    fn compare_and_set(&self) -> Option<&dyn CompareAndSet<Token = i64>> {
        Some(self)
    }

    fn user_index(&self) -> Option<&dyn UserIndex> {
        Some(self)
    }

    async fn load(&self, key: &str) -> Result<Option<Vec<u8>>, Error> {
        Ok(self.load_versioned(key).await?.map(|stored| stored.bytes))
    }

    async fn store(
        &self,
        key: &str,
        payload: &[u8],
        ttl: Option<Duration>,
        condition: Condition,
    ) -> Result<bool, Error> {
        let (sql, ttl) = (&self.inner.sql, ttl_ms(ttl));
        let written = match condition {
            Condition::IfAbsent => {
                if let Some(delete_expired) = &sql.delete_expired {
                    on_pool!(&self.inner.pool, pool => sqlx::query(delete_expired).bind(key).execute(pool).await.map(|_| ()))
                        .map_err(Self::statement_error("DELETE expired"))?;
                }
                let inserted = on_pool!(&self.inner.pool, pool => sqlx::query(&sql.insert_fresh)
                    .bind(key).bind(payload).bind(ttl).execute(pool).await.map(|done| done.rows_affected()));
                match inserted {
                    Ok(rows) => rows,
                    // Another session holds the id (MySQL answers with the duplicate key).
                    Err(sqlx::Error::Database(error)) if error.is_unique_violation() => 0,
                    Err(source) => return Err(Self::statement_error("INSERT")(source)),
                }
            }
            Condition::IfPresent => on_pool!(&self.inner.pool, pool => sqlx::query(&sql.update_live)
                .bind(payload).bind(ttl).bind(key).execute(pool).await.map(|done| done.rows_affected()))
            .map_err(Self::statement_error("UPDATE"))?,
            Condition::Always => on_pool!(&self.inner.pool, pool => sqlx::query(&sql.upsert)
                .bind(key).bind(payload).bind(ttl).execute(pool).await.map(|done| done.rows_affected()))
            .map_err(Self::statement_error("INSERT … ON CONFLICT"))?,
        };
        Ok(written > 0)
    }

    async fn delete(&self, key: &str) -> Result<(), Error> {
        on_pool!(&self.inner.pool, pool => sqlx::query(&self.inner.sql.delete).bind(key).execute(pool).await.map(|_| ()))
            .map_err(Self::statement_error("DELETE"))?;
        Ok(())
    }
}

#[async_trait]
impl CompareAndSet for SqlBackend {
    async fn load_versioned(&self, key: &str) -> Result<Option<Versioned<i64>>, Error> {
        let row = on_pool!(&self.inner.pool, pool => {
            let row = sqlx::query(&self.inner.sql.load).bind(key).fetch_optional(pool).await;
            row.and_then(|row| row.map(|row| Ok(Versioned { bytes: row.try_get(0)?, token: row.try_get(1)? })).transpose())
        });
        row.map_err(Self::statement_error("SELECT"))
    }

    async fn store_if(
        &self,
        key: &str,
        payload: &[u8],
        ttl: Option<Duration>,
        expected: &Versioned<i64>,
    ) -> Result<CasOutcome<i64>, Error> {
        let ttl = ttl_ms(ttl);
        let updated = on_pool!(&self.inner.pool, pool => sqlx::query(&self.inner.sql.update_version)
            .bind(payload).bind(ttl).bind(key).bind(expected.token).execute(pool).await.map(|done| done.rows_affected()))
        .map_err(Self::statement_error("UPDATE … WHERE version"))?;
        Ok(if updated > 0 { CasOutcome::Stored(expected.token + 1) } else { CasOutcome::Conflict })
    }
}

#[async_trait]
impl UserIndex for SqlBackend {
    async fn index_add(&self, key: &str, id: &str, ttl: Option<Duration>) -> Result<(), Error> {
        on_pool!(&self.inner.pool, pool => sqlx::query(&self.inner.sql.index_add)
            .bind(key).bind(id).bind(ttl_ms(ttl)).execute(pool).await.map(|_| ()))
        .map_err(Self::statement_error("INSERT into the index"))?;
        Ok(())
    }

    async fn index_members(&self, key: &str) -> Result<Vec<String>, Error> {
        let members = on_pool!(&self.inner.pool, pool => {
            let rows = sqlx::query(&self.inner.sql.index_members).bind(key).fetch_all(pool).await;
            rows.and_then(|rows| rows.iter().map(|row| row.try_get::<String, _>(0)).collect::<Result<Vec<_>, _>>())
        });
        members.map_err(Self::statement_error("SELECT from the index"))
    }

    async fn index_remove(&self, key: &str, id: &str) -> Result<(), Error> {
        on_pool!(&self.inner.pool, pool => sqlx::query(&self.inner.sql.index_remove)
            .bind(key).bind(id).execute(pool).await.map(|_| ()))
        .map_err(Self::statement_error("DELETE from the index"))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ttls_are_whole_milliseconds_never_zero() {
        assert_eq!(ttl_ms(None), None);
        assert_eq!(ttl_ms(Some(Duration::from_secs(2))), Some(2000));
        assert_eq!(ttl_ms(Some(Duration::from_micros(10))), Some(1), "a live entry is never born expired");
        assert_eq!(ttl_ms(Some(Duration::MAX)), Some(i64::MAX / 2));
    }

    #[test]
    fn an_unknown_scheme_says_what_is_expected() {
        let error = SqlBackend::connect_lazy("redis://127.0.0.1").unwrap_err().to_string();
        assert!(error.contains("expected postgres://"), "{error}");
    }
}
