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

/// The middleware's error response (a 500 unless the app gave its own); the cause is logged.
impl ResponseError for SessionError {
    fn status_code(&self) -> StatusCode {
        self.status()
    }

    fn error_response(&self) -> HttpResponse {
        self.response()
    }
}
