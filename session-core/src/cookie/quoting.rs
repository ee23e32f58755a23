//! Cookie value quoting of Python's `http.cookies`, which aiohttp uses on both ends.
//!
//! A Python peer (or an old aiohttp, which silently drops an unquoted JSON cookie and every cookie
//! after it) must read what we write, so we quote exactly as `http.cookies._quote` does, and unquote as
//! aiohttp's `_unquote` does.

use std::borrow::Cow;

/// How Python's `http.cookies` treats each byte: bare (`_LegalChars`), unescaped inside quotes
/// (`_UnescapedChars`), or escaped. A table, because quoting looks at every byte of every cookie.
const LEGAL: u8 = 1;
const UNESCAPED: u8 = 2;
const CLASSES: [u8; 256] = {
    let mut classes = [0u8; 256];
    let mut byte = 0;
    while byte < 256 {
        let b = byte as u8;
        let legal = b.is_ascii_alphanumeric()
            || matches!(
                b,
                b'!' | b'#'
                    | b'$'
                    | b'%'
                    | b'&'
                    | b'\''
                    | b'*'
                    | b'+'
                    | b'-'
                    | b'.'
                    | b'^'
                    | b'_'
                    | b'`'
                    | b'|'
                    | b'~'
                    | b':'
            );
        let unescaped = legal
            || matches!(b, b' ' | b'(' | b')' | b'/' | b'<' | b'=' | b'>' | b'?' | b'@' | b'[' | b']' | b'{' | b'}');
        classes[byte] = if legal {
            LEGAL | UNESCAPED
        } else if unescaped {
            UNESCAPED
        } else {
            0
        };
        byte += 1;
    }
    classes
};

/// Whether every byte of `bytes` is legal, and whether every byte stays unescaped inside quotes: one
/// pass of table lookups with no early exit. (Comparisons in place of the table compiled to about 90
/// instructions a byte here, the table to about 7.)
fn classify(bytes: &[u8]) -> (bool, bool) {
    let all = bytes.iter().fold(LEGAL | UNESCAPED, |all, &b| all & CLASSES[usize::from(b)]);
    (all & LEGAL != 0, all & UNESCAPED != 0)
}

/// Characters a value may hold and still be sent bare (`http.cookies._LegalChars`).
pub(crate) fn is_legal(byte: u8) -> bool {
    CLASSES[usize::from(byte)] & LEGAL != 0
}

/// Characters that stay as they are inside quotes (`_UnescapedChars`); others below U+0100 become
/// `\ooo`.
fn is_unescaped(byte: u8) -> bool {
    CLASSES[usize::from(byte)] & UNESCAPED != 0
}

/// Quotes `value` like Python's `http.cookies._quote`: bare when every character is legal (and the
/// value is not empty); otherwise in double quotes with `"` and `\` escaped by a backslash and every
/// other character below U+0100 outside the unescaped set as a 3-digit octal escape (`,` → `\054`,
/// `;` → `\073`). Characters above U+00FF pass through, as in Python.
///
/// ```
/// use session_core::cookie::quote;
///
/// assert_eq!(quote("abc123"), "abc123");
/// assert_eq!(quote(r#"{"a": 1, "b": 2}"#), r#""{\"a\": 1\054 \"b\": 2}""#);
/// assert_eq!(quote(""), r#""""#);
/// assert_eq!(quote("x\r\n;"), r#""x\015\012\073""#);
/// ```
pub fn quote(value: &str) -> Cow<'_, str> {
    let classes = Classes::of(value);
    if classes.bare {
        return Cow::Borrowed(value);
    }
    let mut quoted = String::with_capacity(value.len() + 2);
    write_quoted(&mut quoted, value, classes);
    Cow::Owned(quoted)
}

/// A value measured for quoting, to be appended to a `Set-Cookie` header as [`quote`] writes it: the
/// header is written in one string (quoting into a string of its own cost an allocation and a copy of
/// the token on every save).
pub(crate) struct Quoted<'a> {
    value: &'a str,
    classes: Classes,
}

impl<'a> Quoted<'a> {
    pub(crate) fn new(value: &'a str) -> Self {
        Quoted { value, classes: Classes::of(value) }
    }

    /// The length it takes quoted. A token or an id needs no escape, so no second pass.
    pub(crate) fn len(&self) -> usize {
        match self.classes {
            Classes { bare: true, .. } => self.value.len(),
            Classes { unescaped: true, .. } => self.value.len() + 2,
            _ => 2 + self.value.chars().map(|ch| Escape::of(ch).len()).sum::<usize>(),
        }
    }

    pub(crate) fn push_to(&self, out: &mut String) {
        write_quoted(out, self.value, self.classes);
    }
}

/// What one pass over a value found: whether it goes bare, and whether quotes alone are enough (as
/// for a Fernet token with its `=` padding).
#[derive(Clone, Copy)]
struct Classes {
    bare: bool,
    unescaped: bool,
}

impl Classes {
    fn of(value: &str) -> Self {
        let (legal, unescaped) = classify(value.as_bytes());
        Classes { bare: legal && !value.is_empty(), unescaped }
    }
}

/// How one character is written inside quotes: the one rule that both measuring and writing follow.
enum Escape {
    /// As it is: an unescaped character, or one above U+00FF.
    Plain(char),
    /// After a backslash: `"` and `\`.
    Backslashed(char),
    /// As `\ooo`: every other character below U+0100.
    Octal(u8),
}

impl Escape {
    fn of(ch: char) -> Escape {
        match ch {
            '"' | '\\' => Escape::Backslashed(ch),
            _ if ch.is_ascii() && is_unescaped(ch as u8) => Escape::Plain(ch),
            _ => u8::try_from(ch).map_or(Escape::Plain(ch), Escape::Octal),
        }
    }

    fn len(&self) -> usize {
        match self {
            Escape::Plain(ch) => ch.len_utf8(),
            Escape::Backslashed(_) => 2,
            Escape::Octal(_) => 4,
        }
    }

    fn push_to(&self, out: &mut String) {
        match *self {
            Escape::Plain(ch) => out.push(ch),
            Escape::Backslashed(ch) => {
                out.push('\\');
                out.push(ch);
            }
            Escape::Octal(code) => {
                out.push('\\');
                for shift in [6, 3, 0] {
                    out.push(char::from(b'0' + ((code >> shift) & 7)));
                }
            }
        }
    }
}

fn write_quoted(out: &mut String, value: &str, classes: Classes) {
    if classes.bare {
        out.push_str(value);
        return;
    }
    out.push('"');
    if classes.unescaped {
        out.push_str(value);
        out.push('"');
        return;
    }
    let bytes = value.as_bytes();
    let mut at = 0;
    while at < bytes.len() {
        // Copy the longest run that needs no escape in one go.
        let run = bytes[at..].iter().position(|&b| !is_unescaped(b)).unwrap_or(bytes.len() - at);
        out.push_str(&value[at..at + run]);
        at += run;
        let Some(ch) = value[at..].chars().next() else { break };
        at += ch.len_utf8();
        Escape::of(ch).push_to(out);
    }
    out.push('"');
}

/// Unquotes a cookie value like aiohttp's `_unquote`: a value of at least two characters that starts and
/// ends with `"` loses the quotes, `\ooo` (first digit 0–3) becomes the character with that code and
/// `\c` becomes `c`. Anything else is returned as it is.
///
/// ```
/// use session_core::cookie::unquote;
///
/// assert_eq!(unquote(r#""{\"a\": 1\054 \"b\": 2}""#), r#"{"a": 1, "b": 2}"#);
/// assert_eq!(unquote("plain"), "plain");
/// assert_eq!(unquote(r#""\351""#), "é");
/// ```
pub fn unquote(value: &str) -> Cow<'_, str> {
    let inner = match value.strip_prefix('"').and_then(|rest| rest.strip_suffix('"')) {
        Some(inner) if value.len() >= 2 => inner,
        _ => return Cow::Borrowed(value),
    };
    if memchr::memchr(b'\\', inner.as_bytes()).is_none() {
        return Cow::Borrowed(inner);
    }
    let mut out = String::with_capacity(inner.len());
    let mut rest = inner;
    while let Some(at) = rest.find('\\') {
        out.push_str(&rest[..at]);
        let escaped = &rest.as_bytes()[at + 1..];
        match escaped {
            [a @ b'0'..=b'3', b @ b'0'..=b'7', c @ b'0'..=b'7', ..] => {
                let code = (a - b'0') * 64 + (b - b'0') * 8 + (c - b'0');
                out.push(char::from(code));
                rest = &rest[at + 4..];
            }
            // Python's `[\\].` : any character but a newline follows the backslash.
            [first, ..] if *first != b'\n' => {
                let next = rest[at + 1..].chars().next().unwrap_or('\\');
                out.push(next);
                rest = &rest[at + 1 + next.len_utf8()..];
            }
            _ => {
                out.push('\\');
                rest = &rest[at + 1..];
            }
        }
    }
    out.push_str(rest);
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_like_python_http_cookies() {
        // python3 -c 'from http.cookies import _quote; print(_quote(...))'
        let cases = [
            ("gAAAAABlU_EA-x==", r#""gAAAAABlU_EA-x==""#),
            ("AAAA+B", "AAAA+B"),
            ("a/b", r#""a/b""#),
            ("{}", r#""{}""#),
            ("é", r#""\351""#),
            ("\u{7f}", r#""\177""#),
            ("\u{100}", "\"\u{100}\""),
            ("a\"b\\c", r#""a\"b\\c""#),
            ("tab\there", r#""tab\011here""#),
            ("x y", r#""x y""#),
        ];
        for (raw, python) in cases {
            assert_eq!(quote(raw), python, "{raw:?}");
        }
    }

    #[test]
    fn classes_agree_with_the_table() {
        for byte in 0..=255u8 {
            assert_eq!(classify(&[byte]), (is_legal(byte), is_unescaped(byte)), "byte {byte:#04x}");
        }
        assert_eq!(classify(b"abc=="), (false, true));
        assert_eq!(classify(b""), (true, true));
    }

    #[test]
    fn quoted_values_never_hold_a_separator_or_line_break() {
        let nasty = "a;b,c\r\nSet-Cookie: x=y\u{0}\"é";
        let quoted = quote(nasty);
        assert!(!quoted.contains([';', ',', '\r', '\n', '\0']));
        assert_eq!(unquote(&quoted), nasty);
    }

    #[test]
    fn unquote_inverts_quote() {
        for raw in ["", "plain", "{\"a\": [1, 2]}", "\\", "\\\\n", "é😀", "\u{ff}\u{100}", "\"", "a\\012b"] {
            assert_eq!(unquote(&quote(raw)), raw, "{raw:?}");
        }
    }

    #[test]
    fn unquote_edge_cases_follow_aiohttp() {
        assert_eq!(unquote("\""), "\"");
        assert_eq!(unquote("\"\""), "");
        assert_eq!(unquote("\"abc"), "\"abc");
        assert_eq!(unquote(r#""\400""#), "400", "first octal digit above 3 is a plain escape");
        assert_eq!(unquote(r#""end\""#), "end\\", "a trailing backslash stays");
        assert_eq!(unquote("\"a\\\nb\""), "a\\\nb", "a backslash before a newline stays");
        assert_eq!(unquote(r#""\é""#), "é");
        assert_eq!(unquote(r#""\12""#), "12");
    }
}
