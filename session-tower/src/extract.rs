//! How a handler reaches its session: the `Session` handle, aiohttp's `get_session` and `new_session`.

use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;

use http::{Extensions, HeaderMap, Request, Response, StatusCode};
use session_core::Error;

use crate::layer::Shared;
use crate::request_session::{RequestSession, SessionGuard};

/// The request extension a [`SessionLayer<T>`](crate::SessionLayer) inserts.
pub(crate) struct Slot<T> {
    session: Arc<RequestSession>,
    tag: PhantomData<fn() -> T>,
}

impl<T> Slot<T> {
    pub(crate) fn new(session: Arc<RequestSession>) -> Self {
        Slot { session, tag: PhantomData }
    }
}

impl<T> Clone for Slot<T> {
    fn clone(&self) -> Self {
        Slot::new(Arc::clone(&self.session))
    }
}

/// The request's session, loaded: aiohttp-session's `get_session(request)` as an axum extractor.
///
/// Taking it loads the session from the cookie (once per request, however many extractors ask) and
/// [`lock`](Self::lock) gives access to it. A session that is never asked for costs nothing: its cookie
/// is not even parsed. Changes are saved by the layer after the handler returns.
///
/// `Session<T>` reaches the layer built with [`SessionLayer::<T>::tagged`](crate::SessionLayer::tagged);
/// plain `Session` the one built with [`SessionLayer::new`](crate::SessionLayer::new).
///
/// ```
/// use session_tower::Session;
///
/// async fn logout(session: Session) -> &'static str {
///     session.lock().invalidate();
///     "Logged out"
/// }
///
/// async fn login(session: Session) -> &'static str {
///     // Check the credentials, then start from a fresh session id (session-fixation guard).
///     let mut session = session.new_session();
///     session.insert("user", "alice").expect("a string is JSON");
///     "Welcome"
/// }
/// ```
#[doc(alias = "get_session")]
pub struct Session<T = ()> {
    request: Arc<RequestSession>,
    tag: PhantomData<fn() -> T>,
}

impl<T> Clone for Session<T> {
    fn clone(&self) -> Self {
        Session { request: Arc::clone(&self.request), tag: PhantomData }
    }
}

impl<T: 'static> fmt::Debug for Session<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Session").field(&*self.lock()).finish()
    }
}

impl<T: 'static> Session<T> {
    /// Loads the session of a request that went through `SessionLayer<T>`: the building block of the
    /// extractor, for plain tower and hyper services.
    pub async fn load(extensions: &Extensions, headers: &HeaderMap) -> Result<Self, SessionRejection> {
        let slot = extensions.get::<Slot<T>>().ok_or_else(SessionRejection::missing_layer)?;
        let request = Arc::clone(&slot.session);
        if let Err(error) = request.load(headers).await {
            let shared = Arc::clone(request.shared());
            return Err(SessionRejection(Rejection::Store { shared, error }));
        }
        Ok(Session { request, tag: PhantomData })
    }

    /// The session, locked for reading and writing. Drop the guard before the next `.await`.
    pub fn lock(&self) -> SessionGuard<'_> {
        self.request.lock()
    }

    /// Replaces the session with a fresh one and returns it, locked (aiohttp-session's
    /// `new_session`). Call it at login: the new session gets a new id when saved, and the stored entry
    /// of the one it replaced is deleted once the new one is saved. Nothing is written if the new session
    /// is never changed.
    pub fn new_session(&self) -> SessionGuard<'_> {
        self.request.renew()
    }
}

/// aiohttp-session's `get_session(request)` for services that are not axum handlers.
///
/// ```
/// # async fn service(request: http::Request<()>) -> Result<(), session_tower::SessionRejection> {
/// let session = session_tower::get_session(&request).await?;
/// session.lock().insert("seen", true).ok();
/// # Ok(()) }
/// ```
pub async fn get_session<B>(request: &Request<B>) -> Result<Session, SessionRejection> {
    Session::load(request.extensions(), request.headers()).await
}

/// aiohttp-session's `new_session(request)` for services that are not axum handlers: the request's
/// session, replaced by a fresh one (see [`Session::new_session`]).
pub async fn new_session<B>(request: &Request<B>) -> Result<Session, SessionRejection> {
    let session = get_session(request).await?;
    drop(session.new_session());
    Ok(session)
}

/// Why a handler could not get its session: the store failed, or no layer wraps the route. As an
/// axum rejection it answers with the layer's error response (a 500 by default).
pub struct SessionRejection(Rejection);

enum Rejection {
    /// No `SessionLayer` with this tag wraps the route: a bug in the app's wiring.
    MissingLayer,
    /// The store failed while loading.
    Store { shared: Arc<Shared>, error: Error },
}

impl SessionRejection {
    fn missing_layer() -> Self {
        SessionRejection(Rejection::MissingLayer)
    }

    /// The store's error, when the store failed.
    pub fn error(&self) -> Option<&Error> {
        match &self.0 {
            Rejection::MissingLayer => None,
            Rejection::Store { error, .. } => Some(error),
        }
    }

    /// The response the layer sends for it: the app's error response for a store failure, a 500 for
    /// a missing layer.
    pub fn into_http_response<B: From<String>>(self) -> Response<B> {
        match self.0 {
            Rejection::MissingLayer => {
                tracing::error!("a handler asked for a session but no SessionLayer with its tag wraps the route");
                let mut response = Response::new(B::from(String::from("Internal Server Error")));
                *response.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
                response
            }
            Rejection::Store { shared, error } => shared.error_response(&error),
        }
    }
}

impl fmt::Debug for SessionRejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Rejection::MissingLayer => f.write_str("SessionRejection::MissingLayer"),
            Rejection::Store { error, .. } => f.debug_tuple("SessionRejection::Store").field(error).finish(),
        }
    }
}

impl fmt::Display for SessionRejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Rejection::MissingLayer => f.write_str("no SessionLayer wraps this route"),
            Rejection::Store { error, .. } => error.fmt(f),
        }
    }
}

impl std::error::Error for SessionRejection {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.error().map(|error| error as _)
    }
}

#[cfg(feature = "axum")]
mod axum_extractor {
    use axum_core::extract::FromRequestParts;
    use axum_core::response::{IntoResponse, Response};
    use http::request::Parts;

    use super::{Session, SessionRejection};

    impl<S, T> FromRequestParts<S> for Session<T>
    where
        S: Send + Sync,
        T: 'static,
    {
        type Rejection = SessionRejection;

        async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
            Session::load(&parts.extensions, &parts.headers).await
        }
    }

    impl IntoResponse for SessionRejection {
        fn into_response(self) -> Response {
            self.into_http_response()
        }
    }
}
