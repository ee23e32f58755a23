//! What every request of one layer shares: the storage and the app's error response.

use http::{Response, StatusCode};
use session_core::middleware::LayerSettings;

/// The layer's settings; the app's error response is a `Response<String>`, its body mapped to the
/// service's body type.
pub(crate) type Shared = LayerSettings<Response<String>>;

/// A bare 500, the default error response.
pub(crate) fn internal_server_error<B: From<String>>() -> Response<B> {
    let mut response = Response::new(B::from(String::from("Internal Server Error")));
    *response.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
    response
}
