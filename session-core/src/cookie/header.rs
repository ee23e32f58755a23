//! Finding the session cookie in a request's `Cookie` headers.
//!
//! This is our own single pass rather than the `cookie` crate's parser: it runs on every request that
//! asks for its session, it must find only one name, and it must read exactly what aiohttp reads
//! (last occurrence wins, Python's quoting undone). The `cookie` crate parses and allocates every
//! pair of the header (about 2,000 instructions a request under callgrind, see BENCHMARKS.md); this
//! scan borrows from the header, finds the separators with `memchr`, and allocates only to unquote. On
//! well-formed cookies the two agree (`tests/properties.rs` checks it against the `cookie` crate).

use std::borrow::Cow;

use crate::cookie::quoting::unquote;

/// The value of the cookie called `name` in the given `Cookie` header values, unquoted the Python
/// way. The last occurrence wins, as in aiohttp (which builds a dict). Pairs that do not parse are
/// skipped; nothing here fails.
///
/// The headers are bytes (`HeaderValue::as_bytes()`) or text: other cookies may hold anything, a
/// Latin-1 byte or invalid UTF-8 included, and never hide ours. A value of ours that is not UTF-8 is
/// not one we wrote, and is skipped.
///
/// HTTP/2 clients may split cookies over several `Cookie` headers: pass them all.
///
/// ```
/// use session_core::cookie::find_cookie;
///
/// let header = r#"theme=dark; AIOHTTP_SESSION="{\"a\": 1\054 \"b\": 2}"; other=1"#;
/// assert_eq!(find_cookie([header], "AIOHTTP_SESSION").as_deref(), Some(r#"{"a": 1, "b": 2}"#));
/// assert_eq!(find_cookie(["a=1; a=2", "a=3"], "a").as_deref(), Some("3"));
/// assert_eq!(find_cookie(["a=1"], "b"), None);
/// let latin1: &[u8] = b"lang=fran\xe7ais; AIOHTTP_SESSION=abc";
/// assert_eq!(find_cookie([latin1], "AIOHTTP_SESSION").as_deref(), Some("abc"));
/// ```
pub fn find_cookie<'h, I, H>(headers: I, name: &str) -> Option<Cow<'h, str>>
where
    I: IntoIterator<Item = &'h H>,
    H: AsRef<[u8]> + ?Sized + 'h,
{
    let name = name.as_bytes();
    let mut found = None;
    for header in headers {
        // `name=value` pairs separated by `;`, white space around names and values ignored, pairs
        // without `=` skipped (the cookie crate's reading, RFC 6265 section 5.2 in spirit). No
        // substring pre-check: for a header that holds our cookie it scanned everything twice.
        let mut rest = header.as_ref();
        while !rest.is_empty() {
            let (pair, next) = match memchr::memchr(b';', rest) {
                Some(at) => (&rest[..at], &rest[at + 1..]),
                None => (rest, &[][..]),
            };
            rest = next;
            if let Some(at) = memchr::memchr(b'=', pair)
                && pair[..at].trim_ascii() == name
                && let Ok(value) = std::str::from_utf8(pair[at + 1..].trim_ascii())
            {
                found = Some(value);
            }
        }
    }
    found.map(unquote)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_bare_and_quoted_values() {
        assert_eq!(find_cookie(["s=abc"], "s").as_deref(), Some("abc"));
        assert_eq!(find_cookie([" s = \"a b\" ;x=1"], "s").as_deref(), Some("a b"));
        assert_eq!(find_cookie(["s=\"\""], "s").as_deref(), Some(""));
        assert_eq!(find_cookie(["s="], "s").as_deref(), Some(""));
    }

    #[test]
    fn names_must_match_exactly() {
        assert_eq!(find_cookie(["AIOHTTP_SESSION_X=1; aiohttp_session=2"], "AIOHTTP_SESSION"), None);
        assert_eq!(find_cookie(["xs=1; s=2"], "s").as_deref(), Some("2"));
    }

    #[test]
    fn garbage_is_skipped_not_fatal() {
        assert_eq!(find_cookie([";;; =x; novalue; s=ok; ;"], "s").as_deref(), Some("ok"));
        assert_eq!(find_cookie(["\u{0}\u{7f}é=é; s=\u{1}"], "s").as_deref(), Some("\u{1}"));
        assert_eq!(find_cookie(Vec::<&str>::new(), "s"), None);
    }

    #[test]
    fn other_cookies_may_hold_any_bytes() {
        let headers: [&[u8]; 3] = [b"lang=fran\xe7ais; a=\xff\xfe", "emoji=\u{1f36a}".as_bytes(), b"s=ok; t=\xc3"];
        assert_eq!(find_cookie(headers, "s").as_deref(), Some("ok"));
        assert_eq!(find_cookie([&b"s=ok; s=\xff"[..]], "s").as_deref(), Some("ok"), "not a value we wrote");
        assert_eq!(find_cookie([&b"\xe9=1; s=ok"[..]], "s").as_deref(), Some("ok"));
    }

    #[test]
    fn last_occurrence_wins_across_headers() {
        assert_eq!(find_cookie(["s=1; s=2", "t=0", "s=3; u=4"], "s").as_deref(), Some("3"));
    }
}
