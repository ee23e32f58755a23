//! JSON text byte-identical to Python's `json.dumps` with its defaults.
//!
//! Python peers read any JSON, but byte identity lets us prove compatibility against the vectors of the
//! real library and keeps a session's bytes stable when it passes between a Python and a Rust service.

use std::io::{self, Write};

use serde::Serialize;
use serde_json::ser::{CharEscape, Formatter, Serializer};

/// Serializes `value` the way `json.dumps(value)` does: `", "` and `": "` separators, every character
/// outside printable ASCII as `\uXXXX` (surrogate pairs above U+FFFF), floats as Python's `repr`.
pub fn to_string<T: Serialize + ?Sized>(value: &T) -> serde_json::Result<String> {
    let mut out = Vec::with_capacity(256);
    value.serialize(&mut Serializer::with_formatter(&mut out, PythonFormatter))?;
    // The formatter writes ASCII only.
    String::from_utf8(out).map_err(|e| serde::ser::Error::custom(e.to_string()))
}

struct PythonFormatter;

impl Formatter for PythonFormatter {
    fn begin_array_value<W: ?Sized + Write>(&mut self, writer: &mut W, first: bool) -> io::Result<()> {
        if first { Ok(()) } else { writer.write_all(b", ") }
    }

    fn begin_object_key<W: ?Sized + Write>(&mut self, writer: &mut W, first: bool) -> io::Result<()> {
        if first { Ok(()) } else { writer.write_all(b", ") }
    }

    fn begin_object_value<W: ?Sized + Write>(&mut self, writer: &mut W) -> io::Result<()> {
        writer.write_all(b": ")
    }

    fn write_f32<W: ?Sized + Write>(&mut self, writer: &mut W, value: f32) -> io::Result<()> {
        // Python has only doubles: an f32 is widened, as `float(numpy.float32(x))` would be.
        self.write_f64(writer, f64::from(value))
    }

    fn write_f64<W: ?Sized + Write>(&mut self, writer: &mut W, value: f64) -> io::Result<()> {
        write_python_float(writer, value)
    }

    fn write_string_fragment<W: ?Sized + Write>(&mut self, writer: &mut W, fragment: &str) -> io::Result<()> {
        // serde_json has already escaped quotes, backslashes and C0 controls; Python's ensure_ascii also
        // escapes DEL and everything beyond ASCII.
        let bytes = fragment.as_bytes();
        let mut start = 0;
        for (index, ch) in fragment.char_indices() {
            if (' '..='~').contains(&ch) {
                continue;
            }
            writer.write_all(&bytes[start..index])?;
            let mut units = [0u16; 2];
            for unit in ch.encode_utf16(&mut units) {
                write!(writer, "\\u{unit:04x}")?;
            }
            start = index + ch.len_utf8();
        }
        writer.write_all(&bytes[start..])
    }

    fn write_char_escape<W: ?Sized + Write>(&mut self, writer: &mut W, escape: CharEscape) -> io::Result<()> {
        // Same short escapes as Python; other controls as lowercase `\u00XX`, which is serde_json's default.
        match escape {
            CharEscape::AsciiControl(byte) => write!(writer, "\\u{byte:04x}"),
            other => serde_json::ser::CompactFormatter.write_char_escape(writer, other),
        }
    }
}

/// Writes a finite `value` as Python's `repr(float)`: the shortest digits that round-trip, in fixed
/// notation when the decimal exponent is in `-4 < decpt <= 16`, else as `d.ddde±XX`.
fn write_python_float<W: ?Sized + Write>(writer: &mut W, value: f64) -> io::Result<()> {
    if !value.is_finite() {
        // serde_json never hands us these (it writes `null`); keep the output valid JSON regardless.
        return writer.write_all(b"null");
    }
    if value == 0.0 {
        return writer.write_all(if value.is_sign_negative() { b"-0.0" } else { b"0.0" });
    }
    let mut buffer = ryu::Buffer::new();
    let shortest = buffer.format_finite(value.abs());
    let mut digits = [0u8; 32];
    let (len, decpt) = decimal_digits(shortest, &mut digits);
    if value < 0.0 {
        writer.write_all(b"-")?;
    }
    let digits = &digits[..len];
    if decpt <= -4 || decpt > 16 {
        writer.write_all(&digits[..1])?;
        if digits.len() > 1 {
            writer.write_all(b".")?;
            writer.write_all(&digits[1..])?;
        }
        let exponent = decpt - 1;
        let sign = if exponent < 0 { '-' } else { '+' };
        write!(writer, "e{sign}{:02}", exponent.abs())
    } else if decpt <= 0 {
        writer.write_all(b"0.")?;
        for _ in 0..-decpt {
            writer.write_all(b"0")?;
        }
        writer.write_all(digits)
    } else {
        let point = decpt as usize;
        if point >= digits.len() {
            writer.write_all(digits)?;
            for _ in digits.len()..point {
                writer.write_all(b"0")?;
            }
            writer.write_all(b".0")
        } else {
            writer.write_all(&digits[..point])?;
            writer.write_all(b".")?;
            writer.write_all(&digits[point..])
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
        to_string(&value).unwrap()
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
            to_string(&value).unwrap(),
            r#"{"created": 1700000000, "session": {"user": "alice", "n": 42, "l": [1, 2, {}], "e": []}}"#
        );
    }

    #[test]
    fn strings_are_escaped_like_ensure_ascii() {
        // python3 -c 'import json; print(json.dumps("é😀\x7f\x00\n\t\"\\/<"))'
        let text = "é😀\u{7f}\u{0}\n\t\"\\/<";
        assert_eq!(to_string(text).unwrap(), r#""\u00e9\ud83d\ude00\u007f\u0000\n\t\"\\/<""#);
        assert_eq!(to_string(&json!({"ключ": "\u{1f}"})).unwrap(), r#"{"\u043a\u043b\u044e\u0447": "\u001f"}"#);
    }

    #[test]
    fn output_parses_back_to_the_same_value() {
        let value = json!({"a": [1.5, -2, true, null, "x\u{2028}y"], "b": {"c": 1e-9}});
        let text = to_string(&value).unwrap();
        assert!(text.is_ascii());
        assert_eq!(serde_json::from_str::<serde_json::Value>(&text).unwrap(), value);
    }
}
