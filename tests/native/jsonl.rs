//! Trajectory JSONL: what we write, reading it back, and reading the original's files.

use crate::util::{fixture_text, ready_now as block_on};
use serde_json::{json, Value};
use trialogue::core::clock::ManualClock;
use trialogue::core::config::PipelineConfig;
use trialogue::core::jsonl::{
    group_by_run, is_stored_step_line, opens_as_step, parse_line, parse_stored_line, read_jsonl,
    step_head_len, to_line, write_entry, write_entry_io, ChunkedJsonl, DuplicateStep, LineError,
};
use trialogue::core::pipeline::{MemorySink, Pipeline, RunInput};
use trialogue::core::scripted::ScriptedLlm;
use trialogue::core::trajectory::{RunRecord, RunStatus, StepTotals, TrajectoryEntry};

fn fixture(name: &str) -> String {
    fixture_text(&format!("trajectories/{name}"))
}

fn config(mode: &str) -> PipelineConfig {
    serde_json::from_value(json!({
        "solver": {"role": "solver", "model": "openai/gpt-4o-mini", "temperature": 0.0, "max_tokens": 512,
                   "prompt_template": "{problem} {feedback}", "system_prompt": ""},
        "verifier": {"role": "verifier", "model": "anthropic/claude-haiku", "temperature": 0.0, "max_tokens": 256,
                     "prompt_template": "{problem} {solution}", "system_prompt": ""},
        "judge": {"model": "gemini/gemini-2.0-flash", "temperature": 0.0, "max_tokens": 256,
                  "prompt_template": "{problem} {solution} {rubric}", "system_prompt": "", "scoring_rubric": "r"},
        "mode": mode, "max_iterations": 3, "trajectory_output_dir": "trajectories", "config_version": "1",
        "max_reasks": 2, "max_attempts": 3, "request_timeout_secs": 120,
        "run_budget_usd": null, "batch_budget_usd": null
    }))
    .expect("test config")
}

/// A scripted run (2026-03-01T12:00:00Z, hash 0badf00d) of `problem` with ground truth 4.
fn scripted_run(mode: &str, llm: &ScriptedLlm, problem: &str) -> Vec<TrajectoryEntry> {
    let cfg = config(mode);
    let clock = ManualClock::starting_at(1_772_366_400_000.0);
    let sink = MemorySink::new();
    let input = RunInput {
        run_id: "run_20260301_120000_0badf00d".into(),
        problem: problem.into(),
        ground_truth: Some("4".into()),
    };
    block_on(Pipeline::new(&cfg, llm, &clock, &sink).run(&input)).entries
}

fn debate_entries() -> Vec<TrajectoryEntry> {
    let llm = ScriptedLlm::builder()
        .solve("3")
        .verify(false, "off by one; \"quote\" and \\ backslash")
        .solve(r"\boxed{4}")
        .verify(true, "ok")
        .judge(0.75)
        .build();
    scripted_run("debate", &llm, "What is 2+2?\nShow work.")
}

#[test]
fn our_output_is_byte_for_byte_the_documented_format() {
    let llm = ScriptedLlm::builder()
        .solve(r"\boxed{4}")
        .judge(0.5)
        .build();
    let entries = scripted_run("baseline", &llm, "What is 2+2? Answer in \u{e9}tapes.");
    let mut text = String::new();
    for entry in &entries {
        write_entry(&mut text, entry).unwrap();
    }
    assert_eq!(text, fixture("ours_baseline.jsonl"));
}

#[test]
fn our_files_round_trip() {
    let entries = debate_entries();
    assert_eq!(entries.len(), 5);
    let mut text = String::new();
    for entry in &entries {
        write_entry(&mut text, entry).unwrap();
    }
    assert_eq!(text.lines().count(), 5);
    assert!(text.ends_with('\n'));
    assert!(
        text.lines().all(|l| l == l.trim_end()),
        "no trailing spaces"
    );
    let report = read_jsonl(&text);
    assert!(report.rejected.is_empty(), "{:?}", report.rejected);
    assert!(report.duplicates.is_empty());
    assert_eq!(report.entries, entries);
    assert_eq!(report.lines, vec![1, 2, 3, 4, 5]);
}

#[test]
fn io_writer_and_fmt_writer_write_the_same_bytes() {
    let entries = debate_entries();
    let mut text = String::new();
    let mut bytes = Vec::new();
    for entry in &entries {
        write_entry(&mut text, entry).unwrap();
        write_entry_io(&mut bytes, entry).unwrap();
    }
    assert_eq!(String::from_utf8(bytes).unwrap(), text);
}

#[test]
fn chunked_output_equals_the_line_by_line_concatenation() {
    let entries = debate_entries();
    let expected: String = entries.iter().map(|e| to_line(e).unwrap()).collect();
    let longest = entries
        .iter()
        .map(|e| to_line(e).unwrap().len())
        .max()
        .unwrap();
    for chunk_bytes in [1, 100, longest, longest + 1, 3 * longest, 1 << 20] {
        let mut chunks = ChunkedJsonl::new(chunk_bytes);
        let mut parts = Vec::new();
        for entry in &entries {
            parts.extend(chunks.push(entry).unwrap());
        }
        assert_eq!(chunks.lines(), entries.len() as u64);
        parts.extend(chunks.finish());
        assert_eq!(parts.concat(), expected, "chunks of {chunk_bytes}");
        assert!(parts.iter().all(|p| p.ends_with('\n')), "whole lines only");
        // No chunk but the last is smaller than asked; none holds more than one extra line.
        for part in &parts[..parts.len() - 1] {
            assert!(part.len() >= chunk_bytes.min(expected.len()));
            assert!(part.len() < chunk_bytes + longest + 1);
        }
    }
}

/// The export writes a stored line as it is instead of parsing it and writing it again: both
/// give the same bytes for every line Trialogue stores (a debate's steps, the original's
/// file read in), and the reused buffer gives what `push` gives.
#[test]
fn stored_lines_exported_as_is_equal_the_parsed_entries_written_again() {
    let mut entries = debate_entries();
    entries.extend(read_jsonl(&fixture("original_format.jsonl")).entries);
    let mut chunks = ChunkedJsonl::new(1000);
    let mut reused = Vec::new();
    let mut expected = String::new();
    for entry in &entries {
        let line = to_line(entry).unwrap();
        let stored = line.trim_end_matches('\n');
        assert!(
            is_stored_step_line(stored, &entry.run_id, entry.step_id),
            "{stored}"
        );
        // The browser's export reads only this head of a stored line (in UTF-16 code units, a
        // JS string's) to let it out as is: every line Trialogue stores takes that fast path.
        let head: Vec<u16> = stored
            .encode_utf16()
            .take(step_head_len(&entry.run_id))
            .collect();
        assert!(
            opens_as_step(
                &String::from_utf16_lossy(&head),
                &entry.run_id,
                entry.step_id
            ),
            "{stored}"
        );
        assert_eq!(to_line(&parse_stored_line(stored).unwrap()).unwrap(), line);
        if chunks.append_stored(stored) {
            reused.extend_from_slice(chunks.chunk());
            chunks.clear();
        }
        expected.push_str(&line);
    }
    reused.extend_from_slice(chunks.chunk());
    assert_eq!(String::from_utf8(reused).unwrap(), expected);
}

#[test]
fn the_originals_file_is_read_with_bad_lines_reported_by_number() {
    let report = read_jsonl(&fixture("original_format.jsonl"));
    let rejected: Vec<usize> = report.rejected.iter().map(|r| r.line).collect();
    assert_eq!(rejected, vec![3, 7]);
    assert!(matches!(
        report.rejected[0].reason,
        LineError::InvalidJson { .. }
    ));
    assert!(report.rejected[0]
        .to_string()
        .starts_with("line 3: not valid JSON"));
    assert_eq!(
        report.rejected[1].reason,
        LineError::NotAnObject { found: "an array" }
    );
    assert_eq!(
        report.duplicates,
        vec![DuplicateStep {
            run_id: "run_20250610_141500_3f2a9c1e".into(),
            step_id: 2,
            first_line: 8,
            duplicate_line: 9
        }]
    );
    assert_eq!(report.lines, vec![1, 2, 4, 5, 8, 10, 11]);
    let e = &report.entries;
    // Python's separators and key order make no difference.
    assert_eq!(e[0].timestamp, "2025-06-10T14:03:22.512345");
    assert_eq!(e[0].iteration(), Some(1));
    assert_eq!(e[0].metadata.to_object()["model"], json!("command-r-plus"));
    assert_eq!(e[0].usage().unwrap().total_tokens, 500);
    assert_eq!(
        e[0].output_str("solution"),
        Some(r"$\dbinom{8}{4} = \boxed{70}$")
    );
    assert_eq!(
        e[1].output["scores"],
        json!({"correctness": 1.0, "clarity": 0.8})
    );
    // Missing optional fields take the original's defaults.
    assert_eq!(
        (e[3].reward, e[3].terminal, e[3].success),
        (None, false, None)
    );
    assert!(e[3].is_error());
    assert_eq!(e[3].metadata.to_object()["note"], json!("ünïcode"));
    assert_eq!(e[6].success, Some(true));
}

#[test]
fn the_originals_runs_group_and_summarize() {
    let report = read_jsonl(&fixture("original_format.jsonl"));
    let runs = group_by_run(report.entries.clone());
    let shape: Vec<(&str, Vec<u64>)> = runs
        .iter()
        .map(|(id, steps)| (id.as_str(), steps.iter().map(|e| e.step_id).collect()))
        .collect();
    assert_eq!(
        shape,
        vec![
            ("run_20250610_140322_3f2a9c1e", vec![1, 2, 3]),
            ("run_20250610_141500_3f2a9c1e", vec![1, 2, 3, 4]),
        ]
    );
    let (id, steps) = &runs[1];
    let totals = StepTotals::of(steps);
    // 0 + 320 + 315 + 230 tokens, no prices in the original's metadata.
    assert_eq!(totals.usage.total_tokens, 865);
    assert_eq!((totals.cost_usd, totals.cost_complete), (None, false));
    assert_eq!(totals.iterations, 2);
    assert!(totals.passed);
    let record = RunRecord::from_entries(id, steps, 0.0);
    assert_eq!(record.status, RunStatus::Completed);
    assert_eq!(record.config_hash, "3f2a9c1e");
    assert_eq!(record.problem, "Find $x$ if $2x = 10$.");
    assert_eq!(record.correct, Some(true));
    assert_eq!(record.judge_score, Some(1.0));
}

#[test]
fn the_originals_entries_rewrite_with_every_field_and_read_back_equal() {
    let report = read_jsonl(&fixture("original_format.jsonl"));
    let mut text = String::new();
    for entry in &report.entries {
        write_entry(&mut text, entry).unwrap();
    }
    let again = read_jsonl(&text);
    assert_eq!(again.entries, report.entries);
    let first: Value = serde_json::from_str(text.lines().nth(3).unwrap()).unwrap();
    assert_eq!(first["reward"], Value::Null);
    assert_eq!(first["terminal"], json!(false));
    assert!(
        !text.contains("step_comment"),
        "unknown top-level fields are not kept"
    );
}

/// The `metadata` object of each line of `text` that is a step, as serde_json's own generic
/// reader writes it back: compact, keys sorted at every level. That is the form step metadata
/// is written in, worked out without Trialogue's types.
fn generic_metadata(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter_map(|v| v.get("metadata").cloned())
        .map(|m| m.to_string())
        .collect()
}

#[test]
fn the_originals_metadata_is_written_back_key_for_key_unknown_keys_included() {
    let original = fixture("original_format.jsonl");
    let report = read_jsonl(&original);
    let written: Vec<String> = report
        .entries
        .iter()
        .map(|e| serde_json::to_string(&e.metadata).unwrap())
        .collect();
    // Line 9 (the sixth line that is a step) repeats line 8 and is dropped as a duplicate.
    let mut expected = generic_metadata(&original);
    expected.remove(5);
    assert_eq!(written, expected);
    assert!(written[3].contains(r#""note":"ünïcode""#), "{}", written[3]);
    // Read typed all the same.
    assert_eq!(
        report.entries[0].metadata.model.as_deref(),
        Some("command-r-plus")
    );
    assert_eq!(report.entries[0].iteration(), Some(1));
    assert_eq!(
        report.entries[0].tokens().map(|t| t.total_tokens),
        Some(500)
    );
}

#[test]
fn our_metadata_is_read_typed_and_written_back_byte_for_byte() {
    let ours = fixture("ours_baseline.jsonl");
    let report = read_jsonl(&ours);
    assert_eq!(report.entries.len(), 2);
    let mut text = String::new();
    for entry in &report.entries {
        write_entry(&mut text, entry).unwrap();
    }
    assert_eq!(text, ours);
    let solver = &report.entries[0].metadata;
    assert_eq!(solver.provider(), Some("scripted"));
    assert_eq!(solver.cost_usd, Some(None), "written as null, read as null");
    assert_eq!(solver.finish_reason(), Some("stop"));
    assert_eq!(solver.config_hash.as_deref(), Some("ee36e1d2"));
    assert_eq!(solver.latency_ms, Some(250.0));
    assert_eq!(solver.reasks, Some(0));
    assert_eq!(solver.usage_complete, Some(true));
    assert_eq!(solver.attempts.as_ref().map(Vec::len), Some(1));
    assert!(solver.other.is_empty());
}

#[test]
fn a_rejected_replys_text_is_kept_in_its_attempt_and_written_only_where_there_is_one() {
    let line = r#"{"timestamp":"t","run_id":"run_n","step_id":1,"agent":"solver","action":"generate","input":{},"output":{},"metadata":{"attempts":[{"attempt":1,"error":"solution: must not be empty","kind":"initial","latency_ms":5.0,"reply":"{\"solution\": \"\"}","usage":null},{"attempt":2,"error":null,"kind":"reask","latency_ms":6.0,"usage":null}]},"reward":null,"terminal":false,"success":null}"#;
    let report = read_jsonl(&format!("{line}\n"));
    assert_eq!(report.entries.len(), 1, "{:?}", report.rejected);
    let attempts = report.entries[0].metadata.attempts.clone().unwrap();
    assert_eq!(attempts[0].reply.as_deref(), Some(r#"{"solution": ""}"#));
    assert_eq!(attempts[1].reply, None);
    let mut text = String::new();
    write_entry(&mut text, &report.entries[0]).unwrap();
    assert_eq!(text, format!("{line}\n"));
}

/// A step line with `metadata` as given.
fn step_line(step_id: u64, metadata: &str) -> String {
    format!(
        r#"{{"timestamp":"t","run_id":"run_n","step_id":{step_id},"agent":"solver","action":"generate","input":{{}},"output":{{}},"metadata":{metadata}}}"#
    )
}

#[test]
fn numbers_out_of_range_are_rejected_with_their_reason_and_the_rest_kept() {
    let bad = [
        (r#"{"cost_usd":1.7e308}"#, "metadata.cost_usd is 1.7e+308"),
        (r#"{"cost_usd":-0.01}"#, "metadata.cost_usd is -0.01"),
        (
            r#"{"cost_usd":"NaN"}"#,
            "metadata.cost_usd is the text \"NaN\"",
        ),
        (
            r#"{"cost_usd":[1]}"#,
            "metadata.cost_usd is [1], not a number",
        ),
        (r#"{"latency_ms":-5}"#, "metadata.latency_ms is -5"),
        (
            r#"{"usage":{"input_tokens":18446744073709551615}}"#,
            "metadata.usage.input_tokens is 18446744073709551615",
        ),
        (
            r#"{"tokens":{"prompt_tokens":1.5}}"#,
            "metadata.tokens.prompt_tokens is 1.5",
        ),
    ];
    let mut text = String::new();
    for (metadata, _) in &bad {
        text.push_str(&step_line(1, metadata));
        text.push('\n');
    }
    // JSON has no number above f64's largest: serde_json refuses 1e309 as out of range.
    text.push_str(&step_line(1, r#"{"cost_usd":1e309}"#));
    text.push('\n');
    text.push_str(&step_line(9_007_199_254_740_992, "{}"));
    text.push('\n');
    // In range: zero, the limit, the smallest positive number, the original's cost-less step.
    for metadata in [
        r#"{"cost_usd":0}"#,
        r#"{"cost_usd":1000000,"latency_ms":0.5}"#,
        r#"{"cost_usd":5e-324,"usage":{"input_tokens":1000000000}}"#,
        r#"{"cost_usd":null,"tokens":{"prompt_tokens":3,"completion_tokens":1,"total_tokens":4}}"#,
    ] {
        text.push_str(&step_line(2 + text.lines().count() as u64, metadata));
        text.push('\n');
    }
    let report = read_jsonl(&text);
    let reasons: Vec<String> = report.rejected.iter().map(|r| r.to_string()).collect();
    assert_eq!(reasons.len(), bad.len() + 2, "{reasons:#?}");
    for (i, (_, reason)) in bad.iter().enumerate() {
        assert!(
            reasons[i].starts_with(&format!("line {}: {reason}", i + 1)),
            "{}",
            reasons[i]
        );
        assert!(matches!(
            report.rejected[i].reason,
            LineError::OutOfRange { .. }
        ));
    }
    assert!(
        matches!(&report.rejected[bad.len()].reason, LineError::InvalidJson { message, .. } if message.contains("out of range"))
    );
    assert!(reasons[bad.len() + 1].contains("step_id is 9007199254740992"));
    assert_eq!(report.entries.len(), 4);
    let record = RunRecord::from_entries("run_n", &report.entries, 0.0);
    assert_eq!(record.cost_usd, Some(1_000_000.0 + 5e-324));
}

#[test]
fn stored_lines_read_back_whatever_their_numbers() {
    // A run stored before import checked numbers stays readable; only imports are checked.
    let line = step_line(1, r#"{"cost_usd":1.7e308}"#);
    assert!(matches!(
        parse_line(&line),
        Err(LineError::OutOfRange { .. })
    ));
    let entry = parse_stored_line(&line).unwrap();
    assert_eq!(entry.cost_usd(), Some(1.7e308));
    assert_eq!(
        parse_stored_line("[1]"),
        Err(LineError::NotAnObject { found: "an array" })
    );
}
