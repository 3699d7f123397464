//! Resource bombs and property tests for every parser that sees outside input.
//!
//! Properties: no input makes a parser panic; the work and memory a parser spends stay within
//! a bound per byte of input (allocations stand in for time: no wall clock in tests); what a
//! writer wrote, its reader reads back the same.
#![cfg(not(target_arch = "wasm32"))]

use allocation_counter::AllocationInfo;

use trialogue::core::config::{parse_config, ConfigError, ConfigFormat};
use trialogue::core::dataset::{parse_rows, DatasetError, DatasetFormat, RowProblem};
use trialogue::core::guard::{Exceeded, ReadError};
use trialogue::core::jsonl::{read_jsonl, LineError};
use trialogue::core::pricing::{PricingError, PricingTable};

/// Heap a parser may hold at its peak, per byte of input, plus a constant for small inputs.
/// The YAML parser keeps an event per scalar and marker, a few dozen bytes each.
const PEAK_BYTES_PER_INPUT_BYTE: u64 = 128;
/// Allocations a parser may make per byte of input, plus a constant.
const ALLOCATIONS_PER_INPUT_BYTE: u64 = 2;
const SLACK: u64 = 1 << 20;

fn assert_bounded(what: &str, input_len: usize, used: &AllocationInfo) {
    let len = input_len as u64;
    assert!(
        used.bytes_max <= PEAK_BYTES_PER_INPUT_BYTE * len + SLACK,
        "{what}: {} bytes of input held {} bytes of heap at once",
        len,
        used.bytes_max
    );
    assert!(
        used.count_total <= ALLOCATIONS_PER_INPUT_BYTE * len + SLACK,
        "{what}: {} bytes of input made {} allocations",
        len,
        used.count_total
    );
}

/// Runs `f`, with the heap it used on this thread.
fn measure<T>(f: impl FnOnce() -> T) -> (T, AllocationInfo) {
    let mut out = None;
    let used = allocation_counter::measure(|| out = Some(f()));
    (out.expect("measured code ran"), used)
}

// ---------------------------------------------------------------------------------------------
// Resource bombs

/// "Billion laughs": each anchored list holds the one before it `width` times, `levels` deep
/// (`width^levels` strings from a few hundred bytes).
fn nested_bomb(width: usize, levels: usize) -> String {
    let items = vec!["\"lol\""; width].join(",");
    let mut text = format!("l0: &l0 [{items}]\n");
    for i in 1..=levels {
        let refs = vec![format!("*l{}", i - 1); width].join(",");
        text.push_str(&format!("l{i}: &l{i} [{refs}]\n"));
    }
    text
}

/// A flat bomb of about `bytes` bytes: one anchored list of `n` values aliased `n` times
/// (`n²` values, with no nesting for a depth limit to catch).
fn wide_bomb(bytes: usize) -> String {
    let n = bytes / 5;
    format!(
        "a: &a [{}]\nb: [{}]\n",
        vec!["1"; n].join(","),
        vec!["*a"; n].join(",")
    )
}

/// One anchored string aliased until the text stands for far more than the file.
fn text_bomb(bytes: usize) -> String {
    let half = bytes / 2;
    format!(
        "a: &a \"{}\"\nb: [{}]\n",
        "x".repeat(half),
        vec!["*a"; half / 3].join(",")
    )
}

/// A dataset shaped bomb: a list of problems whose metadata is the bomb.
fn dataset_bomb(bomb: &str) -> String {
    format!("{bomb}problems:\n  - problem: What is 1+1?\n    extra: *l9\n")
}

#[test]
fn yaml_alias_bombs_are_refused_by_the_dataset_reader_within_bounded_memory() {
    // The wide one is the issue's: 1.5 MB standing for 9 × 10^10 values, which the reader
    // used to build until the tab ran out of memory.
    let bombs = [
        ("nested", dataset_bomb(&nested_bomb(9, 9))),
        ("nested, wider", dataset_bomb(&nested_bomb(100, 9))),
        ("wide", wide_bomb(1_500_000)),
        ("text", text_bomb(1_000_000)),
    ];
    for (what, bomb) in bombs {
        let (result, used) = measure(|| parse_rows(bomb.as_bytes(), DatasetFormat::Yaml));
        assert_bounded(what, bomb.len(), &used);
        match result {
            Err(error @ DatasetError::TooComplex { .. }) => assert!(
                error.to_string().contains("expands to too much"),
                "{what}: {error}"
            ),
            other => panic!("{what}: {other:?}"),
        }
    }
}

#[test]
fn yaml_alias_bombs_are_refused_by_the_config_reader_within_bounded_memory() {
    // A config is at most 1 MiB: the same shapes, scaled to fit.
    let bombs = [
        ("nested", nested_bomb(9, 9)),
        ("wide", wide_bomb(500_000)),
        ("text", text_bomb(500_000)),
    ];
    for (what, bomb) in bombs {
        let (result, used) = measure(|| parse_config(bomb.as_bytes(), ConfigFormat::Yaml));
        assert!(
            matches!(result, Err(ConfigError::TooComplex { .. })),
            "{what}: {result:?}"
        );
        assert_bounded(what, bomb.len(), &used);
    }
}

#[test]
fn every_json_reader_refuses_documents_past_its_limits() {
    let deep = |n: usize| format!("{}{}", "[".repeat(n), "]".repeat(n));

    // Datasets: a line too deep is a row issue and the other rows stay; values past the limit
    // across the whole file stop the import.
    let text = format!("{{\"problem\": \"a\"}}\n{{\"problem\": {}}}\n", deep(100));
    let rows = parse_rows(text.as_bytes(), DatasetFormat::Jsonl).unwrap();
    assert_eq!(rows.rows.len(), 1);
    assert!(matches!(
        rows.issues[0].problem,
        RowProblem::TooComplex {
            limit: Exceeded::Depth { limit: 64 }
        }
    ));
    let line = format!("{{\"problem\": [{}]}}\n", vec!["0"; 100_000].join(","));
    let (result, used) = measure(|| parse_rows(line.repeat(21).as_bytes(), DatasetFormat::Jsonl));
    assert!(
        matches!(
            result,
            Err(DatasetError::TooComplex {
                limit: Exceeded::Nodes { limit: 2_000_000 },
                ..
            })
        ),
        "{result:?}"
    );
    assert_bounded("JSONL over the value limit", line.len() * 21, &used);
    let json = format!("[{}]", vec!["{}"; 2_000_001].join(","));
    assert!(matches!(
        parse_rows(json.as_bytes(), DatasetFormat::Json),
        Err(DatasetError::TooComplex { .. })
    ));

    // Trajectories: a line too deep is rejected with its reason.
    let report = read_jsonl(&format!("{{\"run_id\": {}}}\n", deep(100)));
    assert_eq!(
        report.rejected[0].reason,
        LineError::TooComplex(Exceeded::Depth { limit: 64 })
    );

    // Price files.
    assert_eq!(
        PricingTable::from_litellm_json(&format!("{{\"m\": {}}}", deep(40))),
        Err(PricingError::Unreadable(ReadError::TooComplex(
            Exceeded::Depth { limit: 32 }
        )))
    );
    assert!(matches!(
        PricingTable::from_json(&deep(40)),
        Err(PricingError::Unreadable(ReadError::TooComplex(_)))
    ));
}
