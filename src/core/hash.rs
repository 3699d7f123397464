//! Byte-exact re-creations of the Python output the original hashed: `json.dumps(value,
//! sort_keys=True)` and `repr(float)`, plus SHA-256 in lowercase hex.
//!
//! The config hash (see [`crate::core::config::PipelineConfig::config_hash`]) must equal the
//! original's for the same config, so every byte here follows CPython's `json` encoder with its
//! defaults (`ensure_ascii=True`, `allow_nan=True`, separators `", "` and `": "`).

use sha2::{Digest, Sha256};

use crate::core::sorting;

/// Serializes `value` exactly as Python's `json.dumps(value, sort_keys=True)` does.
///
/// - Object keys are sorted by code point at every level (Rust's byte order on UTF-8 is the same
///   order), whatever order the `serde_json::Map` keeps.
/// - Separators are `", "` and `": "`; there is no whitespace anywhere else.
/// - Strings are ASCII-only: `"` `\` and the control characters `\b \f \n \r \t` get their short
///   escapes, every other character outside `' '..='~'` (including DEL) becomes `\uXXXX` with
///   lowercase hex, and characters beyond U+FFFF become a UTF-16 surrogate pair.
/// - Integers print as integers, floats as [`python_float_repr`]. A `serde_json::Value` cannot
///   hold NaN or infinities, so the `NaN` / `Infinity` spellings Python would use never arise.
///
/// Recursion follows the nesting of `value`; values parsed by `serde_json` are at most 128 deep.
pub fn python_json_dumps_sorted(value: &serde_json::Value) -> String {
    let mut out = String::new();
    write_value(&mut out, value);
    out
}

fn write_value(out: &mut String, value: &serde_json::Value) {
    use serde_json::Value;
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(true) => out.push_str("true"),
        Value::Bool(false) => out.push_str("false"),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                out.push_str(&i.to_string());
            } else if let Some(u) = n.as_u64() {
                out.push_str(&u.to_string());
            } else if let Some(f) = n.as_f64() {
                out.push_str(&python_float_repr(f));
            } else {
                // Only reachable with serde_json's `arbitrary_precision`, whose text is already
                // a JSON number.
                out.push_str(&n.to_string());
            }
        }
        Value::String(s) => write_string(out, s),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_value(out, item);
            }
            out.push(']');
        }
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            sorting::sort_by(&mut entries, |a, b| a.0.cmp(b.0));
            out.push('{');
            for (i, (key, item)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_string(out, key);
                out.push_str(": ");
                write_value(out, item);
            }
            out.push('}');
        }
    }
}

fn write_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            ' '..='~' => out.push(c),
            _ => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    out.push_str(&format!("\\u{:04x}", unit));
                }
            }
        }
    }
    out.push('"');
}

/// Formats `x` exactly as Python's `repr(float)` does.
///
/// The digits are the shortest that read back as the same `f64` (Python and Rust both pick the
/// closest such string). Python writes them positionally when the decimal exponent is in
/// `-4 <= e < 16` — always with a `.` and at least one digit after it (`0.0`, `0.7`, `1.0`,
/// `1000000000000000.0`) — and otherwise in scientific notation with a sign and at least two
/// exponent digits (`1e-05`, `1e+16`, `1.2345678901234568e+17`). Negative zero is `-0.0`.
///
/// Non-finite values print as Python's `repr` does: `nan`, `inf`, `-inf`. (Python's
/// `json.dumps` would write `NaN`, `Infinity`, `-Infinity` instead; configs never reach it
/// with those, because parsing and validation reject non-finite numbers.)
pub fn python_float_repr(x: f64) -> String {
    if x.is_nan() {
        return "nan".to_string();
    }
    if x.is_infinite() {
        return if x > 0.0 { "inf" } else { "-inf" }.to_string();
    }
    let sign = if x.is_sign_negative() { "-" } else { "" };
    if x == 0.0 {
        return format!("{sign}0.0");
    }
    // `{:e}` gives the shortest round-trip digits as `d.ddde<exp>`.
    let sci = format!("{:e}", x.abs());
    let (mantissa, exp) = match sci.split_once('e') {
        Some((m, e)) => (m, e.parse::<i32>().unwrap_or(0)),
        None => (sci.as_str(), 0),
    };
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    // Position of the decimal point relative to the first digit: x = 0.DIGITS * 10^point.
    let point = exp + 1;
    let body = if -4 < point && point <= 16 {
        let n = digits.len() as i32;
        if point <= 0 {
            format!("0.{}{}", "0".repeat((-point) as usize), digits)
        } else if point >= n {
            format!("{}{}.0", digits, "0".repeat((point - n) as usize))
        } else {
            let (int, frac) = digits.split_at(point as usize);
            format!("{int}.{frac}")
        }
    } else {
        let (first, rest) = digits.split_at(1);
        let exp_sign = if exp < 0 { '-' } else { '+' };
        if rest.is_empty() {
            format!("{first}e{exp_sign}{:02}", exp.abs())
        } else {
            format!("{first}.{rest}e{exp_sign}{:02}", exp.abs())
        }
    };
    format!("{sign}{body}")
}

/// SHA-256 of `bytes` as 64 lowercase hex digits.
pub fn sha256_hex(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    let mut out = String::with_capacity(64);
    for byte in digest.iter() {
        out.push_str(&format!("{byte:02x}"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    // Expected strings below were printed by CPython 3.11 (`repr(x)`, `json.dumps(v,
    // sort_keys=True)`, `hashlib.sha256(b).hexdigest()`).

    #[test]
    fn float_repr_matches_python_for_the_boundary_cases() {
        let cases: &[(f64, &str)] = &[
            (0.0, "0.0"),
            (-0.0, "-0.0"),
            (0.7, "0.7"),
            (1.0, "1.0"),
            (0.1, "0.1"),
            (1e-05, "1e-05"),
            (0.0001, "0.0001"),
            (1e16, "1e+16"),
            (1e15, "1000000000000000.0"),
            (9999999999999998.0, "9999999999999998.0"),
            (123456789012345680.0, "1.2345678901234568e+17"),
            (-2.5e-7, "-2.5e-07"),
            (1.5e300, "1.5e+300"),
            (5e-324, "5e-324"),
            (f64::MAX, "1.7976931348623157e+308"),
            (f64::INFINITY, "inf"),
            (f64::NEG_INFINITY, "-inf"),
            (f64::NAN, "nan"),
        ];
        for (x, want) in cases {
            assert_eq!(python_float_repr(*x), *want, "repr of {x:e}");
        }
    }

    #[test]
    fn dumps_sorts_keys_and_uses_python_separators() {
        let v = json!({"b": [1, 2.0, null], "a": {"z": true, "y": false}, "": "x"});
        assert_eq!(
            python_json_dumps_sorted(&v),
            r#"{"": "x", "a": {"y": false, "z": true}, "b": [1, 2.0, null]}"#
        );
        assert_eq!(python_json_dumps_sorted(&json!({})), "{}");
        assert_eq!(python_json_dumps_sorted(&json!([])), "[]");
        assert_eq!(python_json_dumps_sorted(&json!(-7)), "-7");
    }

    #[test]
    fn dumps_escapes_like_ensure_ascii() {
        let v = json!("q\"b\\ n\n r\r t\t b\u{8} f\u{c} nul\u{0} del\u{7f} é 中 😀");
        assert_eq!(
            python_json_dumps_sorted(&v),
            r#""q\"b\\ n\n r\r t\t b\b f\f nul\u0000 del\u007f \u00e9 \u4e2d \ud83d\ude00""#
        );
    }

    #[test]
    fn sha256_of_known_inputs() {
        assert_eq!(
            sha256_hex(b""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
