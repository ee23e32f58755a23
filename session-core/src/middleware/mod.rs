//! For middleware authors: one request's session from cookie in to cookie out, the same for every web
//! framework. An adapter (`session-tower`, `session-actix`) only moves HTTP types in and out:
//!
//! 1. **Cookie in.** The adapter makes a [`RequestSession`] per request and puts it where handlers
//!    find it. Nothing is read yet.
//! 2. **Loaded lazily.** When a handler first asks, [`RequestSession::load`] finds the storage's cookie
//!    in the `Cookie` headers and loads the session, once.
//! 3. **The handler runs**, through [`RequestSession::with`] (one closure at a time, never across an
//!    `.await`), [`reset`](RequestSession::reset) and [`cycle_id`](RequestSession::cycle_id).
//! 4. **Saved if changed.** After the handler, [`RequestSession::finish`] takes the session out if it
//!    must be saved with this response (changed, status below 500), and [`PendingSave::save`] saves it.
//! 5. **Cookie out.** `save` answers the `Set-Cookie` header value to add (none when the session was
//!    removed meanwhile by another request). A response whose handler used the session gets
//!    `Vary: Cookie` ([`vary_cookie`]), one that sets or removes the cookie `Cache-Control: private`
//!    ([`private_cache_control`]), unless the layer was built [without
//!    them](LayerSettings::without_cache_headers).
//!
//! An adapter keeps its layer's [`LayerSettings`] (storage, error response, tag), claims the cookie
//! per request with [`CookieClaims`], and writes its handler-facing handle's methods with
//! [`handle_methods!`], so every framework's handle has the same methods with
//! the same meaning; they fail with a [`HandleError`], which the adapter's error type wraps.

mod cache;
mod claims;
mod csrf;
mod handle;
mod request;
mod settings;

#[doc(inline)]
pub use crate::__handle_methods as handle_methods;
pub use crate::error::describe;
pub use cache::{private_cache_control, vary_cookie};
pub use claims::{ClaimConflict, CookieClaims};
pub use csrf::{CSRF_FIELD, CSRF_HEADER, CsrfConfig};
pub use handle::{HandleError, HandlerFailure};
pub use request::{PendingSave, RequestSession};
pub use settings::{LayerSettings, log_error};

/// A storage that keeps the session's JSON in the cookie as it is, for this module's tests.
#[cfg(test)]
#[derive(Default)]
struct PlainCookie(crate::storage::StorageConfig);

#[cfg(test)]
#[async_trait::async_trait]
impl crate::storage::AbstractStorage for PlainCookie {
    fn config(&self) -> &crate::storage::StorageConfig {
        &self.0
    }
    async fn load_session(&self, cookie: Option<&str>) -> Result<crate::storage::Loaded, crate::Error> {
        Ok(cookie.map_or_else(|| self.new_state(), |text| self.0.open("plain", None, text)).into())
    }
    async fn save_session(
        &self,
        session: &mut crate::SessionState,
        _: crate::storage::Origin,
    ) -> Result<crate::storage::CookieAction, crate::Error> {
        Ok(crate::storage::CookieAction::Set(self.0.encode(session)?))
    }
}
