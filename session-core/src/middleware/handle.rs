//! The session handle a handler holds, written once for every framework adapter: its methods and
//! the error they return.

use std::fmt;
use std::sync::Arc;

use super::settings::LayerSettings;
use crate::error::Error;

/// Why a call on a framework adapter's session handle failed: no layer for the handle's tag wraps the
/// route, or the store or the session failed. An adapter wraps it in its own error type, which turns
/// it into the layer's error response (`R`, the framework's response type) with the framework's own
/// trait.
///
/// Its `Display` is the cause (never shown to the client; the layer's error response is), its
/// `source` the session's [`Error`].
pub enum HandleError<R> {
    /// No layer with the handle's tag wraps the route: a bug in the app's wiring.
    MissingLayer,
    /// The store or the session failed; `settings` is the layer's, for its error response.
    Failed {
        /// The settings of the layer that served the handle.
        settings: Arc<LayerSettings<R>>,
        /// What went wrong.
        error: Error,
    },
}

impl<R> HandleError<R> {
    /// The session's error; `None` when no layer wraps the route.
    pub fn error(&self) -> Option<&Error> {
        match self {
            HandleError::MissingLayer => None,
            HandleError::Failed { error, .. } => Some(error),
        }
    }
}

/// The cause only: the layer's settings hold the app's closures, nothing worth showing.
impl<R> fmt::Debug for HandleError<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HandleError::MissingLayer => f.write_str("MissingLayer"),
            HandleError::Failed { error, .. } => f.debug_tuple("Failed").field(error).finish(),
        }
    }
}

impl<R> fmt::Display for HandleError<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HandleError::MissingLayer => f.write_str("no session layer with this tag wraps the route"),
            HandleError::Failed { error, .. } => error.fmt(f),
        }
    }
}

impl<R> std::error::Error for HandleError<R> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.error().map(|error| error as _)
    }
}

/// Writes the methods of a framework adapter's session handle, so that `session-tower`,
/// `session-actix` and yours have the same methods with the same meaning and docs.
///
/// Use it inside the handle's `impl` block, naming the error the methods return (one that answers
/// with the layer's error response). The block must define two private methods:
/// `fn request_session(&self) -> &RequestSession` and `fn session_error(&self, error: Error) ->
/// YourError`.
///
/// ```
/// use std::sync::Arc;
/// use session_core::Error;
/// use session_core::middleware::RequestSession;
///
/// /// A framework's handle.
/// pub struct Session(Arc<RequestSession>);
///
/// /// What its methods return.
/// #[derive(Debug)]
/// pub struct SessionError(Error);
///
/// impl Session {
///     session_core::handle_methods!(SessionError);
///
///     fn request_session(&self) -> &RequestSession {
///         &self.0
///     }
///
///     fn session_error(&self, error: Error) -> SessionError {
///         SessionError(error)
///     }
/// }
/// ```
#[macro_export]
macro_rules! handle_methods {
    ($error:ty) => {
        /// The value under `key` as a `V`: `None` when absent, an error when it is not a `V`.
        pub fn get<V: $crate::__private::DeserializeOwned>(
            &self,
            key: &str,
        ) -> ::std::result::Result<Option<V>, $error> {
            self.update(|session| session.get(key))
        }

        /// The raw JSON value under `key`.
        pub fn get_value(&self, key: &str) -> ::std::result::Result<Option<$crate::Value>, $error> {
            self.update(|session| Ok(session.get_value(key).cloned()))
        }

        /// Stores `value` under `key` (`session[key] = value`): the session is saved after the handler.
        pub fn insert(
            &self,
            key: impl Into<String>,
            value: impl $crate::__private::Serialize,
        ) -> ::std::result::Result<(), $error> {
            self.update(|session| session.insert(key, value))
        }

        /// Takes the value under `key` out as a `V` (`session.pop(key)`).
        pub fn remove<V: $crate::__private::DeserializeOwned>(
            &self,
            key: &str,
        ) -> ::std::result::Result<Option<V>, $error> {
            self.update(|session| session.remove(key))
        }

        /// Whether `key` is present.
        pub fn contains_key(&self, key: &str) -> ::std::result::Result<bool, $error> {
            self.update(|session| Ok(session.contains_key(key)))
        }

        /// The keys, in insertion order.
        pub fn keys(&self) -> ::std::result::Result<Vec<String>, $error> {
            self.update(|session| Ok(session.keys().map(str::to_owned).collect()))
        }

        /// Removes every item (`session.clear()`); prefer [`invalidate`](Self::invalidate) at logout.
        pub fn clear(&self) -> ::std::result::Result<(), $error> {
            self.update(|session| {
                session.clear();
                Ok(())
            })
        }

        /// Empties the session and ends it: the cookie is removed (or, server-side, the entry
        /// deleted) when the response goes out.
        pub fn invalidate(&self) -> ::std::result::Result<(), $error> {
            self.update(|session| {
                session.invalidate();
                Ok(())
            })
        }

        /// Changes the lifetime written with this session (cookie `Max-Age`, entry TTL).
        pub fn set_max_age(&self, max_age: Option<::std::time::Duration>) -> ::std::result::Result<(), $error> {
            self.update(|session| {
                session.set_max_age(max_age);
                Ok(())
            })
        }

        /// Attaches the session to `user`, so that a server-side storage's `log_out_everywhere(user)`
        /// ends it.
        pub fn set_user(&self, user: impl Into<String>) -> ::std::result::Result<(), $error> {
            self.update(|session| {
                session.set_user(user);
                Ok(())
            })
        }

        /// Replaces the session with a fresh, empty one (aiohttp-session's `new_session`): call it at
        /// login. The new session gets a new id when saved, and the stored entry of the one it
        /// replaced is deleted then. Nothing is written if the new session is never changed.
        pub fn new_session(&self) -> ::std::result::Result<(), $error> {
            self.request_session().renew().map_err(|error| self.session_error(error))
        }

        /// Gives the session a new id and keeps its data (a privilege change); the entry under the
        /// old id is deleted once the session is saved under the new one.
        #[doc(alias = "regenerate", alias = "rotate")]
        pub fn cycle_id(&self) -> ::std::result::Result<(), $error> {
            self.request_session().cycle_id().map_err(|error| self.session_error(error))
        }

        /// Runs several operations on the session as one: nothing else of this request sees it
        /// half-done. The closure gets the `session_core::Session` and cannot `.await`; use that
        /// session inside it, not this handle (which would be `Error::InUse`).
        pub fn update<R>(
            &self,
            f: impl FnOnce(&mut $crate::Session) -> ::std::result::Result<R, $crate::Error>,
        ) -> ::std::result::Result<R, $error> {
            self.request_session().with(f).and_then(|result| result).map_err(|error| self.session_error(error))
        }
    };
}
