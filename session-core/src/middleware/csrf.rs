//! Which requests a CSRF guard checks and where it finds their token: the rules a framework adapter's
//! CSRF layer applies, written once. The token itself is the session's
//! ([`SessionState::csrf_token`](crate::SessionState::csrf_token)).

/// The CSRF guard's settings: which header and which form field carry the token, which paths are
/// exempt, and how much of a form body is read to find it.
///
/// Requests whose method is safe (`GET`, `HEAD`, `OPTIONS`, `TRACE`) pass; every other one (`POST`,
/// `PUT`, `PATCH`, `DELETE`, …) must carry one of its session's tokens in the header
/// (`X-CSRF-Token`), or, in an `application/x-www-form-urlencoded` body, in the field (`csrf_token`),
/// or it is answered 403.
///
/// ```
/// use session_core::middleware::CsrfConfig;
///
/// let config = CsrfConfig::new().exempt("/webhooks").with_field("_token");
/// assert!(config.checks("POST", "/account/delete"));
/// assert!(!config.checks("GET", "/account"));
/// assert!(!config.checks("POST", "/webhooks/stripe"));
/// assert_eq!(config.token_in_form(b"name=x&_token=abc").as_deref(), Some("abc"));
/// ```
#[derive(Clone, Debug)]
pub struct CsrfConfig {
    header: String,
    field: String,
    exempt: Vec<String>,
    form_limit: usize,
}

/// The default header.
pub const CSRF_HEADER: &str = "x-csrf-token";
/// The default form field.
pub const CSRF_FIELD: &str = "csrf_token";

impl Default for CsrfConfig {
    fn default() -> Self {
        CsrfConfig {
            header: CSRF_HEADER.to_owned(),
            field: CSRF_FIELD.to_owned(),
            exempt: Vec::new(),
            form_limit: 64 * 1024,
        }
    }
}

impl CsrfConfig {
    /// The defaults: header `X-CSRF-Token`, field `csrf_token`, no exempt path, forms read up to 64 KiB.
    pub fn new() -> Self {
        Self::default()
    }

    /// Reads the token from the header `name` instead (case does not matter).
    pub fn with_header(mut self, name: impl Into<String>) -> Self {
        self.header = name.into().to_ascii_lowercase();
        self
    }

    /// Reads the token from the form field `name` instead.
    pub fn with_field(mut self, name: impl Into<String>) -> Self {
        self.field = name.into();
        self
    }

    /// Lets `path` and everything under it (`/webhooks` exempts `/webhooks/stripe`) through unchecked:
    /// for callers that are not browsers and authenticate otherwise.
    pub fn exempt(mut self, path: impl Into<String>) -> Self {
        self.exempt.push(path.into().trim_end_matches('/').to_owned());
        self
    }

    /// Reads at most `bytes` of a form body to find the token; a longer form without the header is
    /// refused.
    pub fn with_form_limit(mut self, bytes: usize) -> Self {
        self.form_limit = bytes;
        self
    }

    /// The header that carries the token, lowercase.
    pub fn header(&self) -> &str {
        &self.header
    }

    /// The form field that carries the token.
    pub fn field(&self) -> &str {
        &self.field
    }

    /// The most of a form body read to find the token.
    pub fn form_limit(&self) -> usize {
        self.form_limit
    }

    /// Whether a request with `method` to `path` must carry a token: an unsafe method on a path that
    /// is not exempt.
    pub fn checks(&self, method: &str, path: &str) -> bool {
        let safe = matches!(method, "GET" | "HEAD" | "OPTIONS" | "TRACE");
        let exempt = self.exempt.iter().any(|prefix| {
            path.strip_prefix(prefix.as_str()).is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
        });
        !safe && !exempt
    }

    /// Whether a body of this `Content-Type` is a form the token may be read from.
    pub fn is_form(content_type: Option<&[u8]>) -> bool {
        content_type.is_some_and(|value| {
            let essence = value.split(|&b| b == b';').next().unwrap_or_default();
            essence.trim_ascii().eq_ignore_ascii_case(b"application/x-www-form-urlencoded")
        })
    }

    /// The token in a form body, if its field is there.
    pub fn token_in_form(&self, body: &[u8]) -> Option<String> {
        form_urlencoded::parse(body).find(|(name, _)| name == &self.field).map(|(_, value)| value.into_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unsafe_methods_are_checked_unless_exempt() {
        let config = CsrfConfig::new().exempt("/hooks/");
        for method in ["POST", "PUT", "PATCH", "DELETE", "PROPFIND"] {
            assert!(config.checks(method, "/form"), "{method}");
        }
        for method in ["GET", "HEAD", "OPTIONS", "TRACE"] {
            assert!(!config.checks(method, "/form"), "{method}");
        }
        assert!(!config.checks("POST", "/hooks") && !config.checks("POST", "/hooks/a/b"));
        assert!(config.checks("POST", "/hooksmith"), "a prefix of a segment is not the path");
    }

    #[test]
    fn forms_are_recognised_by_their_media_type() {
        for form in [&b"application/x-www-form-urlencoded"[..], b"Application/X-WWW-Form-URLEncoded; charset=UTF-8"] {
            assert!(CsrfConfig::is_form(Some(form)));
        }
        for other in [&b"multipart/form-data; boundary=x"[..], b"application/json", b""] {
            assert!(!CsrfConfig::is_form(Some(other)));
        }
        assert!(!CsrfConfig::is_form(None));
    }

    #[test]
    fn names_and_limit_are_the_configured_ones() {
        let defaults = CsrfConfig::new();
        assert_eq!((defaults.header(), defaults.field(), defaults.form_limit()), (CSRF_HEADER, CSRF_FIELD, 65_536));
        let config = CsrfConfig::new().with_field("_token").with_header("X-Token").with_form_limit(512);
        assert_eq!((config.header(), config.field(), config.form_limit()), ("x-token", "_token", 512));
        assert_eq!(config.token_in_form(b"csrf_token=old&_token=new").as_deref(), Some("new"));
    }

    #[test]
    fn the_token_is_read_decoded_from_its_field() {
        let config = CsrfConfig::new();
        assert_eq!(config.token_in_form(b"a=1&csrf_token=a%2Bb+c").as_deref(), Some("a+b c"));
        assert_eq!(config.token_in_form(b"a=1&csrf_tokens=x"), None);
        assert_eq!(CsrfConfig::new().with_header("X-Token").header(), "x-token");
    }
}
