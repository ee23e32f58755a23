//! What can fail when talking to memcached, told without the keys (a key holds a session id, which is
//! as good as the session to whoever reads the log).

use std::fmt;
use std::time::Duration;

/// A memcached failure, carried as the source of [`session_core::Error::Backend`]; downcast to tell a
/// server that is down from one that refused a write.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MemcachedStorageError {
    /// The client failed: connection refused or lost, a timeout, or an error reply.
    #[error("memcached failed `{command}`")]
    Client {
        /// The operation.
        command: &'static str,
        /// What went wrong.
        #[source]
        source: ClientError,
    },

    /// No answer within the backend's timeout.
    #[error("memcached did not complete `{command}` within {timeout:?}")]
    Timeout {
        /// The operation.
        command: &'static str,
        /// The backend's timeout.
        timeout: Duration,
    },

    /// A server address that cannot be used.
    #[error("invalid memcached server {server:?}: {reason}")]
    Config {
        /// The address as given.
        server: String,
        /// What is wrong with it.
        reason: String,
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

impl MemcachedStorageError {
    pub(crate) fn client(command: &'static str, source: memcache::exp::Error) -> Self {
        MemcachedStorageError::Client { command, source: ClientError(source) }
    }
}

impl From<MemcachedStorageError> for session_core::Error {
    fn from(error: MemcachedStorageError) -> Self {
        session_core::Error::backend(error)
    }
}

/// The memcache client's error, shown without the key it names (`Debug` and `Display` alike).
pub struct ClientError(memcache::exp::Error);

/// The kinds of [`ClientError`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ClientErrorKind {
    /// The connection failed before the request was sent: it was not applied.
    Io,
    /// No answer within the timeout.
    Timeout,
    /// The request was sent but its outcome is unknown.
    Ambiguous,
    /// memcached answered an error (`SERVER_ERROR`, `CLIENT_ERROR`) or something unexpected.
    Server,
    /// Anything else the client reports.
    Other,
}

impl ClientError {
    /// What kind of failure it was.
    pub fn kind(&self) -> ClientErrorKind {
        use memcache::exp::Error;
        match &self.0 {
            Error::Io(_) => ClientErrorKind::Io,
            Error::Timeout { .. } => ClientErrorKind::Timeout,
            Error::Ambiguous { .. } => ClientErrorKind::Ambiguous,
            Error::Protocol(_) | Error::Server(_) | Error::Rejected(_) => ClientErrorKind::Server,
            _ => ClientErrorKind::Other,
        }
    }
}

impl fmt::Display for ClientError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use memcache::exp::Error;
        match &self.0 {
            Error::Io(error) => write!(f, "i/o error: {error}"),
            Error::Timeout { .. } => f.write_str("timed out"),
            Error::Ambiguous { source, .. } => {
                write!(f, "sent, but the outcome is unknown: {}", ClientErrorKindText(source))
            }
            Error::Protocol(message) => write!(f, "protocol error: {message}"),
            Error::Server(message) => write!(f, "server error: {message}"),
            Error::Rejected(message) => write!(f, "rejected by the server: {message}"),
            _ => f.write_str("client error"),
        }
    }
}

/// The inner error of an ambiguous failure, without its key either.
struct ClientErrorKindText<'a>(&'a memcache::exp::Error);

impl fmt::Display for ClientErrorKindText<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            memcache::exp::Error::Io(error) => write!(f, "i/o error: {error}"),
            memcache::exp::Error::Timeout { .. } => f.write_str("timed out"),
            _ => f.write_str("client error"),
        }
    }
}

impl fmt::Debug for ClientError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ClientError({:?}: {self})", self.kind())
    }
}

impl std::error::Error for ClientError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.0 {
            memcache::exp::Error::Io(error) => Some(error),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_never_show_the_key() {
        let key = b"AIOHTTP_SESSION_0123456789abcdef0123456789abcdef".to_vec();
        let timeout = memcache::exp::Error::Timeout { key: key.clone() };
        let ambiguous = memcache::exp::Error::Ambiguous {
            key,
            source: Box::new(memcache::exp::Error::Timeout { key: b"k".to_vec() }),
        };
        for error in [timeout, ambiguous] {
            let error = MemcachedStorageError::client("get", error);
            let shown = format!(
                "{error} {error:?} {}",
                std::error::Error::source(&error).map(|s| s.to_string()).unwrap_or_default()
            );
            assert!(!shown.contains("0123456789abcdef"), "{shown}");
        }
    }
}
