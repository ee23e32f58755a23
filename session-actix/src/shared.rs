//! What every request of one middleware shares: the storage and the app's error response.

use actix_web::HttpResponse;
use actix_web::http::header::ContentType;
use session_core::middleware::LayerSettings;

/// The middleware's settings.
pub(crate) type Shared = LayerSettings<HttpResponse>;

/// A bare 500, the default error response.
pub(crate) fn internal_server_error() -> HttpResponse {
    HttpResponse::InternalServerError().content_type(ContentType::plaintext()).body("Internal Server Error")
}
