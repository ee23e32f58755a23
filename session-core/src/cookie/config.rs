//! The session cookie's name and attributes, validated once when built, and the `Set-Cookie` headers
//! made from them.

use std::time::Duration;

use cookie::{Cookie, SameSite};
use time::OffsetDateTime;
use time::macros::format_description;

use crate::cookie::quoting::Quoted;
use crate::error::Error;

/// The largest `name=value` a cookie may have: browsers keep at least 4096 bytes per cookie and
/// silently drop larger ones, so a larger session is an error at save time instead.
pub const MAX_COOKIE_SIZE: usize = 4096;

/// The last instant `time` can format without its `large-dates` feature (9999-12-31T23:59:59Z).
const LAST_EXPIRES: i64 = 253_402_300_799;

/// The length of an HTTP-date with a four-digit year, `Thu, 01 Jan 1970 00:00:00 GMT`: every
/// `Expires` between 1970 and [`LAST_EXPIRES`].
const HTTP_DATE_LEN: usize = 29;

/// Why a cookie configuration was refused. Every case names the cookie, so a start-up error says
/// which one is wrong.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CookieError {
    /// The name is not an RFC 6265 token.
    #[error("invalid cookie name {name:?}: {reason}")]
    Name {
        /// The name as given.
        name: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The `Domain` attribute is not a host name.
    #[error("cookie {name:?}: invalid domain {domain:?}: {reason}")]
    Domain {
        /// The cookie's name.
        name: String,
        /// The domain as given.
        domain: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The `Path` attribute cannot be sent.
    #[error("cookie {name:?}: invalid path {path:?}: {reason}")]
    Path {
        /// The cookie's name.
        name: String,
        /// The path as given.
        path: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The attributes break a rule browsers enforce (a `__Host-` prefix without `Secure`, say), so the
    /// browser would drop the cookie.
    #[error("cookie {name:?}: {rule}")]
    Rule {
        /// The cookie's name.
        name: String,
        /// The rule that is broken.
        rule: &'static str,
    },
}

/// A bad cookie setting where a session [`Error`](crate::Error) is expected: `?` in a handler or a `main`
/// that returns one.
impl From<CookieError> for crate::Error {
    fn from(error: CookieError) -> Self {
        crate::Error::Config(Box::new(error))
    }
}

/// How long a cookie written now lasts: `Max-Age` is `max_age`, `Expires` is `now` (Unix seconds)
/// plus `max_age`. The moment comes with the age, so it is read only when there is one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CookieLifetime {
    /// How long the browser keeps the cookie (whole seconds).
    pub max_age: Duration,
    /// The moment of writing.
    pub now: i64,
}

/// The session cookie: its name and attributes. Build it with [`CookieConfig::builder`]; every
/// setting is checked once, there, so a request never sends a broken `Set-Cookie`.
///
/// Defaults, and why:
///
/// | setting | default | why |
/// |---|---|---|
/// | [`name`](CookieConfigBuilder::name) | `AIOHTTP_SESSION` | aiohttp-session's name, so a Python service on the same site shares the cookie |
/// | [`domain`](CookieConfigBuilder::domain) | none | a host-only cookie is never sent to sibling subdomains |
/// | [`path`](CookieConfigBuilder::path) | `/` | the whole site shares one session |
/// | [`secure`](CookieConfigBuilder::secure) | `true` | the cookie never travels over plain HTTP, where anyone on the network could copy the session; aiohttp-session leaves it off |
/// | [`http_only`](CookieConfigBuilder::http_only) | `true` | page scripts (and XSS) cannot read the cookie |
/// | [`same_site`](CookieConfigBuilder::same_site) | `Lax` | blocks cross-site POSTs carrying the session (CSRF) while links from other sites still log in; aiohttp sets none |
/// | [`partitioned`](CookieConfigBuilder::partitioned) | `false` | only third-party embeds need a partitioned (CHIPS) cookie |
///
/// The unchanging part of the `Set-Cookie` header is rendered once, by the `cookie` crate, when the
/// configuration is built; a request only adds the value and the lifetime.
///
/// ```
/// use std::time::Duration;
///
/// use session_core::cookie::{CookieConfig, CookieLifetime, SameSite};
///
/// let config = CookieConfig::builder().name("SID").same_site(SameSite::Strict).build()?;
/// assert_eq!(config.name(), "SID");
/// let lifetime = CookieLifetime { max_age: Duration::from_secs(3600), now: 1_700_000_000 };
/// let header = config.set_cookie("abc", Some(lifetime))?;
/// assert_eq!(
///     header,
///     "SID=abc; Max-Age=3600; Expires=Tue, 14 Nov 2023 23:13:20 GMT; HttpOnly; SameSite=Strict; Secure; Path=/"
/// );
///
/// let bad = CookieConfig::builder().name("bad name;x").build().unwrap_err();
/// assert!(bad.to_string().starts_with(r#"invalid cookie name "bad name;x""#));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CookieConfig {
    name: String,
    domain: Option<String>,
    path: String,
    secure: bool,
    http_only: bool,
    same_site: Option<SameSite>,
    partitioned: bool,
    /// `; HttpOnly; SameSite=Lax; Secure; Path=/…`: every attribute but the lifetime, rendered once.
    attributes: String,
    /// The whole `Set-Cookie` value that deletes the cookie, rendered once.
    removal: String,
}

/// Builds a [`CookieConfig`]; [`build`](Self::build) checks it.
#[derive(Clone, Debug)]
#[must_use]
pub struct CookieConfigBuilder {
    name: String,
    domain: Option<String>,
    path: String,
    secure: bool,
    http_only: bool,
    same_site: Option<SameSite>,
    partitioned: bool,
}

impl Default for CookieConfigBuilder {
    fn default() -> Self {
        CookieConfigBuilder {
            name: "AIOHTTP_SESSION".to_owned(),
            domain: None,
            path: "/".to_owned(),
            secure: true,
            http_only: true,
            same_site: Some(SameSite::Lax),
            partitioned: false,
        }
    }
}

impl CookieConfigBuilder {
    /// The cookie name (`cookie_name` in aiohttp-session): an RFC 6265 token, i.e. letters, digits and
    /// ``!#$%&'*+-.^_`|~``. Two storages in one app need two names. A `__Host-` prefix asks the browser
    /// to accept the cookie only with `Secure`, `Path=/` and no `Domain`; `__Secure-`, only with
    /// `Secure`.
    #[doc(alias = "cookie_name")]
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// The `Domain` attribute: set it to share the session with subdomains.
    pub fn domain(mut self, domain: impl Into<String>) -> Self {
        self.domain = Some(domain.into());
        self
    }

    /// The `Path` attribute; it must start with `/`.
    pub fn path(mut self, path: impl Into<String>) -> Self {
        self.path = path.into();
        self
    }

    /// The `Secure` attribute, on by default. **Turning it off lets the cookie travel over plain
    /// HTTP**, where anyone on the network can copy the session: do it only for local development
    /// over `http://127.0.0.1`.
    pub fn secure(mut self, secure: bool) -> Self {
        self.secure = secure;
        self
    }

    /// The `HttpOnly` attribute, on by default. **Turning it off lets page scripts read the session
    /// cookie**, so one cross-site scripting bug hands the session to an attacker.
    #[doc(alias = "httponly")]
    pub fn http_only(mut self, http_only: bool) -> Self {
        self.http_only = http_only;
        self
    }

    /// The `SameSite` attribute, or `None` to send none (aiohttp-session's default).
    /// **`SameSite::None` sends the cookie with cross-site requests** (CSRF exposure); browsers accept
    /// it only with `Secure`, so it cannot be combined with `secure(false)`.
    #[doc(alias = "samesite")]
    pub fn same_site(mut self, same_site: impl Into<Option<SameSite>>) -> Self {
        self.same_site = same_site.into();
        self
    }

    /// The `Partitioned` attribute (CHIPS): the browser keeps a separate cookie per top-level site, for
    /// an app embedded in other sites. It requires `Secure`.
    pub fn partitioned(mut self, partitioned: bool) -> Self {
        self.partitioned = partitioned;
        self
    }

    /// The configuration, or why a browser would refuse or mangle such a cookie.
    pub fn build(self) -> Result<CookieConfig, CookieError> {
        let CookieConfigBuilder { name, domain, path, secure, http_only, same_site, partitioned } = self;
        check_name(&name)?;
        if let Some(domain) = &domain {
            check_domain(domain).map_err(|reason| CookieError::Domain {
                name: name.clone(),
                domain: domain.clone(),
                reason,
            })?;
        }
        check_path(&path).map_err(|reason| CookieError::Path { name: name.clone(), path: path.clone(), reason })?;
        let rule = |rule| CookieError::Rule { name: name.clone(), rule };
        let prefixed = |prefix: &str| name.get(..prefix.len()).is_some_and(|head| head.eq_ignore_ascii_case(prefix));
        if prefixed("__Host-") {
            if !secure {
                return Err(rule("a `__Host-` cookie needs `Secure`"));
            }
            if path != "/" {
                return Err(rule("a `__Host-` cookie needs `Path=/`"));
            }
            if domain.is_some() {
                return Err(rule("a `__Host-` cookie cannot have a `Domain`"));
            }
        }
        if prefixed("__Secure-") && !secure {
            return Err(rule("a `__Secure-` cookie needs `Secure`"));
        }
        if same_site == Some(SameSite::None) && !secure {
            return Err(rule("`SameSite=None` needs `Secure` (browsers drop such a cookie otherwise)"));
        }
        if partitioned && !secure {
            return Err(rule("a `Partitioned` cookie needs `Secure`"));
        }
        Ok(CookieConfig::render(name, domain, path, secure, http_only, same_site, partitioned))
    }
}

impl Default for CookieConfig {
    fn default() -> Self {
        let CookieConfigBuilder { name, domain, path, secure, http_only, same_site, partitioned } =
            CookieConfigBuilder::default();
        CookieConfig::render(name, domain, path, secure, http_only, same_site, partitioned)
    }
}

impl CookieConfig {
    /// A builder starting from the defaults of the table above.
    pub fn builder() -> CookieConfigBuilder {
        CookieConfigBuilder::default()
    }

    /// A builder holding this configuration, to change some of it.
    pub fn to_builder(&self) -> CookieConfigBuilder {
        CookieConfigBuilder {
            name: self.name.clone(),
            domain: self.domain.clone(),
            path: self.path.clone(),
            secure: self.secure,
            http_only: self.http_only,
            same_site: self.same_site,
            partitioned: self.partitioned,
        }
    }

    /// Renders the unchanging attributes with the `cookie` crate, once.
    fn render(
        name: String,
        domain: Option<String>,
        path: String,
        secure: bool,
        http_only: bool,
        same_site: Option<SameSite>,
        partitioned: bool,
    ) -> Self {
        let mut cookie = Cookie::build((name.clone(), ""))
            .path(path.clone())
            .secure(secure)
            .http_only(http_only)
            .partitioned(partitioned);
        if let Some(domain) = &domain {
            cookie = cookie.domain(domain.clone());
        }
        if let Some(same_site) = same_site {
            cookie = cookie.same_site(same_site);
        }
        let whole = cookie.build().to_string();
        // `name=` comes first; the rest is the attributes, each led by "; ".
        let attributes = whole.get(name.len() + 1..).unwrap_or_default().to_owned();
        let removal = format!("{name}=\"\"; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT{attributes}");
        CookieConfig { name, domain, path, secure, http_only, same_site, partitioned, attributes, removal }
    }

    /// The cookie name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The `Domain` attribute.
    pub fn domain(&self) -> Option<&str> {
        self.domain.as_deref()
    }

    /// The `Path` attribute.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// Whether `Secure` is sent.
    pub fn secure(&self) -> bool {
        self.secure
    }

    /// Whether `HttpOnly` is sent.
    pub fn http_only(&self) -> bool {
        self.http_only
    }

    /// The `SameSite` attribute.
    pub fn same_site(&self) -> Option<SameSite> {
        self.same_site
    }

    /// Whether `Partitioned` is sent.
    pub fn partitioned(&self) -> bool {
        self.partitioned
    }

    /// The `Set-Cookie` header value that stores `value`, quoted the Python way, with `Max-Age` and
    /// `Expires` when a `lifetime` is given; without it the cookie lasts until the browser closes.
    ///
    /// Fails with [`Error::CookieTooLarge`] when `name=value` would exceed [`MAX_COOKIE_SIZE`].
    pub fn set_cookie(&self, value: &str, lifetime: Option<CookieLifetime>) -> Result<String, Error> {
        let quoted = Quoted::new(value);
        // The header's exact length, so that it is written once and becomes the response's header
        // value without another allocation: `bytes` boxes a shared count for a `Vec` with room to spare
        // (a `malloc`, a `free` and an atomic decrement on every save).
        let mut digits = itoa::Buffer::new();
        // `Max-Age` as text, and the instant it ends at.
        let lifetime = match lifetime {
            Some(CookieLifetime { max_age, now }) => {
                let seconds = i64::try_from(max_age.as_secs()).unwrap_or(i64::MAX);
                Some((digits.format(seconds), now.saturating_add(seconds)))
            }
            None => None,
        };
        let lifetime_len =
            lifetime.map_or(0, |(max_age, _)| "; Max-Age=".len() + max_age.len() + "; Expires=".len() + HTTP_DATE_LEN);
        let mut header =
            String::with_capacity(self.name.len() + 1 + quoted.len() + lifetime_len + self.attributes.len());
        header.push_str(&self.name);
        header.push('=');
        quoted.push_to(&mut header);
        let size = header.len();
        if size > MAX_COOKIE_SIZE {
            return Err(Error::CookieTooLarge { size, limit: MAX_COOKIE_SIZE });
        }
        if let Some((max_age, ends)) = lifetime {
            header.push_str("; Max-Age=");
            header.push_str(max_age);
            header.push_str("; Expires=");
            // An HTTP-date; the clamp keeps it within what `time` formats.
            let expires =
                OffsetDateTime::from_unix_timestamp(ends.clamp(0, LAST_EXPIRES)).unwrap_or(OffsetDateTime::UNIX_EPOCH);
            let format = format_description!(
                "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
            );
            let _ = expires.format_into(&mut StringWriter(&mut header), &format);
        }
        header.push_str(&self.attributes);
        Ok(header)
    }

    /// The `Set-Cookie` header value that deletes the cookie: empty value, `Max-Age=0`, `Expires` in
    /// 1970, and the same attributes (the same `Path` and `Domain`, or the browser keeps the cookie).
    ///
    /// ```
    /// let config = session_core::CookieConfig::default();
    /// let header = config.removal_cookie();
    /// assert_eq!(
    ///     header,
    ///     r#"AIOHTTP_SESSION=""; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; SameSite=Lax; Secure; Path=/"#
    /// );
    /// ```
    pub fn removal_cookie(&self) -> &str {
        &self.removal
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

/// RFC 6265's cookie-name: an RFC 2616 token.
fn check_name(name: &str) -> Result<(), CookieError> {
    let refuse = |reason| Err(CookieError::Name { name: name.to_owned(), reason });
    if name.is_empty() {
        return refuse("a cookie name cannot be empty");
    }
    let token = |b: u8| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b);
    if !name.bytes().all(token) {
        return refuse("a cookie name may only hold letters, digits and !#$%&'*+-.^_`|~");
    }
    Ok(())
}

/// A host name (an optional leading dot, which browsers ignore, then labels of letters, digits and
/// hyphens) or an IPv4 address.
fn check_domain(domain: &str) -> Result<(), &'static str> {
    let host = domain.strip_prefix('.').unwrap_or(domain);
    if host.is_empty() || host.len() > 253 {
        return Err("a domain must be a host name of 1 to 253 characters");
    }
    let label_ok = |label: &str| {
        (1..=63).contains(&label.len())
            && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && !label.starts_with('-')
            && !label.ends_with('-')
    };
    if !host.split('.').all(label_ok) {
        return Err("a domain may only hold letters, digits, hyphens and dots between labels");
    }
    Ok(())
}

/// RFC 6265's path-value (no control characters, no `;`), starting with `/` as browsers require.
fn check_path(path: &str) -> Result<(), &'static str> {
    if !path.starts_with('/') {
        return Err("a path must start with `/`");
    }
    if path.chars().any(|c| c.is_control() || c == ';') {
        return Err("a path cannot hold `;` or control characters");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: i64 = 1_700_000_000;

    fn attributes(header: &str) -> Vec<&str> {
        let mut parts: Vec<&str> = header.split("; ").collect();
        parts.sort_unstable();
        parts
    }

    /// A header written to its exact length becomes a header value without a second allocation.
    #[test]
    fn a_token_header_is_allocated_at_its_exact_length() {
        let config = CookieConfig::builder().domain("example.com").build().unwrap();
        let token = "gAAAAABrEUBc0Upp4P5C1Z_uOofaVIVdDy61G4UycRIhS2WTNvlyh86yINGY9I2BDLOHj6iQkrYtC2Wxs_kMvej==";
        let json = concat!(r#"{"a": 1, "b": "é\\", "c": "→Ā"#, "\u{7f}", r#""}"#);
        for value in [token, "abc", "a b", "", json, "a,b;c"] {
            for max_age in [None, Some(0), Some(9), Some(3600), Some(u64::MAX)] {
                let lifetime = max_age.map(|seconds| CookieLifetime { max_age: Duration::from_secs(seconds), now: T });
                let header = config.set_cookie(value, lifetime).unwrap();
                assert_eq!(header.capacity(), header.len(), "{header}");
            }
        }
        let escaped = config.set_cookie("a,b;c", None).unwrap();
        assert_eq!(
            escaped,
            r#"AIOHTTP_SESSION="a\054b\073c"; HttpOnly; SameSite=Lax; Secure; Path=/; Domain=example.com"#
        );
    }

    #[test]
    fn defaults_are_secure_httponly_path_root_lax() {
        let header = CookieConfig::default().set_cookie("abc", None).unwrap();
        assert_eq!(header, "AIOHTTP_SESSION=abc; HttpOnly; SameSite=Lax; Secure; Path=/");
    }

    #[test]
    fn the_python_cookie_carries_the_same_attributes() {
        // What aiohttp-session 2.12 writes for this configuration (payload cookie, max_age 3600 at T);
        // the attributes come in another order and Python spells the date `14-Nov-2023`, which
        // RFC 6265 reads as the same instant.
        let config = CookieConfig::builder().domain("example.com").path("/app").build().unwrap();
        let payload = r#"{"created": 1700000000, "session": {"user": "alice", "n": 42}}"#;
        let ours =
            config.set_cookie(payload, Some(CookieLifetime { max_age: Duration::from_secs(3600), now: T })).unwrap();
        let python = r#"AIOHTTP_SESSION="{\"created\": 1700000000\054 \"session\": {\"user\": \"alice\"\054 \"n\": 42}}"; Domain=example.com; expires=Tue, 14-Nov-2023 23:13:20 GMT; HttpOnly; Max-Age=3600; Path=/app; SameSite=Lax; Secure"#;
        let python = python.replace("expires=Tue, 14-Nov-2023", "Expires=Tue, 14 Nov 2023");
        assert_eq!(attributes(&ours), attributes(&python));
    }

    #[test]
    fn every_attribute_follows_the_config() {
        let config = CookieConfig::builder()
            .name("SID")
            .http_only(false)
            .same_site(None)
            .path("/p")
            .domain("d.example")
            .secure(false)
            .build()
            .unwrap();
        assert_eq!(attributes(&config.set_cookie("v", None).unwrap()), ["Domain=d.example", "Path=/p", "SID=v"]);
        let partitioned = CookieConfig::builder().partitioned(true).build().unwrap();
        assert!(partitioned.set_cookie("v", None).unwrap().contains("; Partitioned"));
        let same = config.to_builder().build().unwrap();
        assert_eq!(same, config);
    }

    #[test]
    fn bad_names_domains_and_paths_are_refused_at_build() {
        for name in ["", "bad name;x", "a=b", "é", "tab\t", "semi;", "quote\"", "new\nline"] {
            let error = CookieConfig::builder().name(name).build().unwrap_err();
            assert!(matches!(error, CookieError::Name { .. }), "{name:?}: {error}");
        }
        for domain in ["", ".", "a..b", "evil.com; Secure", "-x.com", "exa mple.com", "x\r\n"] {
            let error = CookieConfig::builder().domain(domain).build().unwrap_err();
            assert!(matches!(error, CookieError::Domain { .. }), "{domain:?}: {error}");
        }
        for path in ["", "relative", "/a;b", "/a\nb"] {
            let error = CookieConfig::builder().path(path).build().unwrap_err();
            assert!(matches!(error, CookieError::Path { .. }), "{path:?}: {error}");
        }
        for ok in ["session_id", "__Host-s", "A1!#$%&'*+-.^_`|~"] {
            assert!(CookieConfig::builder().name(ok).build().is_ok(), "{ok}");
        }
        assert!(CookieConfig::builder().domain(".example.com").build().is_ok());
    }

    #[test]
    fn prefix_and_same_site_rules_are_enforced() {
        let refused = [
            CookieConfig::builder().name("__Host-s").secure(false),
            CookieConfig::builder().name("__host-s").path("/app"),
            CookieConfig::builder().name("__Host-s").domain("example.com"),
            CookieConfig::builder().name("__Secure-s").secure(false),
            CookieConfig::builder().same_site(SameSite::None).secure(false),
            CookieConfig::builder().partitioned(true).secure(false),
        ];
        for builder in refused {
            assert!(matches!(builder.clone().build(), Err(CookieError::Rule { .. })), "{builder:?}");
        }
        let none = CookieConfig::builder().same_site(SameSite::None).build().unwrap();
        assert!(none.set_cookie("v", None).unwrap().contains("SameSite=None"));
    }

    #[test]
    fn removal_keeps_path_and_domain() {
        let config = CookieConfig::builder().domain("example.com").path("/app").build().unwrap();
        let header = config.removal_cookie();
        assert!(header.starts_with("AIOHTTP_SESSION=\"\"; "));
        for part in ["Max-Age=0", "Expires=Thu, 01 Jan 1970 00:00:00 GMT", "Path=/app", "Domain=example.com"] {
            assert!(header.split("; ").any(|a| a == part), "{header} lacks {part}");
        }
    }

    #[test]
    fn size_guard_counts_name_and_quoted_value() {
        let config = CookieConfig::builder().name("n").build().unwrap();
        let fits = "a".repeat(MAX_COOKIE_SIZE - 2);
        assert!(config.set_cookie(&fits, None).is_ok());
        let too_big = "a".repeat(MAX_COOKIE_SIZE - 1);
        assert!(matches!(config.set_cookie(&too_big, None), Err(Error::CookieTooLarge { size: 4097, limit: 4096 })));
        // Quoting counts: 2000 commas become 8000 bytes.
        assert!(config.set_cookie(&",".repeat(2000), None).is_err());
    }

    #[test]
    fn huge_max_age_is_clamped_not_a_panic() {
        let header = CookieConfig::default()
            .set_cookie("v", Some(CookieLifetime { max_age: Duration::from_secs(u64::MAX), now: T }))
            .unwrap();
        assert!(header.contains(&format!("Max-Age={}", i64::MAX)));
        assert!(header.contains("Expires=Fri, 31 Dec 9999 23:59:59 GMT"));
        let past = CookieConfig::default()
            .set_cookie("v", Some(CookieLifetime { max_age: Duration::ZERO, now: i64::MIN }))
            .unwrap();
        assert!(past.contains("Max-Age=0"));
    }

    #[test]
    fn values_cannot_inject_attributes() {
        let header = CookieConfig::default().set_cookie("x; Domain=evil\r\nSet-Cookie: a=b", None).unwrap();
        assert!(!header.contains(['\r', '\n']));
        assert_eq!(attributes(&header).len(), 5, "only the configured attributes: {header}");
    }
}
