//! What every request of one session layer shares, whatever the framework: the storage, the app's
//! error response and the tag that tells its handle apart from another layer's.

use std::any::{Any, TypeId};
use std::fmt;
use std::sync::Arc;

use super::claims::{ClaimConflict, CookieClaims};
use super::request::{PendingSave, RequestSession};
use crate::error::{Error, describe};
use crate::storage::{AbstractStorage, IntoStorage};

/// The settings of one session layer; `R` is the framework's response type. Cheap to clone; a layer
/// keeps it in an `Arc`, which [`save`](Self::save) takes into the future it answers.
pub struct LayerSettings<R> {
    storage: Arc<dyn AbstractStorage>,
    /// The storage as the type the layer was given.
    typed: Arc<dyn Any + Send + Sync>,
    on_error: Arc<dyn Fn(&Error) -> R + Send + Sync>,
    tag: TypeId,
    cache_headers: bool,
}

impl<R> Clone for LayerSettings<R> {
    fn clone(&self) -> Self {
        LayerSettings {
            storage: Arc::clone(&self.storage),
            typed: Arc::clone(&self.typed),
            on_error: Arc::clone(&self.on_error),
            tag: self.tag,
            cache_headers: self.cache_headers,
        }
    }
}

impl<R> fmt::Debug for LayerSettings<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LayerSettings").field("cookie", &self.cookie_name()).finish_non_exhaustive()
    }
}

impl<R> LayerSettings<R> {
    /// A layer on `storage`, untagged (its handle is `Session<()>`), answering a session error with
    /// `default_response`.
    pub fn new(storage: impl IntoStorage, default_response: impl Fn(&Error) -> R + Send + Sync + 'static) -> Self {
        let (storage, typed) = storage.into_typed();
        LayerSettings {
            storage,
            typed,
            on_error: Arc::new(default_response),
            tag: TypeId::of::<()>(),
            cache_headers: true,
        }
    }

    /// The same layer, reached through the handle tagged `U`.
    pub fn tagged<U: 'static>(&self) -> Self {
        LayerSettings { tag: TypeId::of::<U>(), ..self.clone() }
    }

    /// The same layer, answering a session error with `response` instead.
    pub fn on_error(&self, response: impl Fn(&Error) -> R + Send + Sync + 'static) -> Self {
        LayerSettings { on_error: Arc::new(response), ..self.clone() }
    }

    /// The same layer, adding no `Vary: Cookie` nor `Cache-Control: private`: for an app that sets
    /// its own caching headers on every response that uses the session (no shared cache in front, or
    /// one configured per route).
    pub fn without_cache_headers(&self) -> Self {
        LayerSettings { cache_headers: false, ..self.clone() }
    }

    /// Whether responses get `Vary: Cookie` and `Cache-Control: private` (see
    /// [`vary_cookie`](super::vary_cookie) and [`private_cache_control`](super::private_cache_control)).
    pub fn cache_headers(&self) -> bool {
        self.cache_headers
    }

    /// The storage.
    pub fn storage(&self) -> &Arc<dyn AbstractStorage> {
        &self.storage
    }

    /// The session cookie's name.
    pub fn cookie_name(&self) -> &str {
        self.storage.config().cookie().name()
    }

    /// The tag type's id.
    pub fn tag(&self) -> TypeId {
        self.tag
    }

    /// Claims this layer's cookie and tag on one request (see [`CookieClaims`]).
    pub fn claim(&self, claims: &mut CookieClaims) -> Result<(), ClaimConflict> {
        claims.claim(&self.storage, self.tag)
    }

    /// Step 1 of a request (cookie in): claims this layer's cookie and tag on the request and makes
    /// the request's session slot, which loads nothing yet. `None` when another layer of the route
    /// already claimed them: the conflict is logged, naming the cookie, and the adapter answers 500
    /// rather than let two layers overwrite one cookie.
    pub fn begin(&self, claims: &mut CookieClaims) -> Option<Arc<RequestSession>> {
        if let Err(conflict) = self.claim(claims) {
            tracing::error!(cookie = %conflict.name, "{conflict}");
            return None;
        }
        Some(Arc::new(RequestSession::typed(Arc::clone(&self.storage), Arc::clone(&self.typed))))
    }

    /// Step 5 (cookie out): saves a changed session and hands `respond` its `Set-Cookie` value as the
    /// framework's header type (none when the storage sends no cookie), or the app's error response
    /// (the error logged). The layer's `Arc` and `respond` (which holds the response) go into one
    /// future with the save ([`PendingSave::save_then`]), the one an adapter boxes per request.
    pub fn save<H: TryFrom<String>, T>(
        self: Arc<Self>,
        pending: PendingSave,
        respond: impl FnOnce(Result<Option<H>, R>) -> T,
    ) -> impl Future<Output = T> {
        pending.save_then(move |saved| respond(self.set_cookie_header(saved)))
    }

    fn set_cookie_header<H: TryFrom<String>>(&self, saved: Result<Option<String>, Error>) -> Result<Option<H>, R> {
        let Some(set_cookie) = saved.map_err(|error| self.error_response(&error))? else {
            return Ok(None);
        };
        // Cookie settings are checked when built and values quoted, so this is a broken invariant.
        H::try_from(set_cookie)
            .map(Some)
            .map_err(|_| self.error_response(&Error::Encode("the session cookie is not a valid header".into())))
    }

    /// The app's response to `error`, without logging it.
    pub fn respond(&self, error: &Error) -> R {
        (self.on_error)(error)
    }

    /// The app's response to `error`, which goes to the log (with its causes), never to the client.
    pub fn error_response(&self, error: &Error) -> R {
        log_error(self.cookie_name(), error);
        self.respond(error)
    }
}

/// Logs a session error that a request answers with the app's error response: the error and its
/// causes on one line (they go to the log, never to the client).
pub fn log_error(cookie: &str, error: &Error) {
    tracing::error!(cookie, error = %describe(error), "session error");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::middleware::PlainCookie;

    /// A second layer's tag.
    struct Prefs;

    #[test]
    fn a_tagged_layer_keeps_the_storage_and_its_own_error_response() {
        let main = LayerSettings::new(Arc::new(PlainCookie::default()), |_: &Error| 500);
        let prefs = main.tagged::<Prefs>().on_error(|_: &Error| 503);
        assert!(Arc::ptr_eq(main.storage(), prefs.storage()));
        assert_eq!((main.respond(&Error::NotLoaded), prefs.error_response(&Error::NotLoaded)), (500, 503));
        assert_eq!((main.tag(), prefs.tag()), (TypeId::of::<()>(), TypeId::of::<Prefs>()));
        let mut claims = CookieClaims::default();
        main.claim(&mut claims).unwrap();
        assert!(prefs.claim(&mut claims).is_err(), "the same cookie name on one request");
    }

    #[test]
    fn describe_names_each_cause_once() {
        #[derive(Debug, thiserror::Error)]
        #[error("outer: {0}")]
        struct Repeats(#[source] std::io::Error);
        #[derive(Debug, thiserror::Error)]
        #[error("outer")]
        struct Hides(#[source] std::io::Error);
        let cause = || std::io::Error::other("refused");
        assert_eq!(describe(&Repeats(cause())), "outer: refused");
        assert_eq!(describe(&Hides(cause())), "outer: refused");
    }
}
