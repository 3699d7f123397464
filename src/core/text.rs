//! Short renderings of long text, for messages, errors and table cells.

/// The first `max_chars` characters of `text` on one line (runs of whitespace become one
/// space, and the ends are trimmed), with `…` when something was cut.
///
/// Characters, not bytes, are counted, so a cut never splits a character.
pub fn excerpt(text: &str, max_chars: usize) -> String {
    let mut out = String::new();
    let mut taken = 0;
    for word in text.split_whitespace() {
        let sep = usize::from(!out.is_empty());
        let len = word.chars().count();
        if taken + sep + len > max_chars {
            let room = max_chars.saturating_sub(taken + sep);
            if room > 0 {
                if sep == 1 {
                    out.push(' ');
                }
                out.extend(word.chars().take(room));
            }
            out.push('…');
            return out;
        }
        if sep == 1 {
            out.push(' ');
        }
        out.push_str(word);
        taken += sep + len;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn excerpts_cut_on_characters_and_flatten_whitespace() {
        assert_eq!(excerpt("What is\n\n2 + 2?", 40), "What is 2 + 2?");
        assert_eq!(excerpt("  short  ", 40), "short");
        assert_eq!(excerpt("abcdef ghij", 8), "abcdef g…");
        assert_eq!(excerpt("ééééé", 3), "ééé…");
        assert_eq!(excerpt("", 5), "");
        let long = "é".repeat(600);
        let cut = excerpt(&long, 500);
        assert_eq!(cut.chars().count(), 501);
        assert!(cut.ends_with('…'));
    }
}
