//! What can fail when talking to the database, kept apart so a caller can tell which.

/// A database failure, carried as the source of [`session_core::Error::Backend`] (downcast to tell
/// them apart), or returned by building a backend and by [`migrate`](crate::SqlBackend::migrate).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SqlStorageError {
    /// A statement failed: no connection from the pool, a dropped connection, or an error the
    /// database answered.
    #[error("the database failed `{statement}`")]
    Statement {
        /// Which statement, in short.
        statement: &'static str,
        /// sqlx's error.
        #[source]
        source: sqlx::Error,
    },

    /// Creating the tables failed.
    #[error("could not create the session tables")]
    Migration {
        /// sqlx's error.
        #[source]
        source: sqlx::Error,
    },

    /// The database URL or pool settings are invalid.
    #[error("invalid database settings")]
    Config(#[source] sqlx::Error),

    /// The URL names a database this build does not speak.
    #[error("no SQL storage for the database {scheme}")]
    UnknownDatabase {
        /// The URL's scheme and what to do about it.
        scheme: String,
    },
}

impl From<SqlStorageError> for session_core::Error {
    fn from(error: SqlStorageError) -> Self {
        session_core::Error::backend(error)
    }
}
