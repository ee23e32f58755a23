//! JSON text byte-identical to Python's `json.dumps` with its defaults, written straight from the JSON
//! value tree (an item loaded and not set since is copied as the text it was read from: `items.rs`).
//!
//! Python peers read any JSON, but byte identity lets us prove compatibility against the vectors of the
//! real library and keeps a session's bytes stable when it passes between a Python and a Rust service.
//!
//! Hand-written rather than a `serde_json` `Formatter`: the formatter route scanned every string twice
//! (serde_json's escape table, then ours for `ensure_ascii`) and went through the serializer's
//! per-entry calls; this writer scans each string once. Under callgrind the encode of the typical
//! session fell from 5.9k to about 1.6k instructions (BENCHMARKS.md, "The encrypted cookie path").

use std::fmt::Write;

use serde_json::{Number, Value};

use crate::items::{Items, Written};
use crate::meta::{META_KEY, Meta};

/// The payload of a session: `{"created": <created>, "session": {<data>, "__session_meta__": <meta>}}`,
/// or `{}` when there is no data (and no login to keep), as `json.dumps` writes it.
pub(crate) fn record(created: i64, data: &Items, meta: &Meta) -> String {
    if data.is_empty() && !meta.keeps_session() {
        return "{}".to_owned();
    }
    // Room for the typical session at once: a string that grows mid-write copies itself.
    let mut out = String::with_capacity(256 + data.len() * 32);
    out.push_str("{\"created\": ");
    out.push_str(itoa::Buffer::new().format(created));
    out.push_str(", \"session\": {");
    let mut first = true;
    for (key, value) in data.written() {
        entry(&mut out, &mut first, key);
        match value {
            Written::Text(text) => out.push_str(text),
            Written::Value(value) => write_value(&mut out, value),
        }
    }
    if !meta.is_empty() {
        entry(&mut out, &mut first, META_KEY);
        write_meta(&mut out, meta);
    }
    out.push_str("}}");
    out
}

/// `value` as `json.dumps(value)` writes it.
#[cfg(test)]
pub(crate) fn to_string(value: &Value) -> String {
    let mut out = String::new();
    write_value(&mut out, value);
    out
}

fn entry(out: &mut String, first: &mut bool, key: &str) {
    if !std::mem::take(first) {
        out.push_str(", ");
    }
    write_str(out, key);
    out.push_str(": ");
}

/// The meta as its `Serialize` writes it (one description of its fields), in Python's form. Only
/// sessions with a login, a start or a remembered lifetime carry it.
fn write_meta(out: &mut String, meta: &Meta) {
    match serde_json::to_value(meta) {
        Ok(value) => write_value(out, &value),
        // A map of strings and numbers always serializes; an empty object keeps the payload valid.
        Err(_) => out.push_str("{}"),
    }
}

fn write_value(out: &mut String, value: &Value) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(true) => out.push_str("true"),
        Value::Bool(false) => out.push_str("false"),
        Value::Number(number) => write_number(out, number),
        Value::String(text) => write_str(out, text),
        Value::Array(items) => {
            out.push('[');
            for (index, item) in items.iter().enumerate() {
                if index > 0 {
                    out.push_str(", ");
                }
                write_value(out, item);
            }
            out.push(']');
        }
        Value::Object(map) => {
            out.push('{');
            let mut first = true;
            for (key, value) in map {
                entry(out, &mut first, key);
                write_value(out, value);
            }
            out.push('}');
        }
    }
}

fn write_number(out: &mut String, number: &Number) {
    if let Some(integer) = number.as_i64() {
        out.push_str(itoa::Buffer::new().format(integer));
    } else if let Some(integer) = number.as_u64() {
        out.push_str(itoa::Buffer::new().format(integer));
    } else {
        write_python_float(out, number.as_f64().unwrap_or(f64::NAN));
    }
}

/// Whether each byte goes into a JSON string as it is under `ensure_ascii`: printable ASCII but `"` and
/// `\`. A table, because every byte of every string is looked up.
const PLAIN: [bool; 256] = {
    let mut plain = [false; 256];
    let mut byte = 0x20;
    while byte < 0x7f {
        plain[byte] = byte != b'"' as usize && byte != b'\\' as usize;
        byte += 1;
    }
    plain
};

/// A JSON string as Python's `json.dumps` writes it: `\"`, `\\`, the short escapes of `\b \f \n \r \t`,
/// other control characters, DEL and everything beyond ASCII as `\uXXXX` (surrogate pairs above
/// U+FFFF). Runs of plain bytes are copied whole.
fn write_str(out: &mut String, text: &str) {
    out.push('"');
    let bytes = text.as_bytes();
    let mut at = 0;
    while at < bytes.len() {
        let run = bytes[at..].iter().position(|&b| !PLAIN[usize::from(b)]).unwrap_or(bytes.len() - at);
        out.push_str(&text[at..at + run]);
        at += run;
        let Some(ch) = text[at..].chars().next() else { break };
        at += ch.len_utf8();
        match ch {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            _ => {
                let mut units = [0u16; 2];
                for unit in ch.encode_utf16(&mut units) {
                    let _ = write!(out, "\\u{unit:04x}");
                }
            }
        }
    }
    out.push('"');
}

/// Writes a finite `value` as Python's `repr(float)`: the shortest digits that round-trip, in fixed
/// notation when the decimal exponent is in `-4 < decpt <= 16`, else as `d.ddde±XX`.
fn write_python_float(out: &mut String, value: f64) {
    if !value.is_finite() {
        // serde_json never holds these; keep the output valid JSON regardless.
        out.push_str("null");
        return;
    }
    if value == 0.0 {
        out.push_str(if value.is_sign_negative() { "-0.0" } else { "0.0" });
        return;
    }
    let mut buffer = ryu::Buffer::new();
    let shortest = buffer.format_finite(value.abs());
    let mut digits = [0u8; 32];
    let (len, decpt) = decimal_digits(shortest, &mut digits);
    if value < 0.0 {
        out.push('-');
    }
    // Only ASCII digits are written into `digits`.
    let digits = std::str::from_utf8(&digits[..len]).unwrap_or("0");
    if decpt <= -4 || decpt > 16 {
        out.push_str(&digits[..1]);
        if digits.len() > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        let exponent = decpt - 1;
        let sign = if exponent < 0 { '-' } else { '+' };
        let _ = write!(out, "e{sign}{:02}", exponent.abs());
    } else if decpt <= 0 {
        out.push_str("0.");
        for _ in 0..-decpt {
            out.push('0');
        }
        out.push_str(digits);
    } else {
        let point = decpt as usize;
        if point >= digits.len() {
            out.push_str(digits);
            for _ in digits.len()..point {
                out.push('0');
            }
            out.push_str(".0");
        } else {
            out.push_str(&digits[..point]);
            out.push('.');
            out.push_str(&digits[point..]);
        }
    }
}

/// Splits ryu's shortest text (`"123.45"`, `"1e-7"`, `"1.5e16"`, `"0.001"`) into significant digits
/// (written to `out`; their count is returned) and Python's `decpt`: the value is
/// `0.d1d2d3… × 10^decpt`. No allocation: a float is written on every save of the demo's session.
fn decimal_digits(text: &str, out: &mut [u8; 32]) -> (usize, i32) {
    let (mantissa, exponent) = match text.split_once('e') {
        Some((m, e)) => (m, e.parse::<i32>().unwrap_or(0)),
        None => (text, 0),
    };
    let (int_part, frac_part) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let mut decpt = int_part.len() as i32 + exponent;
    let mut len = 0;
    for digit in int_part.bytes().chain(frac_part.bytes()) {
        if len == 0 && digit == b'0' {
            decpt -= 1;
            continue;
        }
        if len < out.len() {
            out[len] = digit;
            len += 1;
        }
    }
    while len > 1 && out[len - 1] == b'0' {
        len -= 1;
    }
    (len, decpt)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn float(value: f64) -> String {
        to_string(&json!(value))
    }

    #[test]
    fn floats_match_python_repr() {
        // Each right-hand side is what CPython 3.11 prints for repr(left-hand side).
        let cases: &[(f64, &str)] = &[
            (1.0, "1.0"),
            (-1.5, "-1.5"),
            (0.1, "0.1"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (1.5e-7, "1.5e-07"),
            (123456789.0, "123456789.0"),
            (1e15, "1000000000000000.0"),
            (9999999999999998.0, "9999999999999998.0"),
            (1e16, "1e+16"),
            (1.2345678901234568e17, "1.2345678901234568e+17"),
            (1e22, "1e+22"),
            (1764107000.1234567, "1764107000.1234567"),
            (1e300, "1e+300"),
            (5e-324, "5e-324"),
            (f64::MAX, "1.7976931348623157e+308"),
            (0.0, "0.0"),
            (-0.0, "-0.0"),
            (100.0, "100.0"),
            (0.5, "0.5"),
        ];
        for (value, python) in cases {
            assert_eq!(float(*value), *python, "repr({value:e})");
        }
    }

    #[test]
    fn separators_and_order_match_json_dumps() {
        let value = json!({"created": 1700000000, "session": {"user": "alice", "n": 42, "l": [1, 2, {}], "e": []}});
        assert_eq!(
            to_string(&value),
            r#"{"created": 1700000000, "session": {"user": "alice", "n": 42, "l": [1, 2, {}], "e": []}}"#
        );
        assert_eq!(
            to_string(&json!([null, true, false, -3, u64::MAX])),
            "[null, true, false, -3, 18446744073709551615]"
        );
    }

    #[test]
    fn strings_are_escaped_like_ensure_ascii() {
        // python3 -c 'import json; print(json.dumps("é😀\x7f\x00\n\t\"\\/<\b\f\r"))'
        let text = "é😀\u{7f}\u{0}\n\t\"\\/<\u{8}\u{c}\r";
        assert_eq!(to_string(&json!(text)), r#""\u00e9\ud83d\ude00\u007f\u0000\n\t\"\\/<\b\f\r""#);
        assert_eq!(to_string(&json!({"ключ": "\u{1f}"})), r#"{"\u043a\u043b\u044e\u0447": "\u001f"}"#);
    }

    #[test]
    fn output_parses_back_to_the_same_value() {
        let value = json!({"a": [1.5, -2, true, null, "x\u{2028}y"], "b": {"c": 1e-9}});
        let text = to_string(&value);
        assert!(text.is_ascii());
        assert_eq!(serde_json::from_str::<serde_json::Value>(&text).unwrap(), value);
    }

    #[test]
    fn the_record_carries_the_meta_last_and_an_empty_session_is_an_empty_object() {
        let Value::Object(data) = json!({"a": 1}) else { unreachable!() };
        let meta = Meta { started: Some(3), user: Some("é".into()), epoch: Some("e".into()), ..Meta::default() };
        assert_eq!(
            record(7, &Items::from(data), &meta),
            r#"{"created": 7, "session": {"a": 1, "__session_meta__": {"started": 3, "user": "\u00e9", "epoch": "e"}}}"#
        );
        let logged_in =
            r#"{"created": 7, "session": {"__session_meta__": {"started": 3, "user": "\u00e9", "epoch": "e"}}}"#;
        assert_eq!(record(7, &Items::default(), &meta), logged_in, "a login alone is kept");
        assert_eq!(record(7, &Items::default(), &Meta { started: Some(3), ..Meta::default() }), "{}");
    }
}
