//! The pool of whichever database a backend talks to, and the one way to run a statement on it.

/// One pool of one of the databases this crate was built for.
#[derive(Clone, Debug)]
pub(crate) enum Pool {
    #[cfg(feature = "postgres")]
    Postgres(sqlx::PgPool),
    #[cfg(feature = "mysql")]
    MySql(sqlx::MySqlPool),
    #[cfg(feature = "sqlite")]
    Sqlite(sqlx::SqlitePool),
}

/// Runs `$body` (a statement, ending in the `Result` of its `.await`) with `$pool` bound to the pool
/// of whichever database it is: one text for every database, compiled once for each (sqlx's types
/// differ per database, the statements' shape does not). A statement that finds its connection dead
/// runs again, on another one: see [`is_dead_connection`].
macro_rules! on_pool {
    ($pool:expr, $p:ident => $body:expr) => {{
        let pool: &$crate::pool::Pool = $pool;
        let mut dead = 0;
        loop {
            let result = match pool {
                #[cfg(feature = "postgres")]
                $crate::pool::Pool::Postgres($p) => $body,
                #[cfg(feature = "mysql")]
                $crate::pool::Pool::MySql($p) => $body,
                #[cfg(feature = "sqlite")]
                $crate::pool::Pool::Sqlite($p) => $body,
            };
            match result {
                Err(error) if $crate::pool::is_dead_connection(&error) && dead < pool.size_limit() => dead += 1,
                result => break result,
            }
        }
    }};
}
pub(crate) use on_pool;

impl Pool {
    /// The most connections the pool holds: how many dead ones a statement may meet in a row.
    pub(crate) fn size_limit(&self) -> u32 {
        match self {
            #[cfg(feature = "postgres")]
            Pool::Postgres(pool) => pool.options().get_max_connections(),
            #[cfg(feature = "mysql")]
            Pool::MySql(pool) => pool.options().get_max_connections(),
            #[cfg(feature = "sqlite")]
            Pool::Sqlite(pool) => pool.options().get_max_connections(),
        }
    }
}

/// Whether `error` says the connection a statement ran on is gone (the server restarted, or closed
/// it), not that the statement failed.
///
/// The pools do not ping a connection before lending it (sqlx's default, `test_before_acquire`): that
/// ping was one more round trip for every statement, about a fifth of the server's and the
/// database's CPU per request in the bench. So a connection that died while it sat in the pool is
/// found dead by the statement that uses it, and that statement runs again on another (sqlx closes
/// the dead one when it comes back). Running again is safe: a load reads; every write checks and
/// writes in one statement, so one that did apply before the connection broke answers as if another
/// request had written (a conflict, or a taken id), which the engine already handles. The request's
/// deadline bounds the retries.
pub(crate) fn is_dead_connection(error: &sqlx::Error) -> bool {
    match error {
        // MySQL and MariaDB close the socket.
        sqlx::Error::Io(_) | sqlx::Error::WorkerCrashed => true,
        // Postgres says why first: the server is shutting down or closed the connection (SQLSTATE
        // class 57P0x), or a connection exception (class 08).
        sqlx::Error::Database(error) => {
            error.code().is_some_and(|code| matches!(&*code, "57P01" | "57P02" | "57P03") || code.starts_with("08"))
        }
        _ => false,
    }
}
