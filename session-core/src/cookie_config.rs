//! The session cookie's name and attributes, and the `Set-Cookie` headers made from them.

use std::borrow::Cow;
use std::fmt::Write;

use time::OffsetDateTime;
use time::macros::format_description;

use crate::error::Error;
use crate::quoting::cookie_quote;

/// The `SameSite` attribute: whether the browser sends the cookie with requests from other sites.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SameSite {
    /// Only with requests from this site.
    Strict,
    /// With requests from this site and top-level navigations from others (links), not with other
    /// sites' POSTs, images or frames.
    Lax,
    /// With every request, cross-site included; browsers require `Secure` with it.
    None,
}

impl SameSite {
    fn as_str(self) -> &'static str {
        match self {
            SameSite::Strict => "Strict",
            SameSite::Lax => "Lax",
            SameSite::None => "None",
        }
    }
}

/// The largest `name=value` a cookie may have: browsers keep at least 4096 bytes per cookie and
/// silently drop larger ones (aiohttp-session issue #574), so a larger session is an error at save.
pub const MAX_COOKIE_SIZE: usize = 4096;

/// The last instant `time` can format without its `large-dates` feature (9999-12-31T23:59:59Z).
const LAST_EXPIRES: i64 = 253_402_300_799;

/// The session cookie: its name, its attributes, and the storage's `max_age`.
///
/// Defaults (aiohttp-session's, with one deliberate change):
///
/// | setting | default | why |
/// |---|---|---|
/// | [`name`](Self::name) | `AIOHTTP_SESSION` | aiohttp-session's name, so a Python service on the same site shares the cookie |
/// | [`domain`](Self::domain) | none | a host-only cookie is never sent to sibling subdomains |
/// | [`path`](Self::path) | `/` | the whole site shares one session |
/// | [`secure`](Self::secure) | `false` | plain-HTTP development works out of the box; **turn it on behind HTTPS** |
/// | [`http_only`](Self::http_only) | `true` | page scripts (and XSS) cannot read the cookie |
/// | [`same_site`](Self::same_site) | `Lax` | blocks cross-site POSTs carrying the session (CSRF) while links from other sites still log in; aiohttp sets none |
/// | [`max_age`](Self::max_age) | none | a browser-session cookie; **nothing ever expires** unless you set it |
///
/// ```
/// use session_core::{CookieConfig, SameSite};
///
/// let config = CookieConfig::new().name("SID").secure(true).max_age(Some(3600));
/// let header = config.set_cookie("abc", Some(3600), 1_700_000_000)?;
/// assert_eq!(
///     header,
///     "SID=abc; Expires=Tue, 14 Nov 2023 23:13:20 GMT; HttpOnly; Max-Age=3600; Path=/; SameSite=Lax; Secure"
/// );
/// assert_eq!(config.get_same_site(), Some(SameSite::Lax));
/// # Ok::<(), session_core::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CookieConfig {
    name: Cow<'static, str>,
    domain: Option<String>,
    path: Cow<'static, str>,
    secure: bool,
    http_only: bool,
    same_site: Option<SameSite>,
    max_age: Option<u64>,
}

impl Default for CookieConfig {
    fn default() -> Self {
        CookieConfig {
            name: Cow::Borrowed("AIOHTTP_SESSION"),
            domain: None,
            path: Cow::Borrowed("/"),
            secure: false,
            http_only: true,
            same_site: Some(SameSite::Lax),
            max_age: None,
        }
    }
}

impl CookieConfig {
    /// The defaults of the table above.
    pub fn new() -> Self {
        Self::default()
    }

    /// The cookie name (`cookie_name` in aiohttp-session). Two storages in one app need two names.
    /// Use an RFC 6265 token: letters, digits and `!#$%&'*+-.^_`|~`.
    #[doc(alias = "cookie_name")]
    pub fn name(mut self, name: impl Into<Cow<'static, str>>) -> Self {
        self.name = name.into();
        self
    }

    /// The `Domain` attribute: set it to share the session with subdomains.
    pub fn domain(mut self, domain: impl Into<String>) -> Self {
        self.domain = Some(domain.into());
        self
    }

    /// The `Path` attribute.
    pub fn path(mut self, path: impl Into<Cow<'static, str>>) -> Self {
        self.path = path.into();
        self
    }

    /// The `Secure` attribute. **Leaving it off lets the cookie travel over plain HTTP**, where anyone on
    /// the network can copy the session; turn it on for every deployment served over HTTPS.
    pub fn secure(mut self, secure: bool) -> Self {
        self.secure = secure;
        self
    }

    /// The `HttpOnly` attribute. **Turning it off lets page scripts read the session cookie**, so one
    /// cross-site scripting bug hands the session to an attacker.
    #[doc(alias = "httponly")]
    pub fn http_only(mut self, http_only: bool) -> Self {
        self.http_only = http_only;
        self
    }

    /// The `SameSite` attribute, or `None` to send none (aiohttp-session's default).
    /// **`SameSite::None` sends the cookie on cross-site requests** (CSRF exposure) and browsers only
    /// accept it with `Secure`, which is then added for you unless `secure` was set explicitly.
    #[doc(alias = "samesite")]
    pub fn same_site(mut self, same_site: impl Into<Option<SameSite>>) -> Self {
        self.same_site = same_site.into();
        self
    }

    /// The storage's `max_age` in seconds: the idle timeout checked when a session loads (and the
    /// Fernet TTL), and the default lifetime written with each session. **Without it a session never
    /// expires**: a stolen cookie of a cookie storage stays valid forever.
    #[doc(alias = "expires", alias = "ttl")]
    pub fn max_age(mut self, max_age: Option<u64>) -> Self {
        self.max_age = max_age;
        self
    }

    /// The cookie name.
    pub fn get_name(&self) -> &str {
        &self.name
    }

    /// The `Domain` attribute.
    pub fn get_domain(&self) -> Option<&str> {
        self.domain.as_deref()
    }

    /// The `Path` attribute.
    pub fn get_path(&self) -> &str {
        &self.path
    }

    /// Whether `Secure` is sent.
    pub fn is_secure(&self) -> bool {
        self.secure
    }

    /// Whether `HttpOnly` is sent.
    pub fn is_http_only(&self) -> bool {
        self.http_only
    }

    /// The `SameSite` attribute.
    pub fn get_same_site(&self) -> Option<SameSite> {
        self.same_site
    }

    /// The storage's `max_age`.
    pub fn get_max_age(&self) -> Option<u64> {
        self.max_age
    }

    /// The `Set-Cookie` header value that stores `value`, quoted the Python way, with `Max-Age` and
    /// `Expires` (now + `max_age`) when the session's `max_age` is set. Attributes come in the order
    /// Python's `http.cookies` writes them.
    ///
    /// Fails with [`Error::CookieTooLarge`] when `name=value` would exceed [`MAX_COOKIE_SIZE`].
    pub fn set_cookie(&self, value: &str, max_age: Option<u64>, now: i64) -> Result<String, Error> {
        let value = cookie_quote(value);
        let size = self.name.len() + 1 + value.len();
        if size > MAX_COOKIE_SIZE {
            return Err(Error::CookieTooLarge { size, limit: MAX_COOKIE_SIZE });
        }
        let lifetime = max_age.map(|max_age| {
            let seconds = i64::try_from(max_age).unwrap_or(i64::MAX);
            (seconds, unix_time(now.saturating_add(seconds)))
        });
        Ok(self.render(&value, lifetime))
    }

    /// The `Set-Cookie` header value that deletes the cookie: empty value, `Max-Age=0`, `Expires` in
    /// 1970, the same `Path` and `Domain` (and, unlike aiohttp, the same `HttpOnly`, `SameSite` and
    /// `Secure`, so browsers do not warn about it).
    ///
    /// ```
    /// let header = session_core::CookieConfig::new().removal_cookie();
    /// assert_eq!(
    ///     header,
    ///     r#"AIOHTTP_SESSION=""; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; Max-Age=0; Path=/; SameSite=Lax"#
    /// );
    /// ```
    pub fn removal_cookie(&self) -> String {
        self.render("\"\"", Some((0, OffsetDateTime::UNIX_EPOCH)))
    }

    /// `name=value` and the attributes, in the order Python's `Morsel.OutputString` writes them.
    fn render(&self, value: &str, lifetime: Option<(i64, OffsetDateTime)>) -> String {
        let mut header = String::with_capacity(self.name.len() + value.len() + 128);
        header.push_str(&self.name);
        header.push('=');
        header.push_str(value);
        if let Some(domain) = &self.domain {
            header.push_str("; Domain=");
            header.push_str(domain);
        }
        if let Some((_, expires)) = lifetime {
            header.push_str("; Expires=");
            // An HTTP-date; the clamp in `unix_time` keeps it formattable.
            let format = format_description!(
                "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
            );
            let _ = expires.format_into(&mut StringWriter(&mut header), &format);
        }
        if self.http_only {
            header.push_str("; HttpOnly");
        }
        if let Some((max_age, _)) = lifetime {
            let _ = write!(header, "; Max-Age={max_age}");
        }
        header.push_str("; Path=");
        header.push_str(&self.path);
        if let Some(same_site) = self.same_site {
            header.push_str("; SameSite=");
            header.push_str(same_site.as_str());
        }
        // Browsers refuse `SameSite=None` without `Secure`.
        if self.secure || self.same_site == Some(SameSite::None) {
            header.push_str("; Secure");
        }
        header
    }
}

/// `io::Write` into a `String`, for `time`'s formatter (which only writes ASCII here).
struct StringWriter<'a>(&'a mut String);

impl std::io::Write for StringWriter<'_> {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.push_str(std::str::from_utf8(bytes).map_err(std::io::Error::other)?);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// `unix_seconds` as a date `Expires` can carry, clamped to what HTTP dates can express.
fn unix_time(unix_seconds: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(unix_seconds.clamp(0, LAST_EXPIRES)).unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: i64 = 1_700_000_000;

    #[test]
    fn defaults_are_httponly_path_root_lax() {
        let header = CookieConfig::new().set_cookie("abc", None, T).unwrap();
        assert_eq!(header, "AIOHTTP_SESSION=abc; HttpOnly; Path=/; SameSite=Lax");
    }

    #[test]
    fn python_vector_v2_is_written_as_python_writes_it() {
        // V2 of the reference study, written by aiohttp-session with SameSite=Lax.
        let config = CookieConfig::new()
            .max_age(Some(3600))
            .domain("example.com")
            .path("/app")
            .secure(true)
            .same_site(SameSite::Lax);
        let payload = r#"{"created": 1700000000, "session": {"user": "alice", "n": 42}}"#;
        let ours = config.set_cookie(payload, Some(3600), T).unwrap();
        let python = r#"AIOHTTP_SESSION="{\"created\": 1700000000\054 \"session\": {\"user\": \"alice\"\054 \"n\": 42}}"; Domain=example.com; expires=Tue, 14-Nov-2023 23:13:20 GMT; HttpOnly; Max-Age=3600; Path=/app; SameSite=Lax; Secure"#;
        // Python writes `expires=Tue, 14-Nov-2023 …`; both are dates RFC 6265 reads, of the same instant.
        assert_eq!(ours, python.replace("expires=Tue, 14-Nov-2023", "Expires=Tue, 14 Nov 2023"));
    }

    #[test]
    fn every_attribute_follows_the_config() {
        let config = CookieConfig::new().name("SID").http_only(false).same_site(None).path("/p").domain("d.example");
        assert_eq!(config.set_cookie("v", None, T).unwrap(), "SID=v; Domain=d.example; Path=/p");
        let strict = CookieConfig::new().same_site(SameSite::Strict);
        assert!(strict.set_cookie("v", None, T).unwrap().contains("SameSite=Strict"));
    }

    #[test]
    fn same_site_none_adds_secure() {
        let header = CookieConfig::new().same_site(SameSite::None).set_cookie("v", None, T).unwrap();
        assert!(header.contains("SameSite=None") && header.contains("Secure"));
    }

    #[test]
    fn removal_keeps_path_and_domain() {
        let config = CookieConfig::new().domain("example.com").path("/app").max_age(Some(3600));
        let header = config.removal_cookie();
        assert!(header.starts_with("AIOHTTP_SESSION=\"\"; "));
        for part in ["Max-Age=0", "Expires=Thu, 01 Jan 1970 00:00:00 GMT", "Path=/app", "Domain=example.com"] {
            assert!(header.contains(part), "{header} lacks {part}");
        }
    }

    #[test]
    fn size_guard_counts_name_and_quoted_value() {
        let config = CookieConfig::new().name("n");
        let fits = "a".repeat(MAX_COOKIE_SIZE - 2);
        assert!(config.set_cookie(&fits, None, T).is_ok());
        let too_big = "a".repeat(MAX_COOKIE_SIZE - 1);
        assert!(matches!(config.set_cookie(&too_big, None, T), Err(Error::CookieTooLarge { size: 4097, limit: 4096 })));
        // Quoting counts: 2000 commas become 8000 bytes.
        assert!(config.set_cookie(&",".repeat(2000), None, T).is_err());
    }

    #[test]
    fn huge_max_age_is_clamped_not_a_panic() {
        let header = CookieConfig::new().set_cookie("v", Some(u64::MAX), T).unwrap();
        assert!(header.contains(&format!("Max-Age={}", i64::MAX)));
        assert!(header.contains("Expires=Fri, 31 Dec 9999 23:59:59 GMT"));
        let past = CookieConfig::new().set_cookie("v", Some(0), i64::MIN).unwrap();
        assert!(past.contains("Max-Age=0"));
    }

    #[test]
    fn values_cannot_inject_attributes() {
        let header = CookieConfig::new().set_cookie("x; Domain=evil\r\nSet-Cookie: a=b", None, T).unwrap();
        assert!(!header.contains(['\r', '\n']));
        assert_eq!(header.matches("; ").count(), 3, "only HttpOnly, SameSite and Path follow: {header}");
    }
}
