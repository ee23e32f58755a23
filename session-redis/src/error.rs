//! What can fail when talking to Redis, kept apart so a caller can tell which.

use deadpool_redis::redis::RedisError;

/// A Redis failure, carried as the source of [`session_core::Error::Backend`]; downcast to tell a pool
/// that could not connect from a command Redis refused.
///
/// ```
/// # fn check(error: &session_core::Error) {
/// use session_redis::RedisStorageError;
///
/// let redis = std::error::Error::source(error).and_then(|e| e.downcast_ref::<RedisStorageError>());
/// if let Some(RedisStorageError::Pool(_)) = redis {
///     // no connection: Redis is down or unreachable
/// }
/// # }
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RedisStorageError {
    /// The pool could not hand out a connection: Redis refused or did not answer the connection, or
    /// the pool's wait timed out.
    #[error("no connection to Redis from the pool")]
    Pool(#[source] deadpool_redis::PoolError),

    /// Redis (or the connection) failed a command.
    #[error("Redis failed `{command}`")]
    Command {
        /// The command.
        command: &'static str,
        /// Redis's or the connection's error.
        #[source]
        source: RedisError,
    },

    /// Redis answered something other than what the command returns.
    #[error("unexpected reply to `{command}`: {reply}")]
    UnexpectedReply {
        /// The command.
        command: &'static str,
        /// The reply, as text.
        reply: String,
    },

    /// The Redis URL or pool settings are invalid.
    #[error("invalid Redis settings")]
    Config(#[source] session_core::BoxError),
}

impl From<RedisStorageError> for session_core::Error {
    fn from(error: RedisStorageError) -> Self {
        session_core::Error::backend(error)
    }
}
