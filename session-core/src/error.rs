//! The errors of this library. A bad cookie is never one of them: it gives a fresh session.

use std::error::Error as StdError;
use std::time::Duration;

/// A boxed error from a codec or a backend, kept whole so callers can walk or downcast the chain.
pub type BoxError = Box<dyn StdError + Send + Sync + 'static>;

/// What can go wrong with a session.
///
/// Tampered, expired, truncated or garbage cookies and undecodable stored payloads are not errors:
/// they load as a fresh session (and log a warning). What remains is the application's own mistakes
/// and an unreachable or failing store.
///
/// ```
/// use session_core::Error;
///
/// let err = Error::backend(std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused"));
/// assert!(err.is_backend());
/// let io = std::error::Error::source(&err).and_then(|e| e.downcast_ref::<std::io::Error>());
/// assert_eq!(io.map(|e| e.kind()), Some(std::io::ErrorKind::ConnectionRefused));
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A value could not be turned into JSON (`SessionState::insert`) or the session into its payload.
    #[error("the session value could not be encoded")]
    Encode(#[source] BoxError),

    /// A stored value could not be read as the type asked for (`SessionState::get::<T>`).
    #[error("the session value is not of the requested type")]
    Decode(#[source] BoxError),

    /// The cookie would be larger than browsers keep, so it would be dropped without a word.
    #[error("the session cookie would be {size} bytes; browsers drop cookies over {limit} bytes")]
    CookieTooLarge {
        /// Bytes of `name=value` as it would be sent.
        size: usize,
        /// The limit, [`MAX_COOKIE_SIZE`](crate::cookie::MAX_COOKIE_SIZE).
        limit: usize,
    },

    /// `set_new_identity` was called on a session that was loaded, not created in this request.
    #[error("can't change the identity of a session which is not new")]
    IdentityNotNew,

    /// Other processes kept changing the session while this one tried to save it, for longer than
    /// the store's timeout.
    #[error("the session kept changing under concurrent writes; gave up after {attempts} attempts in {waited:?}")]
    Conflict {
        /// How many times the save was tried.
        attempts: usize,
        /// How long it tried.
        waited: Duration,
    },

    /// The store failed: unreachable, refused the command, answered something unreadable. The source
    /// says which.
    #[error("the session store failed")]
    Backend(#[source] BoxError),

    /// The store did not finish this request's work within the storage's timeout: one deadline bounds
    /// everything a request asks of the store (load, waiting for a batch, the write, retries).
    #[error("the session store did not answer within {timeout:?}")]
    Timeout {
        /// The storage's timeout.
        timeout: Duration,
    },

    /// The id given with `set_new_identity` belongs to a session that is stored already; nothing was
    /// written (a new id is never written over another session).
    #[error("the identity given to the new session belongs to another session")]
    IdentityTaken,

    /// The session was used from inside a closure that already holds it (`update`): use the
    /// `&mut SessionState` the closure was given instead. Waiting would never end.
    #[error("the session is already in use by this code (inside `update`); use the session the closure was given")]
    InUse,

    /// A setting or a key is invalid: a cookie setting ([`CookieError`](crate::cookie::CookieError)) or
    /// a secret key ([`KeyError`](crate::sealed::KeyError)), the source.
    #[error("the session configuration is invalid")]
    Config(#[source] BoxError),

    /// The storage cannot do this (a cookie storage cannot end sessions it does not keep).
    #[error("this storage cannot {what}")]
    Unsupported {
        /// What was asked.
        what: &'static str,
    },

    /// The session was used before the middleware loaded it.
    #[error("the session was used before it was loaded")]
    NotLoaded,

    /// The session was used after its response was sent; what is written now would not be saved.
    #[error("the response was already sent; the session can no longer be changed")]
    Finished,
}

impl Error {
    /// Wraps a store's own error.
    pub fn backend(source: impl Into<BoxError>) -> Self {
        Error::Backend(source.into())
    }

    /// Whether the store failed or did not answer in time (as opposed to the application or the
    /// payload).
    pub fn is_backend(&self) -> bool {
        matches!(self, Error::Backend(_) | Error::Timeout { .. })
    }
}

/// `error` and its causes on one line, each cause once (clients often repeat their source's text):
/// `the session store failed: Redis failed \`GET\`: Connection refused (os error 111)`.
pub fn describe(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}
