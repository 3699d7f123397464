//! The one guarded reader of outside JSON and YAML: every file a user picks or pastes
//! (configs, datasets, trajectories, price files) is read here, under [`Limits`] on its size,
//! its nesting and how many values it holds, YAML aliases counted every time they expand.
//!
//! A YAML file of a few kilobytes of anchors and aliases can stand for billions of values (the
//! "billion laughs"), and one of a megabyte for more than any memory holds. The limits are
//! checked as the parser walks the document, before anything is built, so such a file is
//! refused after at most [`Limits::max_nodes`] steps, using no memory beyond the parser's own.
//!
//! - [`text`]: a file's bytes as UTF-8 text within the size limit.
//! - [`check_json`], [`check_yaml`]: walk a document under the limits, building nothing; for
//!   readers that then deserialize their own types (the config reader, the price table).
//! - [`json_value`], [`yaml_value`]: a document as a [`serde_json::Value`], under the limits;
//!   [`json_value_within`] for documents that share one budget (the lines of a JSONL file).
//! - [`Budget`], [`Skip`], [`SkipVisitor`]: the counters, for readers with serde visitors of
//!   their own.
//!
//! JSON and YAML have functions of their own rather than a match on the format, so that code
//! reading only JSON does not take the YAML parser into the page's first load.

use std::cell::Cell;
use std::fmt;

use serde::de::{
    self, DeserializeSeed, Deserializer, EnumAccess, MapAccess, SeqAccess, VariantAccess, Visitor,
};
use serde_json::{Map, Number, Value};

/// What a reader accepts. Each reader has its own (see `CONFIG_LIMITS`, `DATASET_LIMITS`…);
/// the checks are the same everywhere.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The largest input, in bytes. The text of all the values together (strings and keys,
    /// alias expansions included) may not exceed it either: a document never stands for more
    /// text than the largest file the reader takes.
    pub max_bytes: usize,
    /// The deepest nesting of values (a top-level scalar is at depth 1).
    pub max_depth: usize,
    /// The most values (keys included), an alias counting every value it expands to each time
    /// it is used.
    pub max_nodes: usize,
}

/// The limit a document went over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Exceeded {
    /// Nesting deeper than [`Limits::max_depth`].
    #[error("nested more than {limit} levels deep")]
    Depth {
        /// The limit.
        limit: usize,
    },
    /// More values than [`Limits::max_nodes`].
    #[error("more than {limit} values, counting alias expansions")]
    Nodes {
        /// The limit.
        limit: usize,
    },
    /// More text than [`Limits::max_bytes`].
    #[error("more than {limit} bytes of text, counting alias expansions")]
    Text {
        /// The limit.
        limit: usize,
    },
    /// The YAML parser's own cap on alias replays.
    #[error("aliases expand too many times")]
    Aliases,
}

/// Why a document could not be read. Lines and columns are 1-based; columns count characters.
///
/// The messages complete "the file …"; each reader says which file and what to do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReadError {
    /// Over [`Limits::max_bytes`]; not parsed.
    #[error("is {bytes} bytes, over the {limit}-byte limit")]
    TooLarge {
        /// The input's size.
        bytes: usize,
        /// The limit.
        limit: usize,
    },
    /// Not UTF-8 (binary, or saved as UTF-16 or Latin-1).
    #[error("is not UTF-8 text (invalid byte at line {line}, column {column})")]
    NotUtf8 {
        /// Line of the first invalid byte.
        line: usize,
        /// Column of the first invalid byte.
        column: usize,
        /// Byte offset of the first invalid byte.
        byte_offset: usize,
    },
    /// Nothing but whitespace (or, in YAML, comments).
    #[error("is empty")]
    Empty,
    /// Not well-formed.
    #[error("has a syntax error at line {line}, column {column}: {message}")]
    Syntax {
        /// Where the parser stopped.
        line: usize,
        /// Where the parser stopped.
        column: usize,
        /// The parser's description, without its position.
        message: String,
    },
    /// Over [`Limits::max_depth`] or [`Limits::max_nodes`], or too much text.
    #[error("is too deeply nested or expands too much ({0})")]
    TooComplex(Exceeded),
    /// A YAML stream of several documents (`---`).
    #[error("holds more than one YAML document (separated by `---`)")]
    SeveralDocuments,
    /// Any other failure of the parser, without a position.
    #[error("could not be read: {message}")]
    Unreadable {
        /// The parser's description.
        message: String,
    },
}

/// `bytes` as text: within [`Limits::max_bytes`], UTF-8, a byte-order mark dropped, not blank.
pub fn text<'a>(bytes: &'a [u8], limits: &Limits) -> Result<&'a str, ReadError> {
    within_size(bytes.len(), limits)?;
    let text = std::str::from_utf8(bytes).map_err(|e| not_utf8(bytes, e.valid_up_to()))?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if text.trim().is_empty() {
        return Err(ReadError::Empty);
    }
    Ok(text)
}

fn within_size(bytes: usize, limits: &Limits) -> Result<(), ReadError> {
    if bytes > limits.max_bytes {
        return Err(ReadError::TooLarge {
            bytes,
            limit: limits.max_bytes,
        });
    }
    Ok(())
}

fn not_utf8(bytes: &[u8], offset: usize) -> ReadError {
    let before = String::from_utf8_lossy(&bytes[..offset.min(bytes.len())]);
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    ReadError::NotUtf8 {
        line,
        column,
        byte_offset: offset,
    }
}

/// The 1-based character column of serde_json's `byte_column` on `line` of `text` (serde_json
/// counts bytes; users count characters).
pub fn char_column(text: &str, line: usize, byte_column: usize) -> usize {
    let Some(line_text) = text.split('\n').nth(line.saturating_sub(1)) else {
        return byte_column.max(1);
    };
    let chars = line_text
        .char_indices()
        .take_while(|(i, _)| *i < byte_column)
        .count();
    chars.max(1)
}

/// Walks the JSON document `text` under `limits`, building nothing.
pub fn check_json(text: &str, limits: &Limits) -> Result<(), ReadError> {
    within_size(text.len(), limits)?;
    let budget = Budget::new(*limits);
    let mut de = serde_json::Deserializer::from_str(text);
    Skip { budget: &budget }
        .deserialize(&mut de)
        .and_then(|()| de.end())
        .map_err(|e| json_error(e, text, &budget))
}

/// The JSON document `text` as a value, under `limits`.
pub fn json_value(text: &str, limits: &Limits) -> Result<Value, ReadError> {
    within_size(text.len(), limits)?;
    // JSON has no aliases: a document holds at most as many values as it has bytes, so the
    // value is built in the same pass that counts.
    json_value_within(text, &Budget::new(*limits))
}

/// [`json_value`] for one of several documents read under one budget (the lines of a JSONL
/// file): their values and text add up, each nests on its own. The size is the budget's text
/// limit.
pub fn json_value_within(text: &str, budget: &Budget) -> Result<Value, ReadError> {
    let mut de = serde_json::Deserializer::from_str(text);
    ValueSeed { budget }
        .deserialize(&mut de)
        .and_then(|value| de.end().map(|()| value))
        .map_err(|e| json_error(e, text, budget))
}

/// What a serde_json error says, the limit that stopped the read first.
fn json_error(e: serde_json::Error, text: &str, budget: &Budget) -> ReadError {
    if let Some(exceeded) = budget.exceeded() {
        return ReadError::TooComplex(exceeded);
    }
    let full = e.to_string();
    let suffix = format!(" at line {} column {}", e.line(), e.column());
    let message = full.strip_suffix(&suffix).unwrap_or(&full).to_string();
    if message.contains("recursion limit exceeded") {
        return ReadError::TooComplex(Exceeded::Depth {
            limit: budget.limits.max_depth,
        });
    }
    if text.trim().is_empty() {
        return ReadError::Empty;
    }
    ReadError::Syntax {
        line: e.line().max(1),
        column: char_column(text, e.line(), e.column()),
        message,
    }
}

/// Walks the YAML document `text` under `limits`, building nothing.
pub fn check_yaml(text: &str, limits: &Limits) -> Result<(), ReadError> {
    within_size(text.len(), limits)?;
    let budget = Budget::new(*limits);
    Skip { budget: &budget }
        .deserialize(serde_norway::Deserializer::from_str(text))
        .map_err(|e| yaml_error(e, &budget))
}

/// The YAML document `text` as a JSON value, under `limits`: aliases expanded, tags dropped,
/// keys that are not text written as JSON (`1`, `true`, `[1,2]`), and `.nan` / `.inf`, which
/// JSON has no number for, kept as the text `.nan`, `.inf`, `-.inf`.
pub fn yaml_value(text: &str, limits: &Limits) -> Result<Value, ReadError> {
    // The walk first: a bomb is refused before a single value of it is built.
    check_yaml(text, limits)?;
    let budget = Budget::new(*limits);
    ValueSeed { budget: &budget }
        .deserialize(serde_norway::Deserializer::from_str(text))
        .map_err(|e| yaml_error(e, &budget))
}

/// What a serde_norway error says, the limit that stopped the read first.
fn yaml_error(e: serde_norway::Error, budget: &Budget) -> ReadError {
    if let Some(exceeded) = budget.exceeded() {
        return ReadError::TooComplex(exceeded);
    }
    let location = e.location().map(|l| (l.line(), l.column()));
    let full = e.to_string();
    let message = match location {
        Some((line, column)) => full.replacen(&format!(" at line {line} column {column}"), "", 1),
        None => full,
    };
    if message.starts_with("recursion limit exceeded") {
        return ReadError::TooComplex(Exceeded::Depth {
            limit: budget.limits.max_depth,
        });
    }
    if message.starts_with("repetition limit exceeded") {
        return ReadError::TooComplex(Exceeded::Aliases);
    }
    if message.contains("more than one document") {
        return ReadError::SeveralDocuments;
    }
    if message.starts_with("EOF while parsing a value") {
        return ReadError::Empty;
    }
    match location {
        Some((line, column)) => ReadError::Syntax {
            line,
            column,
            message,
        },
        None => ReadError::Unreadable { message },
    }
}

/// The counters of one read: values, nesting and text so far, against [`Limits`].
///
/// Serde visitors call [`tick`](Self::tick) for every value, [`text`](Self::text) for every
/// string and [`nested`](Self::nested) around every value's contents; past a limit each
/// returns the serde error that ends the parse, and [`exceeded`](Self::exceeded) says which
/// limit it was.
#[derive(Debug)]
pub struct Budget {
    limits: Limits,
    nodes: Cell<usize>,
    depth: Cell<usize>,
    text: Cell<usize>,
    exceeded: Cell<Option<Exceeded>>,
}

impl Budget {
    /// A budget with nothing counted yet.
    pub fn new(limits: Limits) -> Self {
        Budget {
            limits,
            nodes: Cell::new(0),
            depth: Cell::new(0),
            text: Cell::new(0),
            exceeded: Cell::new(None),
        }
    }

    /// The limits counted against.
    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// The values counted so far.
    pub fn nodes(&self) -> usize {
        self.nodes.get()
    }

    /// Which limit ended the read, if one did; taking it clears it.
    pub fn exceeded(&self) -> Option<Exceeded> {
        self.exceeded.take()
    }

    fn exceed<E: de::Error>(&self, what: Exceeded) -> E {
        if self.exceeded.get().is_none() {
            self.exceeded.set(Some(what));
        }
        E::custom(what)
    }

    /// Counts one value; fails past [`Limits::max_nodes`].
    pub fn tick<E: de::Error>(&self) -> Result<(), E> {
        let n = self.nodes.get() + 1;
        self.nodes.set(n);
        if n > self.limits.max_nodes {
            return Err(self.exceed(Exceeded::Nodes {
                limit: self.limits.max_nodes,
            }));
        }
        Ok(())
    }

    /// Counts `bytes` of text; fails past [`Limits::max_bytes`] in all.
    pub fn text<E: de::Error>(&self, bytes: usize) -> Result<(), E> {
        let total = self.text.get().saturating_add(bytes);
        self.text.set(total);
        if total > self.limits.max_bytes {
            return Err(self.exceed(Exceeded::Text {
                limit: self.limits.max_bytes,
            }));
        }
        Ok(())
    }

    /// Runs `f` one level deeper; fails past [`Limits::max_depth`].
    pub fn nested<T, E: de::Error>(&self, f: impl FnOnce() -> Result<T, E>) -> Result<T, E> {
        let depth = self.depth.get() + 1;
        if depth > self.limits.max_depth {
            return Err(self.exceed(Exceeded::Depth {
                limit: self.limits.max_depth,
            }));
        }
        self.depth.set(depth);
        let result = f();
        self.depth.set(depth - 1);
        result
    }
}

/// Consumes a value, counting every node and every byte of text against the budget.
pub struct Skip<'b> {
    /// The counters.
    pub budget: &'b Budget,
}

impl<'de> DeserializeSeed<'de> for Skip<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        let budget = self.budget;
        budget.tick::<D::Error>()?;
        budget.nested(|| d.deserialize_any(SkipVisitor { budget }))
    }
}

/// The visitor of [`Skip`], for visitors that hand it a list or a mapping they do not read.
pub struct SkipVisitor<'b> {
    /// The counters.
    pub budget: &'b Budget,
}

impl<'de> Visitor<'de> for SkipVisitor<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any value")
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_i128<E: de::Error>(self, _: i128) -> Result<(), E> {
        Ok(())
    }
    fn visit_u128<E: de::Error>(self, _: u128) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<(), E> {
        self.budget.text(v.len())
    }
    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<(), E> {
        self.budget.text(v.len())
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_none<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        Skip {
            budget: self.budget,
        }
        .deserialize(d)
    }
    fn visit_newtype_struct<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        Skip {
            budget: self.budget,
        }
        .deserialize(d)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq
            .next_element_seed(Skip {
                budget: self.budget,
            })?
            .is_some()
        {}
        Ok(())
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while map
            .next_key_seed(Skip {
                budget: self.budget,
            })?
            .is_some()
        {
            map.next_value_seed(Skip {
                budget: self.budget,
            })?;
        }
        Ok(())
    }
    fn visit_enum<A: EnumAccess<'de>>(self, data: A) -> Result<(), A::Error> {
        let ((), variant) = data.variant_seed(Skip {
            budget: self.budget,
        })?;
        variant.newtype_variant_seed(Skip {
            budget: self.budget,
        })
    }
}

/// Builds a [`Value`], counting as [`Skip`] does.
struct ValueSeed<'b> {
    budget: &'b Budget,
}

impl<'de> DeserializeSeed<'de> for ValueSeed<'_> {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        let budget = self.budget;
        budget.tick::<D::Error>()?;
        budget.nested(|| d.deserialize_any(ValueVisitor { budget }))
    }
}

struct ValueVisitor<'b> {
    budget: &'b Budget,
}

impl ValueVisitor<'_> {
    fn seed(&self) -> ValueSeed<'_> {
        ValueSeed {
            budget: self.budget,
        }
    }
}

/// A float as JSON holds it; `.nan` and `.inf` (YAML only) as the text YAML writes for them.
fn float_value(v: f64) -> Value {
    match Number::from_f64(v) {
        Some(n) => Value::Number(n),
        None if v.is_nan() => Value::String(".nan".to_string()),
        None if v > 0.0 => Value::String(".inf".to_string()),
        None => Value::String("-.inf".to_string()),
    }
}

impl<'de> Visitor<'de> for ValueVisitor<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any value")
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_i128<E: de::Error>(self, v: i128) -> Result<Value, E> {
        Ok(match i64::try_from(v) {
            Ok(v) => Value::from(v),
            Err(_) => float_value(v as f64),
        })
    }
    fn visit_u128<E: de::Error>(self, v: u128) -> Result<Value, E> {
        Ok(match u64::try_from(v) {
            Ok(v) => Value::from(v),
            Err(_) => float_value(v as f64),
        })
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        Ok(float_value(v))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Value, E> {
        self.budget.text(v.len())?;
        Ok(Value::String(v.to_string()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Value, E> {
        self.budget.text(v.len())?;
        Ok(Value::String(v))
    }
    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Value, E> {
        Err(E::invalid_type(de::Unexpected::Bytes(v), &self))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
    fn visit_newtype_struct<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        // No capacity from the size hint: it is the file's word, not a count of values read.
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(self.seed())? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut object = Map::new();
        while let Some(key) = map.next_key_seed(self.seed())? {
            let key = match key {
                Value::String(key) => key,
                other => other.to_string(),
            };
            let value = map.next_value_seed(self.seed())?;
            object.insert(key, value);
        }
        Ok(Value::Object(object))
    }
    fn visit_enum<A: EnumAccess<'de>>(self, data: A) -> Result<Value, A::Error> {
        // A YAML tag (`!name value`): the tag is dropped, the value kept.
        let ((), variant) = data.variant_seed(Skip {
            budget: self.budget,
        })?;
        variant.newtype_variant_seed(self.seed())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SMALL: Limits = Limits {
        max_bytes: 1_000,
        max_depth: 4,
        max_nodes: 20,
    };

    #[test]
    fn each_limit_is_named_when_it_is_hit() {
        assert_eq!(
            json_value(&" ".repeat(1_001), &SMALL),
            Err(ReadError::TooLarge {
                bytes: 1_001,
                limit: 1_000
            })
        );
        assert_eq!(
            json_value("[[[[1]]]]", &SMALL),
            Err(ReadError::TooComplex(Exceeded::Depth { limit: 4 }))
        );
        assert!(json_value("[[[1]]]", &SMALL).is_ok());
        let twenty = format!("[{}]", ["0"; 19].join(","));
        assert!(json_value(&twenty, &SMALL).is_ok());
        let twenty_one = format!("[{}]", ["0"; 20].join(","));
        assert_eq!(
            json_value(&twenty_one, &SMALL),
            Err(ReadError::TooComplex(Exceeded::Nodes { limit: 20 }))
        );
        // Three aliases of a 400-byte string stand for 1,200 bytes of text.
        let text = format!("a: &a {}\nb: [*a, *a]\n", "x".repeat(400));
        assert_eq!(
            yaml_value(&text, &SMALL),
            Err(ReadError::TooComplex(Exceeded::Text { limit: 1_000 }))
        );
    }

    #[test]
    fn yaml_reads_as_json_would_hold_it() {
        let text = "1: one\ntrue: [.nan, .inf, -.inf, 2.5, -3]\n? [1, 2]\n: !tag pair\n";
        let value = yaml_value(text, &SMALL).unwrap();
        assert_eq!(
            value,
            serde_json::json!({
                "1": "one",
                "true": [".nan", ".inf", "-.inf", 2.5, -3],
                "[1,2]": "pair"
            })
        );
    }

    #[test]
    fn positions_count_characters() {
        let err = json_value("{\"é\": x}", &SMALL).unwrap_err();
        assert!(
            matches!(
                err,
                ReadError::Syntax {
                    line: 1,
                    column: 7,
                    ..
                }
            ),
            "{err:?}"
        );
        assert_eq!(char_column("aé\nb", 2, 1), 1);
        assert_eq!(
            text(b"ok\n\xff", &SMALL),
            Err(ReadError::NotUtf8 {
                line: 2,
                column: 1,
                byte_offset: 3
            })
        );
        assert_eq!(text(b"\xef\xbb\xbf  \n", &SMALL), Err(ReadError::Empty));
        assert_eq!(yaml_value("# nothing\n", &SMALL), Ok(Value::Null));
        assert_eq!(
            yaml_value("a: 1\n---\nb: 2\n", &SMALL),
            Err(ReadError::SeveralDocuments)
        );
    }
}
