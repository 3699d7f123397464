//! Resource bombs and property tests for every parser that sees outside input.
//!
//! Properties: no input makes a parser panic; the work and memory a parser spends stay within
//! a bound per byte of input (allocations stand in for time: no wall clock in tests); what a
//! writer wrote, its reader reads back the same.
#![cfg(not(target_arch = "wasm32"))]

use std::sync::OnceLock;

use proptest::prelude::*;
use proptest::test_runner::Config as ProptestConfig;
use serde_json::{json, Map, Number, Value};

use heap_counter::{measure, HeapUse};
use trialogue::core::answer::{answers_match, check_solution, extract_answer, normalize_answer};
use trialogue::core::config::{
    parse_config, parse_json_config, parse_yaml_config, AgentConfig, ConfigError, ConfigFormat,
    JudgeConfig, Mode, PipelineConfig,
};
use trialogue::core::dataset::{
    import, parse_rows, DatasetError, DatasetFormat, Problem, RowProblem,
};
use trialogue::core::guard::{Exceeded, ReadError};
use trialogue::core::jsonl::{check_numbers, parse_line, read_jsonl, to_line, LineError};
use trialogue::core::llm::adapters::support::parse_retry_after;
use trialogue::core::llm::chat::HttpResponse;
use trialogue::core::llm::dispatch::adapter;
use trialogue::core::llm::structured::{extract_json, parse_reply};
use trialogue::core::pricing::{PricingError, PricingTable};
use trialogue::core::providers::ProviderKind;
use trialogue::core::role::AgentRole;
use trialogue::core::trajectory::{StepMetadata, TrajectoryEntry};

use crate::util::fixture_path;

/// Heap a parser may hold at its peak, per byte of input, plus a constant for small inputs.
/// The YAML parser keeps an event per scalar and marker, a few dozen bytes each.
const PEAK_BYTES_PER_INPUT_BYTE: u64 = 128;
/// Allocations a parser may make per byte of input, plus a constant.
const ALLOCATIONS_PER_INPUT_BYTE: u64 = 2;
/// What any parse may use whatever its input: a mebibyte of heap, some thousands of
/// allocations (error messages, the YAML parser's tables).
const SLACK_BYTES: u64 = 1 << 20;
const SLACK_ALLOCATIONS: u64 = 20_000;

fn assert_bounded(what: &str, input_len: usize, used: &HeapUse) {
    let len = input_len as u64;
    assert!(
        used.bytes_max <= PEAK_BYTES_PER_INPUT_BYTE * len + SLACK_BYTES,
        "{what}: {} bytes of input held {} bytes of heap at once",
        len,
        used.bytes_max
    );
    assert!(
        used.count_total <= ALLOCATIONS_PER_INPUT_BYTE * len + SLACK_ALLOCATIONS,
        "{what}: {} bytes of input made {} allocations",
        len,
        used.count_total
    );
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
        ("text", text_bomb(500_000)),
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

// ---------------------------------------------------------------------------------------------
// Property tests

/// Cases per property: enough to reach the parsers' corners in well under a minute for the
/// whole file in a debug build, or `PROPTEST_CASES` for a longer hunt. Failures are not saved to
/// disk (the seed is printed).
fn cases(n: u32) -> ProptestConfig {
    let hunt = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok());
    ProptestConfig {
        cases: hunt.unwrap_or(n),
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// Any text, weighted towards the characters parsers treat specially.
fn text(max: usize) -> impl Strategy<Value = String> {
    prop_oneof![
        proptest::string::string_regex(&format!("(?s).{{0,{max}}}")).expect("regex"),
        proptest::collection::vec(
            prop_oneof![
                Just("{"),
                Just("}"),
                Just("["),
                Just("]"),
                Just("\""),
                Just(":"),
                Just(","),
                Just("\n"),
                Just("  "),
                Just("- "),
                Just("&a "),
                Just("*a"),
                Just("!tag "),
                Just("<<: "),
                Just("#"),
                Just("|"),
                Just(">"),
                Just("---\n"),
                Just("\\"),
                Just("1e400"),
                Just("-0"),
                Just(".nan"),
                Just("null"),
                Just("\u{feff}"),
                Just("é"),
                Just("\u{85}"),
                Just("\r\n"),
                Just("\t"),
                Just("'"),
                Just("?"),
            ],
            0..max / 2
        )
        .prop_map(|parts| parts.concat()),
    ]
}

/// Any JSON value, a few levels deep.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_filter_map("JSON numbers are finite", |f| Number::from_f64(f)
            .map(Value::Number)),
        text(24).prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            proptest::collection::btree_map(text(10), inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// A flat object of scalars (a dataset row's metadata: subject, level…).
fn small_object() -> impl Strategy<Value = Map<String, Value>> {
    proptest::collection::btree_map(
        "[a-z_]{1,8}",
        prop_oneof![
            Just(Value::Null),
            any::<i64>().prop_map(Value::from),
            text(12).prop_map(Value::String),
        ],
        0..4,
    )
    .prop_map(|m| m.into_iter().collect())
}

fn json_object() -> impl Strategy<Value = Map<String, Value>> {
    proptest::collection::btree_map("[a-z_]{1,10}", json_value(), 0..5)
        .prop_map(|m| m.into_iter().collect())
}

/// A document as text in one of the ways a file holds it.
fn document() -> impl Strategy<Value = String> {
    prop_oneof![
        json_value().prop_map(|v| v.to_string()),
        json_value().prop_map(|v| serde_json::to_string_pretty(&v).unwrap_or_default()),
        json_value().prop_map(|v| serde_norway::to_string(&v).unwrap_or_default()),
        proptest::collection::vec(json_value(), 0..6).prop_map(|lines| lines
            .iter()
            .map(Value::to_string)
            .collect::<Vec<_>>()
            .join("\n")),
        text(400),
    ]
}

/// Parses with `parse`, checking the heap it used stays within the bounds per input byte.
fn bounded<T>(what: &str, input: &[u8], parse: impl FnOnce() -> T) -> T {
    let (out, used) = measure(parse);
    assert_bounded(what, input.len(), &used);
    out
}

proptest! {
    #![proptest_config(cases(256))]

    #[test]
    fn config_reader_takes_any_input(bytes in proptest::collection::vec(any::<u8>(), 0..600),
                                     doc in document()) {
        for format in [ConfigFormat::Json, ConfigFormat::Yaml] {
            let _ = bounded("config bytes", &bytes, || parse_config(&bytes, format));
            let _ = bounded("config document", doc.as_bytes(), || parse_config(doc.as_bytes(), format));
        }
        let _ = ConfigFormat::sniff(&doc);
    }

    #[test]
    fn dataset_reader_takes_any_input(bytes in proptest::collection::vec(any::<u8>(), 0..600),
                                      doc in document()) {
        for format in [DatasetFormat::Jsonl, DatasetFormat::Json, DatasetFormat::Yaml] {
            let _ = bounded("dataset bytes", &bytes, || import(&bytes, format));
            let _ = bounded("dataset document", doc.as_bytes(), || import(doc.as_bytes(), format));
        }
        let _ = DatasetFormat::sniff(&doc);
    }

    #[test]
    fn trajectory_reader_takes_any_input(doc in document(), entry in json_object()) {
        let report = bounded("trajectory text", doc.as_bytes(), || read_jsonl(&doc));
        prop_assert!(report.entries.iter().all(|e| check_numbers(e).is_ok()));
        // A real step's shape with any values in its fields.
        let mut line = json!({"timestamp": "t", "run_id": "r", "step_id": 1, "agent": "solver",
            "action": "generate", "input": {}, "output": {}, "metadata": {}});
        for (key, value) in entry {
            line[&key] = value.clone();
            line["metadata"][&key] = value;
        }
        let text = line.to_string();
        if let Ok(parsed) = bounded("trajectory line", text.as_bytes(), || parse_line(&text)) {
            prop_assert!(check_numbers(&parsed).is_ok());
        }
    }

    #[test]
    fn price_readers_take_any_input(doc in document(), models in json_object()) {
        let _ = bounded("price file", doc.as_bytes(), || PricingTable::from_litellm_json(&doc));
        let _ = bounded("pricing.json", doc.as_bytes(), || PricingTable::from_json(&doc));
        // LiteLLM's shape with any values in its fields.
        let mut file = Map::new();
        for (name, fields) in models {
            let mut entry = json!({"input_cost_per_token": 1e-6, "output_cost_per_token": 2e-6,
                "litellm_provider": "openai", "mode": "chat"});
            if let Value::Object(extra) = fields {
                for (k, v) in extra {
                    entry[k] = v;
                }
            } else {
                entry["input_cost_per_token"] = fields;
            }
            file.insert(name, entry);
        }
        let text = Value::Object(file).to_string();
        let _ = bounded("LiteLLM-shaped file", text.as_bytes(), || PricingTable::from_litellm_json(&text));
    }

    #[test]
    fn structured_output_and_answer_readers_take_any_text(reply in text(300),
                                                          value in json_value(),
                                                          truth in text(20)) {
        let framed = format!("Here you go:\n```json\n{value}\n```\n{reply}");
        for candidate in [&reply, &framed, &value.to_string()] {
            let _ = bounded("reply", candidate.as_bytes(), || extract_json(candidate));
            for role in [AgentRole::Solver, AgentRole::Verifier, AgentRole::Judge] {
                let _ = bounded("reply", candidate.as_bytes(), || parse_reply(role, candidate));
            }
            let input = format!("{candidate}{truth}");
            let _ = bounded("answer", input.as_bytes(), || {
                (
                    extract_answer(candidate),
                    check_solution(candidate, &truth),
                    normalize_answer(candidate),
                    answers_match(&truth, candidate),
                )
            });
        }
    }

    #[test]
    fn math_answers_are_checked_without_panicking(parts in proptest::collection::vec(prop_oneof![
            Just("\\boxed{"), Just("}"), Just("{"), Just("\\frac"), Just("\\dfrac"), Just("\\sqrt"),
            Just("^"), Just("_"), Just("("), Just(")"), Just("["), Just("]"), Just("-"), Just("+"),
            Just("*"), Just("/"), Just("."), Just(","), Just("\\pi"), Just("\\infty"), Just("%"),
            Just("$"), Just("\\text{"), Just("x"), Just("="), Just(" "), Just("0"), Just("9"),
            Just("1e308"), Just("99999999999999999999"), Just("\\left("), Just("\\right)"),
            Just("\\cdot"), Just("\\times"), Just("i"), Just("e"), Just("!"), Just("\\!"),
        ], 0..40), truth_parts in proptest::collection::vec(0usize..40, 0..12)) {
        let solution = parts.concat();
        let truth: String = truth_parts.iter().map(|i| parts.get(*i).copied().unwrap_or("1")).collect();
        let input = format!("{solution}{truth}");
        let _ = bounded("math answer", input.as_bytes(), || {
            (check_solution(&solution, &truth), answers_match(&truth, &solution), extract_answer(&solution))
        });
    }

    #[test]
    fn retry_after_takes_any_header(value in prop_oneof![
            text(40),
            "[0-9]{1,400}(\\.[0-9]{0,20})?",
            "(Mon|Sun|Sunday), [0-9]{1,3}[ -](Jan|Feb|Nov|nov|Foo)[ -][0-9]{2,5} [0-9]{1,3}:[0-9]{1,3}:[0-9]{1,3} GMT",
            "(Sun|Mon) (Nov|Dec) [ 0-9]{1,3} [0-9]{1,2}:[0-9]{2}:[0-9]{2} [0-9]{1,6}",
        ], now in any::<f64>(), name in prop_oneof![Just("retry-after"), Just("Retry-After"), Just("retry-after-ms")]) {
        let headers = vec![(name.to_string(), value.clone())];
        let _ = parse_retry_after(&headers, now);
    }

    #[test]
    fn delta_seconds_are_read_exactly(secs in 0u32..1_000_000, now in 0.0f64..4e12) {
        let headers = vec![("retry-after".to_string(), secs.to_string())];
        prop_assert_eq!(parse_retry_after(&headers, now), Some(u64::from(secs) * 1000));
    }
}

/// The stored error and reply bodies of every provider family (`tests/fixtures/<family>/`),
/// read once.
fn recorded_replies() -> &'static [(ProviderKind, HttpResponse)] {
    static REPLIES: OnceLock<Vec<(ProviderKind, HttpResponse)>> = OnceLock::new();
    REPLIES.get_or_init(read_recorded_replies)
}

fn read_recorded_replies() -> Vec<(ProviderKind, HttpResponse)> {
    let mut out = Vec::new();
    for (dir, kind) in [
        ("openai", ProviderKind::OpenAiCompatible),
        ("anthropic", ProviderKind::Anthropic),
        ("cohere", ProviderKind::Cohere),
        ("gemini", ProviderKind::Gemini),
    ] {
        let mut names: Vec<_> = std::fs::read_dir(fixture_path(dir))
            .expect("fixture folder")
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
                (name.starts_with("response_") || name.starts_with("error_"))
                    && name.ends_with(".json")
            })
            .collect();
        names.sort();
        for path in names {
            let text = std::fs::read_to_string(&path).expect("fixture");
            let fixture: Value = serde_json::from_str(&text).expect("fixture JSON");
            let headers = fixture["headers"]
                .as_array()
                .map(|h| {
                    h.iter()
                        .filter_map(|pair| {
                            Some((pair[0].as_str()?.to_string(), pair[1].as_str()?.to_string()))
                        })
                        .collect()
                })
                .unwrap_or_default();
            let body = match &fixture["body"] {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            let status = fixture["status"].as_u64().unwrap_or(200) as u16;
            out.push((
                kind,
                HttpResponse {
                    status,
                    headers,
                    body,
                },
            ));
        }
    }
    out
}

/// Replaces the `index`-th node of `value` (in document order, modulo the node count) by
/// `replacement`.
fn replace_node(value: &mut Value, index: usize, replacement: Value) {
    fn count(v: &Value) -> usize {
        1 + match v {
            Value::Array(items) => items.iter().map(count).sum(),
            Value::Object(map) => map.values().map(count).sum(),
            _ => 0,
        }
    }
    fn walk(v: &mut Value, target: &mut usize, replacement: &mut Option<Value>) {
        if *target == 0 {
            if let Some(r) = replacement.take() {
                *v = r;
            }
            return;
        }
        *target -= 1;
        match v {
            Value::Array(items) => items.iter_mut().for_each(|i| walk(i, target, replacement)),
            Value::Object(map) => map.values_mut().for_each(|i| walk(i, target, replacement)),
            _ => {}
        }
    }
    let mut target = index % count(value);
    walk(value, &mut target, &mut Some(replacement));
}

proptest! {
    #![proptest_config(cases(256))]

    #[test]
    fn provider_replies_of_every_family_are_read_without_panicking(
        pick in any::<usize>(), node in any::<usize>(), replacement in json_value(),
        cut in any::<usize>(), status in prop_oneof![Just(200u16), Just(429), Just(500), any::<u16>()],
        junk in text(60), now in any::<f64>(),
    ) {
        let replies = recorded_replies();
        let (kind, recorded) = &replies[pick % replies.len()];
        let mut mutated = recorded.clone();
        if let Ok(mut body) = serde_json::from_str::<Value>(&recorded.body) {
            replace_node(&mut body, node, replacement);
            mutated.body = body.to_string();
        }
        let mut truncated = recorded.clone();
        let mut at = cut % (recorded.body.len() + 1);
        while !recorded.body.is_char_boundary(at) {
            at -= 1;
        }
        truncated.body.truncate(at);
        truncated.status = status;
        let mut garbage = recorded.clone();
        garbage.body = junk;
        garbage.headers.push(("retry-after".into(), "Sun, 06 Nov 1994 08:49:37 GMT".into()));
        for response in [mutated, truncated, garbage] {
            for kind in [*kind, ProviderKind::OpenAiCompatible] {
                let _ = bounded("provider reply", response.body.as_bytes(), || {
                    adapter(kind).parse_response("fuzz", &response, Some(now))
                });
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Round trips: what a writer writes, its reader reads back the same.

fn agent(role: &'static str) -> impl Strategy<Value = AgentConfig> {
    (text(12), any::<f64>(), any::<u32>(), text(40), text(20)).prop_filter_map(
        "finite temperatures",
        move |(model, temperature, max_tokens, prompt_template, system_prompt)| {
            temperature.is_finite().then(|| AgentConfig {
                role: role.to_string(),
                model,
                temperature,
                max_tokens,
                prompt_template,
                system_prompt,
                reasoning: Default::default(),
            })
        },
    )
}

fn finite_or_none() -> impl Strategy<Value = Option<f64>> {
    proptest::option::of(any::<f64>()).prop_map(|v| v.filter(|x| x.is_finite()))
}

fn pipeline_config() -> impl Strategy<Value = PipelineConfig> {
    let judge = (
        text(12),
        -10.0f64..10.0,
        any::<u32>(),
        text(40),
        text(20),
        text(20),
    )
        .prop_map(
            |(model, temperature, max_tokens, prompt_template, system_prompt, scoring_rubric)| {
                JudgeConfig {
                    model,
                    temperature,
                    max_tokens,
                    prompt_template,
                    system_prompt,
                    scoring_rubric,
                    reasoning: Default::default(),
                }
            },
        );
    (
        agent("solver"),
        agent("verifier"),
        judge,
        any::<bool>(),
        (any::<u32>(), text(16), text(12)),
        (any::<u32>(), any::<u32>(), any::<u32>()),
        (finite_or_none(), finite_or_none()),
    )
        .prop_map(
            |(
                solver,
                verifier,
                judge,
                debate,
                (max_iterations, trajectory_output_dir, config_version),
                (max_reasks, max_attempts, request_timeout_secs),
                (run_budget_usd, batch_budget_usd),
            )| PipelineConfig {
                solver,
                verifier,
                judge,
                mode: if debate { Mode::Debate } else { Mode::Baseline },
                max_iterations,
                trajectory_output_dir,
                config_version,
                max_reasks,
                max_attempts,
                request_timeout_secs,
                run_budget_usd,
                batch_budget_usd,
            },
        )
}

fn trajectory_entry() -> impl Strategy<Value = TrajectoryEntry> {
    (
        (
            text(20),
            "[a-z0-9_]{1,20}",
            0u64..=(1 << 53) - 1,
            text(8),
            text(8),
        ),
        (json_object(), json_object(), json_object()),
        (
            finite_or_none(),
            any::<bool>(),
            proptest::option::of(any::<bool>()),
        ),
    )
        .prop_map(
            |(
                (timestamp, run_id, step_id, agent, action),
                (input, output, metadata),
                (reward, terminal, success),
            )| TrajectoryEntry {
                timestamp,
                run_id,
                step_id,
                agent,
                action,
                input,
                output,
                metadata: StepMetadata::from_object(metadata),
                reward,
                terminal,
                success,
            },
        )
}

fn problems() -> impl Strategy<Value = Vec<Problem>> {
    proptest::collection::vec(
        (
            text(12),
            text(80).prop_filter("problem text is not blank", |t| !t.trim().is_empty()),
            proptest::option::of(text(12)),
            proptest::option::of(text(8)),
            small_object(),
        ),
        1..6,
    )
    .prop_map(|rows| {
        rows.into_iter()
            .enumerate()
            .map(
                |(i, (id, problem, ground_truth, domain, metadata))| Problem {
                    id: format!("{i}-{id}"),
                    problem,
                    ground_truth,
                    domain,
                    metadata,
                },
            )
            .collect()
    })
}

proptest! {
    #![proptest_config(cases(160))]

    #[test]
    fn configs_round_trip_through_yaml_and_json(config in pipeline_config()) {
        let yaml = config.to_yaml();
        let from_yaml = parse_yaml_config(yaml.as_bytes())
            .unwrap_or_else(|e| panic!("{e}\n{yaml}"));
        prop_assert_eq!(&from_yaml.config, &config, "{}", yaml);
        prop_assert!(from_yaml.warnings.is_empty(), "{:?}", from_yaml.warnings);
        let json = config.to_json();
        let from_json = parse_json_config(json.as_bytes()).unwrap_or_else(|e| panic!("{e}\n{json}"));
        prop_assert_eq!(&from_json.config, &config);
        prop_assert_eq!(from_yaml.config.config_hash(), config.config_hash());
    }

    #[test]
    fn trajectory_lines_round_trip(entry in trajectory_entry()) {
        let line = to_line(&entry).expect("an entry writes");
        let report = read_jsonl(&line);
        match check_numbers(&entry) {
            Ok(()) => {
                prop_assert!(report.rejected.is_empty(), "{:?}", report.rejected);
                prop_assert_eq!(&report.entries, &vec![entry]);
            }
            // Generated metadata may hold `cost_usd` and friends out of range: then the line
            // is refused for exactly that reason.
            Err(reason) => prop_assert_eq!(&report.rejected[0].reason, &reason),
        }
    }

    #[test]
    fn datasets_round_trip_through_jsonl(problems in problems()) {
        let lines: Vec<String> = problems
            .iter()
            .map(|p| serde_json::to_string(p).expect("a problem writes"))
            .collect();
        let text = lines.join("\n");
        let dataset = import(text.as_bytes(), DatasetFormat::Jsonl).expect("reads");
        prop_assert!(dataset.issues.is_empty(), "{:?}", dataset.issues);
        prop_assert_eq!(&dataset.problems, &problems);
    }

    #[test]
    fn price_tables_round_trip(rates in proptest::collection::btree_map(
            "[a-z0-9./-]{1,20}", (0.0f64..1e-3, 0.0f64..1e-3, proptest::option::of(0.0f64..1e-3)), 1..8)) {
        let mut file = Map::new();
        for (name, (input, output, cache_read)) in rates {
            let mut entry = json!({"input_cost_per_token": input, "output_cost_per_token": output,
                "litellm_provider": "openai", "mode": "chat"});
            if let Some(rate) = cache_read {
                entry["cache_read_input_token_cost"] = json!(rate);
            }
            file.insert(name, entry);
        }
        let table = PricingTable::from_litellm_json(&Value::Object(file).to_string()).expect("reads");
        let again = PricingTable::from_json(&table.to_json()).expect("reads back");
        prop_assert_eq!(again, table);
    }
}
