//! The actix-web side of the handle: the [`Session`] extractor and the error response of
//! [`SessionError`].

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::StatusCode;
use actix_web::{FromRequest, HttpRequest, HttpResponse, ResponseError};

use crate::handle::{Session, SessionError};

impl<T: 'static> FromRequest for Session<T> {
    type Error = SessionError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        Box::pin(Session::load(request))
    }
}

/// A 500 carrying the error to the middleware, which answers with its error response (a 500 unless
/// the app gave its own) and logs the cause.
impl ResponseError for SessionError {
    fn status_code(&self) -> StatusCode {
        StatusCode::INTERNAL_SERVER_ERROR
    }

    fn error_response(&self) -> HttpResponse {
        self.response()
    }
}
