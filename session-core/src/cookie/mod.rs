//! The session cookie: its settings ([`CookieConfig`]), finding it in a request ([`find_cookie`]), and
//! the value quoting Python's `http.cookies` uses ([`quote`], [`unquote`]). Middleware authors use the
//! last three; applications only build a `CookieConfig`.

mod config;
mod header;
mod quoting;

pub use config::{CookieConfig, CookieConfigBuilder, CookieError, CookieLifetime, MAX_COOKIE_SIZE};
pub use cookie::SameSite;
pub use header::find_cookie;
pub(crate) use quoting::is_legal;
pub use quoting::{quote, unquote};
