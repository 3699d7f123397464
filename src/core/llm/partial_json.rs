//! Reading a JSON object while it is still being written: the text values of its top-level
//! fields so far, from whatever prefix of the object a stream has delivered.
//!
//! A streamed structured answer arrives as JSON text in pieces (`{"solution": "The sum is`…).
//! The live view shows what the agent is saying — the growing `solution` or `critique` — rather
//! than the raw JSON. The reader is tolerant (text before the object, such as a prompt-only
//! reply's preamble and code fence, is skipped; what follows the object is ignored) and
//! incremental: each piece is read once, so a long answer costs time in proportion to its
//! length, not to the number of pieces times its length.
//!
//! What it promises: after any prefix of a valid JSON object, every field it reports is a
//! top-level field of that object whose value is a string, and the text reported is a prefix of
//! that string's final value (an escape cut in the middle is held back until it is whole).

/// The top-level string fields of a JSON object read from a prefix of its text.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PartialObject {
    fields: Vec<(String, String)>,
    state: State,
    /// The key being read, or just read.
    key: String,
    /// An escape (`\` and what follows so far) not yet whole.
    escape: String,
    /// A `\uXXXX` high surrogate waiting for its low half.
    high_surrogate: Option<u16>,
    /// Nesting depth inside a non-string value (arrays and objects skipped).
    depth: u32,
    /// Whether the skipped value's cursor is inside a string.
    skip_in_string: bool,
    skip_escaped: bool,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
enum State {
    /// Before the object's `{`.
    #[default]
    Before,
    /// Inside the object, where a key or `}` comes next.
    ExpectKey,
    /// Inside a key's string.
    Key,
    /// After a key, before its `:`.
    Colon,
    /// After `:`, before the value.
    Value,
    /// Inside a string value (the last field's).
    Text,
    /// Inside a value that is not a string (a number, `true`, an array…), skipped.
    Skip,
    /// After a value, before `,` or `}`.
    Next,
    /// The object is closed (or the text is not an object): the rest is ignored.
    Done,
}

impl PartialObject {
    /// A reader that has read nothing.
    pub fn new() -> Self {
        Self::default()
    }

    /// Reads the next piece of the text.
    pub fn push(&mut self, piece: &str) {
        for c in piece.chars() {
            if self.state == State::Done {
                return;
            }
            self.step(c);
        }
    }

    /// The string fields so far, in the order they came, with their text so far.
    pub fn fields(&self) -> &[(String, String)] {
        &self.fields
    }

    /// The text so far of the field `name`, if it has started and is a string.
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .rev()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    /// Whether the object's opening `{` has come (before it, the text is not JSON yet).
    pub fn has_started(&self) -> bool {
        self.state != State::Before
    }

    fn step(&mut self, c: char) {
        match self.state {
            State::Before => {
                if c == '{' {
                    self.state = State::ExpectKey;
                }
            }
            State::ExpectKey => match c {
                '"' => {
                    self.key.clear();
                    self.state = State::Key;
                }
                '}' => self.state = State::Done,
                c if c.is_whitespace() || c == ',' => {}
                _ => self.state = State::Done,
            },
            State::Key => {
                if let Some(decoded) = self.string_char(c) {
                    match decoded {
                        Decoded::End => self.state = State::Colon,
                        Decoded::Text(text) => self.key.push_str(&text),
                        Decoded::Pending => {}
                    }
                }
            }
            State::Colon => match c {
                ':' => self.state = State::Value,
                c if c.is_whitespace() => {}
                _ => self.state = State::Done,
            },
            State::Value => match c {
                '"' => {
                    self.fields
                        .push((std::mem::take(&mut self.key), String::new()));
                    self.state = State::Text;
                }
                c if c.is_whitespace() => {}
                '{' | '[' => {
                    self.depth = 1;
                    self.skip_in_string = false;
                    self.state = State::Skip;
                }
                _ => {
                    self.depth = 0;
                    self.state = State::Skip;
                }
            },
            State::Text => {
                if let Some(decoded) = self.string_char(c) {
                    match decoded {
                        Decoded::End => self.state = State::Next,
                        Decoded::Text(text) => {
                            if let Some((_, value)) = self.fields.last_mut() {
                                value.push_str(&text);
                            }
                        }
                        Decoded::Pending => {}
                    }
                }
            }
            State::Skip => self.skip(c),
            State::Next => match c {
                ',' => self.state = State::ExpectKey,
                '}' => self.state = State::Done,
                c if c.is_whitespace() => {}
                _ => self.state = State::Done,
            },
            State::Done => {}
        }
    }

    /// One character of a non-string value: scalars end at `,` or `}` of the object; arrays
    /// and objects at their matching bracket (brackets inside strings do not count).
    fn skip(&mut self, c: char) {
        if self.depth == 0 {
            match c {
                ',' => self.state = State::ExpectKey,
                '}' => self.state = State::Done,
                _ => {}
            }
            return;
        }
        if self.skip_in_string {
            if self.skip_escaped {
                self.skip_escaped = false;
            } else if c == '\\' {
                self.skip_escaped = true;
            } else if c == '"' {
                self.skip_in_string = false;
            }
            return;
        }
        match c {
            '"' => self.skip_in_string = true,
            '{' | '[' => self.depth += 1,
            '}' | ']' => {
                self.depth -= 1;
                if self.depth == 0 {
                    self.state = State::Next;
                }
            }
            _ => {}
        }
    }

    /// One character inside a string: the text it adds, the string's end, or nothing yet (an
    /// escape still incomplete).
    fn string_char(&mut self, c: char) -> Option<Decoded> {
        if self.escape.is_empty() {
            return Some(match c {
                '"' => Decoded::End,
                '\\' => {
                    self.escape.push(c);
                    Decoded::Pending
                }
                c => self.text(c.to_string()),
            });
        }
        self.escape.push(c);
        let escape = self.escape.as_str();
        let simple = match escape {
            "\\\"" => Some('"'),
            "\\\\" => Some('\\'),
            "\\/" => Some('/'),
            "\\b" => Some('\u{8}'),
            "\\f" => Some('\u{c}'),
            "\\n" => Some('\n'),
            "\\r" => Some('\r'),
            "\\t" => Some('\t'),
            _ => None,
        };
        if let Some(c) = simple {
            self.escape.clear();
            return Some(self.text(c.to_string()));
        }
        if !escape.starts_with("\\u") {
            // Not valid JSON; keep the characters rather than lose them.
            let text = std::mem::take(&mut self.escape);
            return Some(self.text(text));
        }
        if escape.len() < 6 {
            return Some(Decoded::Pending);
        }
        let code = u16::from_str_radix(&escape[2..6], 16).ok();
        self.escape.clear();
        let Some(code) = code else {
            return Some(Decoded::Text(char::REPLACEMENT_CHARACTER.to_string()));
        };
        Some(match (self.high_surrogate.take(), code) {
            (None, 0xD800..=0xDBFF) => {
                self.high_surrogate = Some(code);
                Decoded::Pending
            }
            (Some(high), 0xDC00..=0xDFFF) => {
                let scalar =
                    0x10000 + ((u32::from(high) - 0xD800) << 10) + (u32::from(code) - 0xDC00);
                Decoded::Text(
                    char::from_u32(scalar)
                        .unwrap_or(char::REPLACEMENT_CHARACTER)
                        .to_string(),
                )
            }
            (high, code) => {
                let mut text = String::new();
                if high.is_some() {
                    text.push(char::REPLACEMENT_CHARACTER);
                }
                text.push(char::from_u32(u32::from(code)).unwrap_or(char::REPLACEMENT_CHARACTER));
                Decoded::Text(text)
            }
        })
    }

    /// Plain text, after any high surrogate left without its low half.
    fn text(&mut self, text: String) -> Decoded {
        match self.high_surrogate.take() {
            Some(_) => Decoded::Text(format!("{}{text}", char::REPLACEMENT_CHARACTER)),
            None => Decoded::Text(text),
        }
    }
}

enum Decoded {
    Text(String),
    End,
    Pending,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> PartialObject {
        let mut reader = PartialObject::new();
        reader.push(text);
        reader
    }

    #[test]
    fn a_growing_solution_is_read_before_the_object_closes() {
        let reader = read(r#"{"solution": "The sum is \\boxed{50"#);
        assert_eq!(reader.field("solution"), Some(r"The sum is \boxed{50"));
        let reader = read(r#"{"solution": "done", "confidence": 0.9, "critique": "Step 2 \"fails"#);
        assert_eq!(reader.field("critique"), Some("Step 2 \"fails"));
        assert_eq!(reader.field("confidence"), None);
    }

    #[test]
    fn an_escape_cut_in_the_middle_is_held_back() {
        assert_eq!(read(r#"{"a": "x\"#).field("a"), Some("x"));
        assert_eq!(read(r#"{"a": "x\u00"#).field("a"), Some("x"));
        assert_eq!(read(r#"{"a": "x\u00e9"#).field("a"), Some("xé"));
        assert_eq!(read(r#"{"a": "\ud83d"#).field("a"), Some(""));
        assert_eq!(read(r#"{"a": "\ud83d\ude00!"#).field("a"), Some("😀!"));
    }

    #[test]
    fn prose_and_a_fence_before_the_object_are_skipped() {
        let reader = read("Here is my answer.\n\n```json\n{\n  \"solution\": \"4\"\n}\n```");
        assert!(reader.has_started());
        assert_eq!(
            reader.fields(),
            &[("solution".to_string(), "4".to_string())]
        );
        assert!(!read("Here is").has_started());
    }

    #[test]
    fn nested_values_are_skipped_with_the_brackets_inside_their_strings() {
        let reader = read(r#"{"scores": [{"c": "a ] }"}], "m": {"x": "}"}, "critique": "ok"}"#);
        assert_eq!(
            reader.fields(),
            &[("critique".to_string(), "ok".to_string())]
        );
    }
}
