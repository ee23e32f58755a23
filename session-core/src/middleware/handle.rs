//! The session handle a handler holds, written once for every framework adapter: its methods, the
//! error they return, and how that error reaches the layer's error response.

use std::any::TypeId;
use std::fmt;
use std::sync::Arc;

use crate::error::Error;

/// Why a call on a framework adapter's session handle failed: no layer for the handle's tag wraps the
/// route, or the store or the session failed. An adapter wraps it in its own error type, which turns
/// it into a response with the framework's own trait.
///
/// Its `Display` is the cause (never shown to the client; the layer's error response is), its
/// `source` the session's [`Error`].
#[derive(Clone)]
pub enum HandleError {
    /// No layer with the handle's tag wraps the route: a bug in the app's wiring.
    MissingLayer,
    /// The store or the session failed, or the app handed a library error to `?`.
    Failed(HandlerFailure),
}

/// A session error on its way out of a handler. The adapter's error type puts it in the extensions of
/// the response it makes; the session layer it names (or the innermost one, for an error the app
/// converted with `?`) finds it there and answers with its own error response instead, logging the
/// error. So a handler's `?` on any library error ends in the app's chosen response.
#[derive(Clone)]
pub struct HandlerFailure {
    error: Arc<Error>,
    layer: Option<TypeId>,
}

impl HandlerFailure {
    /// `error`, for the layer tagged `layer` (`None`: whichever session layer meets it first).
    pub fn new(error: Error, layer: Option<TypeId>) -> Self {
        HandlerFailure { error: Arc::new(error), layer }
    }

    /// What went wrong.
    pub fn error(&self) -> &Error {
        &self.error
    }

    /// Whether the layer tagged `tag` answers it.
    pub fn is_for(&self, tag: TypeId) -> bool {
        self.layer.is_none_or(|layer| layer == tag)
    }
}

impl HandleError {
    /// The session's error; `None` when no layer wraps the route.
    pub fn error(&self) -> Option<&Error> {
        match self {
            HandleError::MissingLayer => None,
            HandleError::Failed(failure) => Some(failure.error()),
        }
    }
}

/// Any library error (the session's, a key's, a store's) becomes a failure for the innermost layer.
impl<E: Into<Error>> From<E> for HandleError {
    fn from(error: E) -> Self {
        HandleError::Failed(HandlerFailure::new(error.into(), None))
    }
}

/// The cause only.
impl fmt::Debug for HandleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HandleError::MissingLayer => f.write_str("MissingLayer"),
            HandleError::Failed(failure) => f.debug_tuple("Failed").field(failure.error()).finish(),
        }
    }
}

impl fmt::Debug for HandlerFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("HandlerFailure").field(&self.error).finish()
    }
}

impl fmt::Display for HandleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HandleError::MissingLayer => f.write_str("no session layer with this tag wraps the route"),
            HandleError::Failed(failure) => failure.error().fmt(f),
        }
    }
}

impl std::error::Error for HandleError {
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
///     session_core::middleware::handle_methods!(SessionError);
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
#[doc(hidden)]
#[macro_export]
macro_rules! __handle_methods {
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
            key: impl AsRef<str>,
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

        /// Logs `user` in, **the one way to**: a fresh, empty session under a new id (an id planted
        /// before the login is worth nothing), `user` attached, so that `log_out_everywhere(user)` ends
        /// it and a user's devices list it. The stored entry of the session it replaced is deleted once
        /// the new one is saved. Check the credentials first.
        #[doc(alias = "set_user", alias = "authenticate")]
        pub fn login(&self, user: impl Into<String>) -> ::std::result::Result<(), $error> {
            self.request_session().login(user).map_err(|error| self.session_error(error))
        }

        /// Logs `user` in and keeps what the session holds (a visitor's cart): a new id all the same,
        /// `user` attached, the old entry deleted once the session is saved under the new id.
        pub fn login_keeping_data(&self, user: impl Into<String>) -> ::std::result::Result<(), $error> {
            self.request_session().login_keeping_data(user).map_err(|error| self.session_error(error))
        }

        /// The user logged in to this session; `None` before a login and after a logout.
        pub fn user(&self) -> ::std::result::Result<Option<String>, $error> {
            self.update(|session| Ok(session.user().map(str::to_owned)))
        }

        /// The session's id (server-side storages; the cookie's value). `None` for cookie storages, and
        /// for a new session until it is saved.
        pub fn id(&self) -> ::std::result::Result<Option<String>, $error> {
            self.update(|session| Ok(session.identity().map(str::to_owned)))
        }

        /// Keeps the session for `lifetime` since its last use, however short the storage's idle limits
        /// ("remember me"), up to the storage's remember limit (30 days unless configured).
        #[doc(alias = "remember_me")]
        pub fn remember_for(&self, lifetime: ::std::time::Duration) -> ::std::result::Result<(), $error> {
            self.update(|session| {
                session.remember_for(lifetime);
                Ok(())
            })
        }

        /// Sends the cookie without `Max-Age`, so the browser drops it when it closes (the session
        /// still ends at the storage's limits).
        pub fn end_with_browser(&self) -> ::std::result::Result<(), $error> {
            self.update(|session| {
                session.end_with_browser();
                Ok(())
            })
        }

        /// Labels the device of this session (the user agent, say), as a list of the user's devices
        /// shows it.
        pub fn set_device_label(&self, label: impl Into<String>) -> ::std::result::Result<(), $error> {
            self.update(|session| {
                session.set_device_label(label);
                Ok(())
            })
        }

        /// Queues a flash message for the next page that calls [`take_flashes`](Self::take_flashes):
        /// it survives a redirect, is shown once, keeps its order, and parallel requests on a merging
        /// store keep each other's.
        pub fn flash(&self, level: $crate::FlashLevel, text: impl Into<String>) -> ::std::result::Result<(), $error> {
            self.update(|session| session.flash(level, text))
        }

        /// The queued flash messages, oldest first, taken out: the next call answers none.
        pub fn take_flashes(&self) -> ::std::result::Result<Vec<$crate::Flash>, $error> {
            self.update(|session| Ok(session.take_flashes()))
        }

        /// The session's CSRF token for a form field or a header: made on first use, the same until
        /// `login`, `reset` or `cycle_id`, which make the old one worthless.
        pub fn csrf_token(&self) -> ::std::result::Result<String, $error> {
            self.update(|session| session.csrf_token())
        }

        /// Whether `submitted` is one of the session's CSRF tokens (compared in constant time): what
        /// the CSRF layer checks, for a handler that checks by itself.
        pub fn verify_csrf(&self, submitted: &str) -> ::std::result::Result<bool, $error> {
            self.update(|session| Ok(session.verify_csrf(submitted)))
        }

        /// The layer's storage as its own type `S` (the type given to the layer), for what only some
        /// storages can do, with no trait to import: a user's devices on Redis, say
        /// (`session.storage::<RedisStorage>()?.devices(&user)`). An error when the layer's storage is
        /// another type.
        pub fn storage<S: Send + Sync + 'static>(&self) -> ::std::result::Result<::std::sync::Arc<S>, $error> {
            self.request_session().storage_as::<S>().map_err(|error| self.session_error(error))
        }

        /// Starts over with a fresh, empty session under a new id (aiohttp-session's `new_session`,
        /// Django's `flush`): at login, so an id planted before it is worth nothing. The stored entry of
        /// the session it replaced is deleted once the new one is saved. Nothing is written if the new
        /// session is never changed.
        #[doc(alias = "new_session", alias = "flush")]
        pub fn reset(&self) -> ::std::result::Result<(), $error> {
            self.request_session().reset().map_err(|error| self.session_error(error))
        }

        /// Gives the session a new id and keeps its data (a privilege change; actix-session's `renew`,
        /// Django's `cycle_key`); the entry under the old id is deleted once the session is saved under
        /// the new one.
        #[doc(alias = "regenerate", alias = "rotate", alias = "renew", alias = "cycle_key")]
        pub fn cycle_id(&self) -> ::std::result::Result<(), $error> {
            self.request_session().cycle_id().map_err(|error| self.session_error(error))
        }

        /// Ends every session `user` logged in to (with [`login`](Self::login)) in every process that
        /// shares the storage, this one included; later logins of `user` live on. For a password change
        /// or an admin page. Server-side storages can, and cookie storages given a store for it
        /// (`with_revocation`); another storage answers `Error::Unsupported`.
        #[doc(alias = "logout_all", alias = "revoke")]
        pub async fn log_out_everywhere(&self, user: &str) -> ::std::result::Result<(), $error> {
            let storage = ::std::sync::Arc::clone(self.request_session().storage());
            $crate::AbstractStorage::log_out_everywhere(&*storage, user)
                .await
                .map_err(|error| self.session_error(error))
        }

        /// Runs several operations on the session as one: nothing else of this request sees it
        /// half-done. The closure gets the `session_core::SessionState` and cannot `.await`; use that
        /// session inside it, not this handle (which would be `Error::InUse`).
        pub fn update<R>(
            &self,
            f: impl FnOnce(&mut $crate::SessionState) -> ::std::result::Result<R, $crate::Error>,
        ) -> ::std::result::Result<R, $error> {
            self.request_session().with(f).and_then(|result| result).map_err(|error| self.session_error(error))
        }
    };
}
