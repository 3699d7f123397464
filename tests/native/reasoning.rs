//! Reasoning: the knob in config files and the hash, each family's request fields (against
//! stored requests), the thinking and reasoning counts read back from stored replies, the
//! combinations each family refuses before a call, and the thinking stored with a step.
//!
//! Expected request bodies were written by hand from each provider's API reference (see
//! `tests/fixtures/README.md`), never dumped from the adapters.

use serde_json::{json, Value};

use trialogue::core::clock::ManualClock;
use trialogue::core::config::{parse_config, ConfigFormat, PipelineConfig};
use trialogue::core::jsonl;
use trialogue::core::llm::chat::StructuredMode;
use trialogue::core::llm::client::{ClientOptions, LlmClient};
use trialogue::core::llm::reasoning::{self, Reasoning, ReasoningTarget};
use trialogue::core::llm::transport::ScriptedTransport;
use trialogue::core::llm::{dispatch, AgentCall, AgentLlm, ErrorKind};
use trialogue::core::pipeline::{MemorySink, Pipeline, RunInput};
use trialogue::core::providers::{ProviderKind, ProviderRegistry};
use trialogue::core::role::AgentRole;

use crate::llm_adapters::{assert_request, response, settings, single_turn, usage};
use crate::util::{fixture_json, ready_now};

const MAX: u32 = 8000;

fn request(
    model: &str,
    mode: StructuredMode,
    reasoning: Reasoning,
) -> trialogue::core::llm::chat::ChatRequest {
    let mut r = single_turn(model, mode);
    r.max_tokens = MAX;
    r.reasoning = reasoning;
    r
}

// ------------------------------------------------------------------------------ requests

#[test]
fn each_family_asks_for_reasoning_in_its_own_fields() {
    let cases = [
        (
            "openai",
            "o3-mini",
            StructuredMode::Native,
            Reasoning::High,
            "openai/request_reasoning_effort.json",
        ),
        (
            "openrouter",
            "deepseek/deepseek-r1",
            StructuredMode::Native,
            Reasoning::Budget(3000),
            "openai/request_openrouter_budget.json",
        ),
        (
            "local",
            "qwen3-0.6b",
            StructuredMode::JsonObjectSchema,
            Reasoning::Low,
            "openai/request_local_effort.json",
        ),
        (
            "anthropic",
            "claude-sonnet-4-5",
            StructuredMode::PromptOnly,
            Reasoning::Budget(3000),
            "anthropic/request_thinking.json",
        ),
        (
            "gemini",
            "gemini-2.5-flash",
            StructuredMode::Native,
            Reasoning::Medium,
            "gemini/request_thinking_budget.json",
        ),
        (
            "gemini",
            "gemini-3-pro-preview",
            StructuredMode::Native,
            Reasoning::High,
            "gemini/request_thinking_level.json",
        ),
        (
            "cohere",
            "command-a-reasoning-08-2025",
            StructuredMode::Native,
            Reasoning::Low,
            "cohere/request_thinking.json",
        ),
    ];
    for (provider, model, mode, reasoning, file) in cases {
        let built = dispatch::build_request(&settings(provider), &request(model, mode, reasoning));
        assert_request(&built, file);
    }
}

#[test]
fn reasoning_off_sends_nothing_new() {
    for (provider, file) in [
        ("openai", "openai/request_native.json"),
        ("anthropic", "anthropic/request_native.json"),
        ("gemini", "gemini/request_native.json"),
        ("cohere", "cohere/request_native.json"),
    ] {
        let want = fixture_json(file);
        let model = want["body"]["model"]
            .as_str()
            .map(str::to_string)
            .unwrap_or_else(|| "gemini-2.5-flash".into());
        let built = dispatch::build_request(
            &settings(provider),
            &single_turn(&model, StructuredMode::Native),
        );
        assert_request(&built, file);
    }
}

#[test]
fn anthropic_with_thinking_asks_for_json_in_the_prompt_instead_of_a_forced_tool() {
    let anthropic = settings("anthropic");
    assert_eq!(
        dispatch::structured_mode(&anthropic, Reasoning::Off),
        StructuredMode::Native
    );
    for reasoning in [Reasoning::Low, Reasoning::Budget(2000)] {
        assert_eq!(
            dispatch::structured_mode(&anthropic, reasoning),
            StructuredMode::PromptOnly
        );
    }
    for other in ["openai", "gemini", "cohere"] {
        assert_eq!(
            dispatch::structured_mode(&settings(other), Reasoning::High),
            StructuredMode::Native,
            "{other}"
        );
    }
}

// ------------------------------------------------------------------------------ replies

struct Thought {
    file: &'static str,
    kind: ProviderKind,
    text: &'static str,
    thinking: Option<Value>,
    reasoning_tokens: Option<u64>,
}

#[test]
fn thinking_and_its_token_count_are_read_back_from_each_family() {
    let anthropic_signed =
        fixture_json("anthropic/response_thinking.json")["body"]["content"][0].clone();
    let anthropic_redacted =
        fixture_json("anthropic/response_redacted_thinking.json")["body"]["content"][0].clone();
    let gemini_signed = fixture_json("gemini/response_signed_thought.json")["body"]["candidates"]
        [0]["content"]["parts"][0]
        .clone();
    let answer = r#"{"solution": "391", "reasoning": "17 * 23 = 340 + 51", "confidence": 0.95}"#;
    let cases = [
        // Recorded: the signed block is kept whole; Anthropic gives no count of it.
        Thought {
            file: "anthropic/response_thinking.json",
            kind: ProviderKind::Anthropic,
            text: "",
            thinking: Some(json!([anthropic_signed])),
            reasoning_tokens: None,
        },
        Thought {
            file: "anthropic/response_redacted_thinking.json",
            kind: ProviderKind::Anthropic,
            text: r#"{"solution": "391", "reasoning": "17 * 23 = 391", "confidence": 0.9}"#,
            thinking: Some(json!([anthropic_redacted])),
            reasoning_tokens: Some(280),
        },
        Thought {
            file: "openai/response_reasoning_content.json",
            kind: ProviderKind::OpenAiCompatible,
            text: answer,
            thinking: Some(json!("17 * 23: 17 * 20 = 340, 17 * 3 = 51, so 391.")),
            reasoning_tokens: Some(131),
        },
        Thought {
            file: "openai/response_reasoning_no_count.json",
            kind: ProviderKind::OpenAiCompatible,
            text: answer,
            thinking: Some(json!("Multiply: 17 * 23 = 391.")),
            reasoning_tokens: None,
        },
        Thought {
            file: "openai/response_openrouter_encrypted.json",
            kind: ProviderKind::OpenAiCompatible,
            text: answer,
            thinking: Some(
                fixture_json("openai/response_openrouter_encrypted.json")["body"]["choices"][0]
                    ["message"]["reasoning_details"]
                    .clone(),
            ),
            reasoning_tokens: Some(192),
        },
        // o3-mini on OpenAI: a count, no text.
        Thought {
            file: "openai/response_reasoning.json",
            kind: ProviderKind::OpenAiCompatible,
            text: "Hello there! How can I help you today?",
            thinking: None,
            reasoning_tokens: Some(64),
        },
        Thought {
            file: "gemini/response_thought_summary.json",
            kind: ProviderKind::Gemini,
            text: answer,
            thinking: Some(json!(
                "**Multiplying**\n\n17 * 23 = 17 * 20 + 17 * 3 = 391."
            )),
            reasoning_tokens: Some(200),
        },
        Thought {
            file: "gemini/response_signed_thought.json",
            kind: ProviderKind::Gemini,
            text: answer,
            thinking: Some(json!([gemini_signed])),
            reasoning_tokens: Some(100),
        },
        Thought {
            file: "cohere/response_thinking.json",
            kind: ProviderKind::Cohere,
            text: answer,
            thinking: Some(json!("17 * 23 is 17 * 20 plus 17 * 3: 340 + 51 = 391.")),
            reasoning_tokens: None,
        },
    ];
    for want in cases {
        let got = dispatch::adapter(want.kind)
            .parse_response("p", &response(want.file), None)
            .unwrap_or_else(|e| panic!("{}: {e}", want.file));
        if !want.text.is_empty() {
            assert_eq!(got.text, want.text, "{}", want.file);
        }
        let thinking = got
            .thinking
            .as_ref()
            .map(|t| serde_json::to_value(t).unwrap());
        assert_eq!(thinking, want.thinking, "{}", want.file);
        let u = got
            .usage
            .unwrap_or_else(|| panic!("{}: no usage", want.file));
        assert_eq!(
            u.reasoning_tokens_known(),
            want.reasoning_tokens,
            "{}",
            want.file
        );
    }
}

#[test]
fn a_recorded_claude_reply_with_thinking_counts_its_output_and_leaves_reasoning_unknown() {
    let got = dispatch::adapter(ProviderKind::Anthropic)
        .parse_response(
            "anthropic",
            &response("anthropic/response_thinking.json"),
            None,
        )
        .unwrap();
    // input 42, output 332 as recorded; the thinking inside the 332 is not broken out.
    let mut want = usage(42, 332, 0, 0, 0);
    want.reasoning_tokens_unknown = true;
    assert_eq!(got.usage, Some(want));
    let thinking = got.thinking.expect("thinking");
    assert!(thinking
        .text()
        .starts_with("This is a basic question about street safety."));
    assert!(!thinking.is_redacted());
}

#[test]
fn redacted_thinking_is_kept_encrypted_and_marked() {
    let got = dispatch::adapter(ProviderKind::Anthropic)
        .parse_response(
            "anthropic",
            &response("anthropic/response_redacted_thinking.json"),
            None,
        )
        .unwrap();
    let thinking = got.thinking.expect("thinking");
    assert!(thinking.is_redacted());
    assert_eq!(thinking.text(), reasoning::REDACTED_NOTE);
}

// ------------------------------------------------------------------------------ refusals

#[test]
fn families_refuse_what_they_cannot_take_before_a_call() {
    let target = |kind, base_url, model, max_tokens| ReasoningTarget {
        kind,
        base_url,
        model,
        max_tokens,
    };
    use ProviderKind::*;
    let openai = "https://api.openai.com/v1";
    let openrouter = "https://openrouter.ai/api/v1";
    let local = "http://127.0.0.1:8091/v1";
    let accepted = [
        (
            Reasoning::High,
            target(OpenAiCompatible, openai, "o3-mini", 512),
        ),
        (
            Reasoning::Off,
            target(OpenAiCompatible, openai, "gpt-4o", 512),
        ),
        (
            Reasoning::Budget(2000),
            target(OpenAiCompatible, openrouter, "x/y", 4000),
        ),
        (
            Reasoning::Low,
            target(OpenAiCompatible, local, "qwen3", 512),
        ),
        (Reasoning::Low, target(Anthropic, "", "claude", 4096)),
        (
            Reasoning::Budget(1024),
            target(Anthropic, "", "claude", 1025),
        ),
        (
            Reasoning::Budget(500),
            target(Gemini, "", "gemini-2.5-flash", 1000),
        ),
        (
            Reasoning::Medium,
            target(Cohere, "", "command-a-reasoning", 4096),
        ),
    ];
    for (reasoning, t) in accepted {
        assert_eq!(
            reasoning::check(reasoning, t),
            Ok(()),
            "{reasoning} {:?}",
            t.kind
        );
    }
    let refused = [
        (
            Reasoning::High,
            target(OpenAiCompatible, openai, "gpt-4o", 512),
            "not an OpenAI reasoning model",
        ),
        (
            Reasoning::Budget(2000),
            target(OpenAiCompatible, openai, "o3", 4000),
            "not a token budget",
        ),
        (
            Reasoning::Budget(2000),
            target(OpenAiCompatible, local, "qwen3", 4000),
            "reasoning_effort",
        ),
        (
            Reasoning::Budget(1000),
            target(Anthropic, "", "claude", 4000),
            "at least 1024",
        ),
        (
            Reasoning::Budget(4000),
            target(Anthropic, "", "claude", 4000),
            "below max_tokens",
        ),
        // An effort needs room for at least the smallest budget.
        (
            Reasoning::Low,
            target(Anthropic, "", "claude", 1024),
            "below max_tokens",
        ),
        (
            Reasoning::Low,
            target(Gemini, "", "gemini-2.5-pro", 1000),
            "maxOutputTokens",
        ),
        (
            Reasoning::Budget(0),
            target(Gemini, "", "gemini-2.5-pro", 1000),
            "at least 1 token",
        ),
        (
            Reasoning::Budget(900),
            target(Cohere, "", "command-a", 4000),
            "at least 1024",
        ),
    ];
    for (reasoning, t, says) in refused {
        let err = reasoning::check(reasoning, t).expect_err(says);
        assert!(err.0.contains(says), "{reasoning} {:?}: {}", t.kind, err.0);
    }
}

#[test]
fn the_client_refuses_an_unsupported_setting_without_sending_anything() {
    let mut registry = ProviderRegistry::builtin();
    let mut openai = registry.get("openai").cloned().unwrap();
    openai.api_key = "sk-test".into();
    registry.upsert(openai);
    let transport = ScriptedTransport::new();
    let client = LlmClient::with_options(
        registry,
        transport.clone(),
        ManualClock::starting_at(0.0),
        ClientOptions {
            jitter_seed: Some(1),
            ..ClientOptions::default()
        },
    );
    let call = AgentCall {
        role: AgentRole::Solver,
        model: "openai/gpt-4o".into(),
        system_prompt: String::new(),
        user_prompt: "2+2?".into(),
        temperature: 0.0,
        max_tokens: 512,
        reasoning: Reasoning::High,
    };
    let err = ready_now(client.complete(&call, &Default::default())).expect_err("refused");
    assert_eq!(err.error.kind(), ErrorKind::Unsupported);
    assert!(
        err.error
            .to_string()
            .contains("gpt-4o is not an OpenAI reasoning model"),
        "{}",
        err.error
    );
    assert!(transport.sent().is_empty());
}

#[test]
fn the_config_check_names_the_agent_and_the_provider() {
    let mut config = PipelineConfig::default();
    config.verifier.model = "openai/gpt-4o".into();
    config.verifier.reasoning = Reasoning::Medium;
    config.judge.model = "anthropic/claude-sonnet-4-5".into();
    config.judge.max_tokens = 1024;
    config.judge.reasoning = Reasoning::Low;
    let problems = reasoning::config_problems(&config, &ProviderRegistry::builtin());
    let paths: Vec<&str> = problems.iter().map(|p| p.path.as_str()).collect();
    assert_eq!(
        paths,
        ["verifier.reasoning", "judge.reasoning"],
        "{problems:?}"
    );
    assert!(
        problems[0].message.starts_with("OpenAI: "),
        "{}",
        problems[0].message
    );
    assert!(
        problems[1].message.starts_with("Anthropic: "),
        "{}",
        problems[1].message
    );
}

// ------------------------------------------------------------------------------ config

const WITH_REASONING: &str = "config_version: '1'\nsolver: {role: solver, model: gpt-4o, prompt_template: '{problem}', reasoning: high}\nverifier: {role: verifier, model: gpt-4o, prompt_template: '{solution}', reasoning: {budget_tokens: 2048}}\njudge: {model: gpt-4o, prompt_template: '{solution}', scoring_rubric: r, reasoning: false}\n";

#[test]
fn config_files_carry_the_knob_and_write_it_back() {
    let parsed = parse_config(WITH_REASONING.as_bytes(), ConfigFormat::Yaml).unwrap();
    assert_eq!(parsed.warnings, Vec::<String>::new());
    let c = parsed.config;
    assert_eq!(c.solver.reasoning, Reasoning::High);
    assert_eq!(c.verifier.reasoning, Reasoning::Budget(2048));
    // PyYAML reads a bare `off` as false.
    assert_eq!(c.judge.reasoning, Reasoning::Off);
    let yaml = c.to_yaml();
    assert!(yaml.contains("  reasoning: high\n"), "{yaml}");
    assert!(
        yaml.contains("  reasoning: {budget_tokens: 2048}\n"),
        "{yaml}"
    );
    assert_eq!(
        yaml.matches("reasoning:").count(),
        2,
        "off is not written: {yaml}"
    );
    let back = parse_config(yaml.as_bytes(), ConfigFormat::Yaml)
        .unwrap()
        .config;
    assert_eq!(back, c);
    let json = c.to_json();
    let back = parse_config(json.as_bytes(), ConfigFormat::Json)
        .unwrap()
        .config;
    assert_eq!(back, c);
}

#[test]
fn bad_reasoning_values_name_the_field() {
    for (value, says) in [
        ("max", "found \"max\""),
        ("{budget_tokens: -3}", "solver.reasoning.budget_tokens"),
        ("{tokens: 3}", "found the key \"tokens\""),
        ("7", "found a number"),
    ] {
        let text = WITH_REASONING.replace("reasoning: high", &format!("reasoning: {value}"));
        let err = parse_config(text.as_bytes(), ConfigFormat::Yaml).expect_err(value);
        let message = err.to_string();
        assert!(message.contains("solver.reasoning"), "{value}: {message}");
        assert!(message.contains(says), "{value}: {message}");
    }
}

#[test]
fn reasoning_leaves_the_hash_alone_while_off_and_changes_it_when_on() {
    let off = PipelineConfig::default();
    let before = off.config_hash();
    assert!(!off.canonical_json().contains("reasoning\":"));
    let mut on = off.clone();
    on.solver.reasoning = Reasoning::Low;
    assert_ne!(on.config_hash(), before);
    let mut budget = off.clone();
    budget.solver.reasoning = Reasoning::Budget(1024);
    assert_ne!(budget.config_hash(), on.config_hash());
    assert!(budget
        .canonical_json()
        .contains(r#""reasoning": {"budget_tokens": 1024}"#));
}

#[test]
fn validation_refuses_a_budget_at_or_above_max_tokens() {
    let mut c = PipelineConfig::default();
    c.solver.max_tokens = 2000;
    c.solver.reasoning = Reasoning::Budget(2000);
    let errors = c.validate();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].path, "solver.reasoning");
    c.solver.reasoning = Reasoning::Budget(1999);
    assert_eq!(c.validate(), vec![]);
}

// ------------------------------------------------------------------------------ the step

/// An Anthropic reply with a signed thinking block before the answer's JSON text.
fn claude_reply(thinking: &str, answer: &Value) -> String {
    json!({
        "id": "msg_test", "type": "message", "role": "assistant", "model": "claude-sonnet-4-5",
        "content": [
            {"type": "thinking", "thinking": thinking, "signature": "sig-1"},
            {"type": "text", "text": answer.to_string()}
        ],
        "stop_reason": "end_turn",
        "usage": {"input_tokens": 50, "output_tokens": 400}
    })
    .to_string()
}

#[test]
fn a_step_stores_the_thinking_and_exports_it_in_its_metadata() {
    let mut config = PipelineConfig {
        mode: trialogue::core::config::Mode::Baseline,
        ..PipelineConfig::default()
    };
    for model in [&mut config.solver.model, &mut config.judge.model] {
        *model = "anthropic/claude-sonnet-4-5".into();
    }
    config.solver.reasoning = Reasoning::Low;
    config.solver.max_tokens = 4096;
    let mut registry = ProviderRegistry::builtin();
    let mut anthropic = registry.get("anthropic").cloned().unwrap();
    anthropic.api_key = "k".into();
    registry.upsert(anthropic);
    let transport = ScriptedTransport::new();
    transport.push_json(
        200,
        claude_reply(
            "2 + 2 is 4.",
            &json!({"solution": "4", "reasoning": "add", "confidence": 1.0}),
        ),
    );
    transport.push_json(
        200,
        json!({
            "id": "msg_j", "type": "message", "role": "assistant", "model": "claude-sonnet-4-5",
            "content": [{"type": "tool_use", "id": "t", "name": "judge_output",
                "input": {"score": 1.0, "reasoning": "right", "strengths": [], "weaknesses": []}}],
            "stop_reason": "tool_use", "usage": {"input_tokens": 60, "output_tokens": 30}
        })
        .to_string(),
    );
    let clock = ManualClock::starting_at(1_772_366_400_000.0);
    let client = LlmClient::with_options(
        registry,
        transport.clone(),
        clock.clone(),
        ClientOptions {
            jitter_seed: Some(1),
            ..ClientOptions::default()
        },
    );
    let sink = MemorySink::new();
    let input = RunInput {
        run_id: "run_20260301_120000_0badf00d".into(),
        problem: "What is 2+2?".into(),
        ground_truth: None,
    };
    let outcome = ready_now(Pipeline::new(&config, &client, &clock, &sink).run(&input));
    let [solver, judge] = outcome.entries.as_slice() else {
        panic!("two steps: {:?}", outcome.entries);
    };
    let sent: Value = serde_json::from_str(&transport.requests()[0].body).unwrap();
    assert!(
        sent.get("tool_choice").is_none(),
        "thinking with a forced tool: {sent}"
    );
    assert_eq!(sent["thinking"]["type"], "enabled");
    let expected = json!([{"type": "thinking", "thinking": "2 + 2 is 4.", "signature": "sig-1"}]);
    assert_eq!(
        solver
            .metadata
            .thinking
            .as_ref()
            .map(|t| serde_json::to_value(t).unwrap()),
        Some(expected.clone())
    );
    assert_eq!(
        solver.usage().and_then(|u| u.reasoning_tokens_known()),
        None
    );
    assert_eq!(judge.metadata.thinking, None);
    let line = jsonl::to_line(solver).unwrap();
    let back: Value = serde_json::from_str(&line).unwrap();
    assert_eq!(back["metadata"]["thinking"], expected);
    assert_eq!(back["metadata"]["usage"]["reasoning_tokens_unknown"], true);
    let judge_line: Value = serde_json::from_str(&jsonl::to_line(judge).unwrap()).unwrap();
    assert!(judge_line["metadata"].get("thinking").is_none());
    assert!(judge_line["metadata"]["usage"]
        .get("reasoning_tokens_unknown")
        .is_none());
    let reread = jsonl::parse_line(&line).unwrap();
    assert_eq!(&reread, solver);
    assert_eq!(
        reread.metadata.thinking.map(|t| t.text()),
        Some("2 + 2 is 4.".to_string())
    );
}
