//! The axum side: the [`Session`] extractor and the error response of [`SessionError`].

use axum_core::extract::FromRequestParts;
use axum_core::response::{IntoResponse, Response};
use http::request::Parts;

use crate::handle::{Session, SessionError};

impl<S, T> FromRequestParts<S> for Session<T>
where
    S: Send + Sync,
    T: 'static,
{
    type Rejection = SessionError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Session::load(&parts.extensions, &parts.headers).await
    }
}

/// The layer's error response (a 500 unless the app gave its own); the cause is logged.
impl IntoResponse for SessionError {
    fn into_response(self) -> Response {
        self.into_http_response()
    }
}
