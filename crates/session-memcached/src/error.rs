//! What can fail when talking to memcached.

/// A memcached failure, carried as the source of [`session_core::Error::Backend`]; downcast to tell a
/// server that is down from one that refused a write.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MemcachedStorageError {
    /// The client failed: connection refused or lost, a timeout, or an error reply. The source says
    /// which (`memcache::exp::Error::Io`, `Timeout`, `Ambiguous`, `Server`, ...).
    #[error("memcached failed `{command}`")]
    Client {
        /// The operation.
        command: &'static str,
        /// The client's error.
        #[source]
        source: memcache::exp::Error,
    },

    /// memcached answered but did not store the value (out of memory for an item this size, say).
    #[error("memcached did not apply `{command}`: {status}")]
    NotStored {
        /// The operation.
        command: &'static str,
        /// memcached's status.
        status: String,
    },
}

impl From<MemcachedStorageError> for session_core::Error {
    fn from(error: MemcachedStorageError) -> Self {
        session_core::Error::backend(error)
    }
}
