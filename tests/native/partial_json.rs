//! The live view's reader of a JSON object still being written (`core::llm::partial_json`):
//! property-tested against serde_json, which writes the objects and reads the final values.

#![cfg(not(target_arch = "wasm32"))]

use proptest::prelude::*;
use serde_json::{Map, Value};

use trialogue::core::llm::partial_json::PartialObject;

/// Any JSON value, nested a few levels, with strings that need escapes (quotes, backslashes,
/// control characters, non-ASCII and astral characters).
fn value() -> impl Strategy<Value = Value> {
    let text = "[a-z \"\\\\/\n\t\u{1}é😀}{\\]\\[,:]{0,12}";
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i32>().prop_map(Value::from),
        (-1.0e6f64..1.0e6).prop_map(Value::from),
        text.prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[a-z]{1,4}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// A top-level object (keys may need escapes too), its text written compact or pretty, and
/// whether it comes after prose and a code fence as in a prompt-only reply.
fn object_text() -> impl Strategy<Value = (Map<String, Value>, String)> {
    (
        prop::collection::btree_map("[a-z_\"\\\\é]{1,6}", value(), 0..6),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|(fields, pretty, fenced)| {
            let object: Map<String, Value> = fields.into_iter().collect();
            let json = if pretty {
                serde_json::to_string_pretty(&object).unwrap()
            } else {
                serde_json::to_string(&object).unwrap()
            };
            let text = if fenced {
                format!("Here is my answer.\n\n```json\n{json}\n```\nThanks.")
            } else {
                json
            };
            (object, text)
        })
}

fn char_prefix(text: &str, chars: usize) -> &str {
    match text.char_indices().nth(chars) {
        Some((at, _)) => &text[..at],
        None => text,
    }
}

proptest! {
    #[test]
    fn any_prefix_yields_prefixes_of_the_final_string_fields(
        (object, text) in object_text(),
        cut in 0.0f64..=1.0,
    ) {
        let chars = text.chars().count();
        let prefix = char_prefix(&text, (chars as f64 * cut) as usize);
        let mut reader = PartialObject::new();
        reader.push(prefix);
        for (key, so_far) in reader.fields() {
            let final_value = object.get(key).and_then(Value::as_str);
            prop_assert!(final_value.is_some(), "{key:?} is not a string field of {text}");
            prop_assert!(
                final_value.unwrap().starts_with(so_far.as_str()),
                "{key:?}: {so_far:?} is not a prefix of {final_value:?} (read from {prefix:?})"
            );
        }
    }

    #[test]
    fn the_whole_text_yields_every_string_field_whatever_the_pieces(
        (object, text) in object_text(),
        sizes in prop::collection::vec(1usize..8, 1..64),
    ) {
        let want: Vec<(String, String)> = object
            .iter()
            .filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_string())))
            .collect();
        let mut whole = PartialObject::new();
        whole.push(&text);
        prop_assert_eq!(whole.fields(), want.as_slice());

        // The same text in pieces of a few characters each, cut anywhere (inside escapes too).
        let chars: Vec<char> = text.chars().collect();
        let mut pieces = PartialObject::new();
        let mut at = 0;
        for size in sizes.iter().cycle() {
            if at >= chars.len() {
                break;
            }
            let end = (at + size).min(chars.len());
            pieces.push(&chars[at..end].iter().collect::<String>());
            at = end;
        }
        prop_assert_eq!(pieces, whole);
    }
}

#[test]
fn a_solver_answer_streamed_word_by_word_shows_its_solution_growing() {
    let answer = r#"{"solution": "Pairing gives 50 \u00d7 101, so \\boxed{5050}.", "reasoning": "Gauss.", "confidence": 0.9}"#;
    let mut reader = PartialObject::new();
    let mut seen = Vec::new();
    for word in answer.split_inclusive(' ') {
        reader.push(word);
        seen.push(reader.field("solution").unwrap_or_default().to_string());
    }
    assert_eq!(
        seen,
        [
            "",
            "Pairing ",
            "Pairing gives ",
            "Pairing gives 50 ",
            "Pairing gives 50 × ",
            "Pairing gives 50 × 101, ",
            "Pairing gives 50 × 101, so ",
        ]
        .iter()
        .map(|s| s.to_string())
        // The closing quote ends it; the words after it leave it as it is.
        .chain(std::iter::repeat_n(
            r"Pairing gives 50 × 101, so \boxed{5050}.".to_string(),
            5
        ))
        .collect::<Vec<_>>()
    );
    assert_eq!(reader.field("reasoning"), Some("Gauss."));
}
