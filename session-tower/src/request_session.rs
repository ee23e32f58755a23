//! One request's session: loaded at most once, when first asked for, and saved after the handler.

use std::ops::{Deref, DerefMut};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use http::header::{COOKIE, SET_COOKIE};
use http::{HeaderMap, HeaderValue, Response, StatusCode};
use session_core::{Error, Session, find_cookie, save_if_changed};
use tokio::sync::OnceCell;

use crate::layer::Shared;

/// The state the layer puts in each request's extensions and reads back after the handler.
pub(crate) struct RequestSession {
    shared: Arc<Shared>,
    loaded: OnceCell<Mutex<Slot>>,
}

struct Slot {
    session: Session,
    /// Identity of the session `new_session` replaced: removed from the store once the new one is saved.
    replaced: Option<String>,
}

impl RequestSession {
    pub(crate) fn new(shared: Arc<Shared>) -> Self {
        RequestSession { shared, loaded: OnceCell::new() }
    }

    pub(crate) fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }

    /// Loads the session from the request's cookie the first time it is asked for (aiohttp's
    /// `get_session`); later calls in the same request get the same session.
    pub(crate) async fn load(&self, headers: &HeaderMap) -> Result<(), Error> {
        self.loaded
            .get_or_try_init(|| async {
                let storage = &self.shared.storage;
                let name = storage.config().cookie().get_name();
                let cookie = find_cookie(headers.get_all(COOKIE).iter().filter_map(|v| v.to_str().ok()), name);
                let session = storage.load_session(cookie.as_deref()).await?;
                tracing::debug!(cookie = name, new = session.is_new(), "session loaded");
                Ok(Mutex::new(Slot { session, replaced: None }))
            })
            .await
            .map(|_| ())
    }

    /// The loaded session, locked. Only called after [`load`](Self::load) succeeded.
    pub(crate) fn lock(&self) -> SessionGuard<'_> {
        let slot = self.loaded.get().expect("Session handles exist only for loaded sessions");
        SessionGuard(slot.lock().unwrap_or_else(PoisonError::into_inner))
    }

    /// Replaces the session with a fresh one (aiohttp's `new_session`), remembering the identity of
    /// the first one replaced so its stored entry can go once the new session is saved.
    pub(crate) fn renew(&self) -> SessionGuard<'_> {
        let mut guard = self.lock();
        let fresh = self.shared.storage.new_session();
        let old = std::mem::replace(&mut guard.0.session, fresh);
        if guard.0.replaced.is_none() {
            guard.0.replaced = old.identity().map(str::to_owned);
        }
        guard
    }

    /// After the handler: the session to save, if there is one to save with this response. A session
    /// nobody asked for, or nobody changed, costs nothing; a 5xx response saves nothing
    /// (aiohttp-session saves on redirects and HTTP errors, not when the handler failed).
    pub(crate) fn take_changed(&self, status: StatusCode) -> Option<Changed> {
        if status.is_server_error() {
            return None;
        }
        let mut slot = self.loaded.get()?.lock().unwrap_or_else(PoisonError::into_inner);
        if !slot.session.is_changed() {
            return None;
        }
        // A handle kept past the response (a spawned task) gets a detached session to write into.
        let detached = self.shared.storage.new_session();
        Some(Changed { session: std::mem::replace(&mut slot.session, detached), replaced: slot.replaced.take() })
    }

    /// Saves `changed` and adds its `Set-Cookie` to `response`; a store failure replaces the response
    /// with the error response.
    pub(crate) async fn save<B: From<String>>(&self, changed: Changed, mut response: Response<B>) -> Response<B> {
        let Changed { mut session, replaced } = changed;
        let storage = &*self.shared.storage;
        let name = storage.config().cookie().get_name();
        let set_cookie = match save_if_changed(storage, &mut session).await {
            Ok(Some(header)) => header,
            Ok(None) => return response,
            Err(error) => return self.shared.error_response(&error),
        };
        let Ok(set_cookie) = HeaderValue::try_from(set_cookie) else {
            let error =
                Error::Encode(format!("the cookie settings of `{name}` make an invalid Set-Cookie header").into());
            return self.shared.error_response(&error);
        };
        response.headers_mut().append(SET_COOKIE, set_cookie);
        tracing::debug!(cookie = name, "session saved");
        if let Some(old) = replaced {
            // The new session is stored and its cookie goes out with this response: failing the request
            // now would lose it. The old entry expires on its own; say so and carry on.
            if let Err(error) = storage.remove_session(&old).await {
                tracing::warn!(cookie = name, error = %error, "could not remove the session replaced by new_session");
            }
        }
        response
    }
}

/// A changed session taken out of its request, to be saved.
pub(crate) struct Changed {
    session: Session,
    replaced: Option<String>,
}

/// The locked session of a request: dereferences to [`session_core::Session`].
///
/// Drop it before the next `.await`: it holds a lock (and the compiler refuses to keep it across an
/// await in an axum handler, which must be `Send`).
pub struct SessionGuard<'a>(MutexGuard<'a, Slot>);

impl Deref for SessionGuard<'_> {
    type Target = Session;

    fn deref(&self) -> &Session {
        &self.0.session
    }
}

impl DerefMut for SessionGuard<'_> {
    fn deref_mut(&mut self) -> &mut Session {
        &mut self.0.session
    }
}

impl std::fmt::Debug for SessionGuard<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.session.fmt(f)
    }
}
