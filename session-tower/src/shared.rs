//! What every request of one layer shares: the storage and the app's error response.

use std::any::TypeId;
use std::sync::Arc;

use http::{Response, StatusCode};
use session_core::{AbstractStorage, Error};

/// The app's error response for a store failure (or any session error a handler returns with `?`).
pub(crate) type ErrorHandler = dyn Fn(&Error) -> Response<String> + Send + Sync;

pub(crate) struct Shared {
    pub(crate) storage: Arc<dyn AbstractStorage>,
    pub(crate) on_error: Box<ErrorHandler>,
    /// The layer's tag type (`Session<Tag>`), to tell two layers of one route apart.
    pub(crate) tag: TypeId,
}

impl Shared {
    pub(crate) fn cookie_name(&self) -> &str {
        self.storage.config().cookie().name()
    }

    /// The response for a session error: the app's, or a bare 500. The error (with its source chain)
    /// goes to the log, never to the client.
    pub(crate) fn error_response<B: From<String>>(&self, error: &Error) -> Response<B> {
        tracing::error!(cookie = self.cookie_name(), error = %error, source = error_chain(error), "session error");
        (self.on_error)(error).map(B::from)
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

pub(crate) fn internal_server_error<B: From<String>>() -> Response<B> {
    let mut response = Response::new(B::from(String::from("Internal Server Error")));
    *response.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
    response
}
