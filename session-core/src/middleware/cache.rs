//! What a response that used a session tells caches, so that a shared cache or a CDN in front of the
//! app never serves one visitor's page, or their session cookie, to another: `Vary: Cookie` on every
//! response whose handler used the session, `Cache-Control: private` on every response that sets or
//! removes the session cookie. Django adds the first, Rails the second. Both merge with what the app
//! set and never weaken it; an adapter applies them unless its layer was built without them.

use std::borrow::Cow;

/// The `Vary` header to add to a response whose handler used the session, given the `Vary` values it
/// already has; `None` when they already name `Cookie` (or `*`, which varies on everything).
///
/// ```
/// use session_core::middleware::vary_cookie;
///
/// assert_eq!(vary_cookie([]), Some("Cookie"));
/// assert_eq!(vary_cookie(["Accept-Encoding"]), Some("Cookie"));
/// assert_eq!(vary_cookie(["accept-encoding, cookie"]), None);
/// assert_eq!(vary_cookie(["*"]), None);
/// ```
pub fn vary_cookie<'a>(existing: impl IntoIterator<Item = &'a str>) -> Option<&'static str> {
    let named = existing
        .into_iter()
        .flat_map(|value| value.split(','))
        .any(|field| field.trim().eq_ignore_ascii_case("cookie") || field.trim() == "*");
    (!named).then_some("Cookie")
}

/// The `Cache-Control` value for a response that sets or removes the session cookie, given the
/// values it already has: `private` added to what the app said, `public` taken out (a shared cache
/// must not keep a session cookie). `None` when it needs no change: `private` or `no-store` is
/// already there. Borrowed when the app set none (most responses): no allocation then.
///
/// ```
/// use session_core::middleware::private_cache_control;
///
/// assert_eq!(private_cache_control([]).as_deref(), Some("private"));
/// assert_eq!(private_cache_control(["public, max-age=600"]).as_deref(), Some("private, max-age=600"));
/// assert_eq!(private_cache_control(["no-store"]), None);
/// assert_eq!(private_cache_control(["private, max-age=60"]), None);
/// ```
pub fn private_cache_control<'a>(existing: impl IntoIterator<Item = &'a str>) -> Option<Cow<'static, str>> {
    let mut existing = existing.into_iter().peekable();
    if existing.peek().is_none() {
        return Some(Cow::Borrowed("private"));
    }
    let directives: Vec<&str> =
        existing.flat_map(|value| value.split(',')).map(str::trim).filter(|directive| !directive.is_empty()).collect();
    let is = |directive: &str, wanted: &str| {
        directive.split('=').next().unwrap_or_default().trim().eq_ignore_ascii_case(wanted)
    };
    if directives.iter().any(|directive| is(directive, "private") || is(directive, "no-store")) {
        return None;
    }
    let kept = directives.into_iter().filter(|directive| !is(directive, "public"));
    Some(Cow::Owned(std::iter::once("private").chain(kept).collect::<Vec<_>>().join(", ")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vary_names_cookie_once_whatever_the_case_and_spacing() {
        assert_eq!(vary_cookie(["Origin", " COOKIE "]), None);
        assert_eq!(vary_cookie(["Origin,Accept"]), Some("Cookie"));
        assert_eq!(vary_cookie(["Cookies"]), Some("Cookie"), "another header's name");
    }

    #[test]
    fn cache_control_is_never_weakened() {
        assert_eq!(private_cache_control(["No-Store"]), None);
        assert_eq!(private_cache_control(["max-age=0", "Private"]), None);
        assert_eq!(private_cache_control(["PUBLIC", "s-maxage=60"]).as_deref(), Some("private, s-maxage=60"));
        assert_eq!(
            private_cache_control(["no-cache, must-revalidate"]).as_deref(),
            Some("private, no-cache, must-revalidate")
        );
        assert_eq!(private_cache_control([" , "]).as_deref(), Some("private"));
    }
}
