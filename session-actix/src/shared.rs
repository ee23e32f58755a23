//! What every request of one middleware shares: the storage and the app's error response.

use std::any::TypeId;
use std::sync::Arc;

use actix_web::HttpResponse;
use actix_web::http::header::ContentType;
use session_core::{AbstractStorage, Error};

/// The app's error response for a store failure (or any session error a handler returns with `?`).
pub(crate) type ErrorHandler = dyn Fn(&Error) -> HttpResponse + Send + Sync;

pub(crate) struct Shared {
    pub(crate) storage: Arc<dyn AbstractStorage>,
    pub(crate) on_error: Box<ErrorHandler>,
    /// The middleware's tag type (`Session<Tag>`), to tell two middlewares of one route apart.
    pub(crate) tag: TypeId,
}

impl Shared {
    pub(crate) fn cookie_name(&self) -> &str {
        self.storage.config().cookie().name()
    }

    /// The response for a session error: the app's, or a bare 500. The error (with its source chain)
    /// goes to the log, never to the client.
    pub(crate) fn error_response(&self, error: &Error) -> HttpResponse {
        tracing::error!(cookie = self.cookie_name(), error = %error, source = error_chain(error), "session error");
        (self.on_error)(error)
    }
}

/// The causes under `error`, joined: `Redis failed \`GET\`: Connection refused (os error 111)`.
fn error_chain(error: &Error) -> String {
    let mut chain = String::new();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        if !chain.is_empty() {
            chain.push_str(": ");
        }
        chain.push_str(&cause.to_string());
        source = cause.source();
    }
    chain
}

/// A bare 500, the default error response.
pub(crate) fn internal_server_error() -> HttpResponse {
    HttpResponse::InternalServerError().content_type(ContentType::plaintext()).body("Internal Server Error")
}
