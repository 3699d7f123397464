//! Writing configs as YAML that both YAML 1.1 readers (PyYAML, the original's) and YAML 1.2
//! readers (serde_norway, ours) read back to exactly the same strings and numbers.

use crate::core::hash::python_float_repr;

pub(super) fn yaml_raw(out: &mut String, indent: usize, key: &str, raw: &str) {
    out.push_str(&" ".repeat(indent));
    out.push_str(key);
    out.push_str(": ");
    out.push_str(raw);
    out.push('\n');
}

pub(super) fn yaml_text(out: &mut String, indent: usize, key: &str, value: &str) {
    match yaml_literal_block(value, indent + 2) {
        Some(block) => {
            out.push_str(&" ".repeat(indent));
            out.push_str(key);
            out.push_str(": ");
            out.push_str(&block);
        }
        None => yaml_raw(out, indent, key, &yaml_inline(value)),
    }
}

/// A float as YAML 1.1 (PyYAML) and 1.2 both read it: Python's repr, with `.0` added to a
/// bare exponent form (`1e-05` is a string to PyYAML, `1.0e-05` a float).
pub(super) fn yaml_float(x: f64) -> String {
    if x.is_nan() {
        return ".nan".to_string();
    }
    if x.is_infinite() {
        return if x > 0.0 { ".inf" } else { "-.inf" }.to_string();
    }
    let repr = python_float_repr(x);
    if repr.contains('e') && !repr.contains('.') {
        repr.replacen('e', ".0e", 1)
    } else {
        repr
    }
}

/// Characters written as themselves in a YAML scalar. Excludes what YAML cannot hold raw, the
/// byte-order mark, and NEL / LS / PS, which YAML 1.1 readers treat as line breaks.
fn yaml_raw_char(c: char) -> bool {
    matches!(c,
        ' '..='~'
        | '\u{a0}'..='\u{2027}'
        | '\u{202a}'..='\u{d7ff}'
        | '\u{e000}'..='\u{fefe}'
        | '\u{ff00}'..='\u{fffd}'
        | '\u{10000}'..)
}

/// Words YAML 1.1 or 1.2 would read as something other than a string.
const YAML_SPECIAL_WORDS: &[&str] = &[
    "y", "n", "yes", "no", "true", "false", "on", "off", "null", "nan", "inf",
];

fn yaml_inline(s: &str) -> String {
    let plain = s.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/'))
        && !YAML_SPECIAL_WORDS.contains(&s.to_ascii_lowercase().as_str());
    if plain {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if yaml_raw_char(c) => out.push(c),
            c if (c as u32) <= 0xffff => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push_str(&format!("\\U{:08x}", c as u32)),
        }
    }
    out.push('"');
    out
}

/// `|`, `|-` or `|+` and the indented lines, when a literal block says exactly `s`.
fn yaml_literal_block(s: &str, indent: usize) -> Option<String> {
    let body = s.trim_end_matches('\n');
    let trailing_newlines = s.len() - body.len();
    let lines: Vec<&str> = body.split('\n').collect();
    let suitable = s.contains('\n')
        && body
            .chars()
            .all(|c| c == '\n' || c == '\t' || yaml_raw_char(c))
        && lines
            .iter()
            .find(|l| !l.is_empty())
            .is_some_and(|first| !first.starts_with(' '))
        && lines.iter().all(|l| {
            !l.starts_with('\t') && (l.is_empty() || !l.trim_matches([' ', '\t']).is_empty())
        });
    if !suitable {
        return None;
    }
    let chomp = match trailing_newlines {
        0 => "|-",
        1 => "|",
        _ => "|+",
    };
    let pad = " ".repeat(indent);
    let mut out = format!("{chomp}\n");
    for line in lines {
        if !line.is_empty() {
            out.push_str(&pad);
            out.push_str(line);
        }
        out.push('\n');
    }
    for _ in 1..trailing_newlines {
        out.push('\n');
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml_literal_blocks_only_when_exact() {
        assert_eq!(
            yaml_literal_block("a\n  b\n", 2).as_deref(),
            Some("|\n  a\n    b\n")
        );
        assert_eq!(
            yaml_literal_block("a\n\nb", 4).as_deref(),
            Some("|-\n    a\n\n    b\n")
        );
        assert_eq!(
            yaml_literal_block("a\n\n", 2).as_deref(),
            Some("|+\n  a\n\n")
        );
        assert_eq!(yaml_literal_block(" lead\nx", 2), None);
        assert_eq!(yaml_literal_block("a\n   \nb", 2), None);
        assert_eq!(yaml_literal_block("a\r\nb", 2), None);
        assert_eq!(yaml_literal_block("single line", 2), None);
    }

    #[test]
    fn yaml_inline_quotes_whatever_could_read_as_something_else() {
        assert_eq!(yaml_inline("gpt-4.1-mini"), "gpt-4.1-mini");
        assert_eq!(yaml_inline("local/smollm2-135m"), "local/smollm2-135m");
        assert_eq!(yaml_inline("yes"), "\"yes\"");
        assert_eq!(yaml_inline("0.1"), "\"0.1\"");
        assert_eq!(yaml_inline(""), "\"\"");
        assert_eq!(yaml_inline("a: b # c"), "\"a: b # c\"");
        assert_eq!(
            yaml_inline("q\"\\\u{1}\u{85}\u{feff}é😀"),
            "\"q\\\"\\\\\\u0001\\u0085\\ufeffé😀\""
        );
        assert_eq!(yaml_float(1e-05), "1.0e-05");
        assert_eq!(yaml_float(0.3), "0.3");
    }
}
