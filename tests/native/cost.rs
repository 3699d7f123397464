//! Prices, costs and budgets against LiteLLM's own rates (tests/fixtures/pricing/README.md).
//!
//! Every expected dollar figure is worked out by hand from the fixture's per-token rates; the
//! arithmetic is in the comment beside it.

use std::rc::Rc;

use serde_json::{json, Value};
use trialogue::core::budget::{Budget, BudgetGate, BudgetLevel, CallEstimate};
use trialogue::core::clock::ManualClock;
use trialogue::core::config::PipelineConfig;
use trialogue::core::cost::{attempt_ledger, cost_at, cost_of, reprice, CallRecord, CostTracker};
use trialogue::core::llm::chat::HttpResponse;
use trialogue::core::llm::{dispatch, AgentCall, AttemptKind, AttemptRecord, Usage};
use trialogue::core::pipeline::{
    AllowAll, CallGate, MemorySink, Pipeline, RunInput, RunOutcome, StepPricer,
};
use trialogue::core::pricing::{
    FreeRule, Price, PriceOverrides, PriceSource, Pricer, PricingError, PricingTable, RateOverride,
};
use trialogue::core::providers::ProviderRegistry;
use trialogue::core::role::AgentRole;
use trialogue::core::scripted::{solver_output, ScriptedLlm, ScriptedTurn};
use trialogue::core::trajectory::{RunStatus, TrajectoryEntry};

use crate::util::ready_now as block_on;

const SAMPLE: &str = include_str!("../fixtures/pricing/litellm_sample_1.110.2.json");
const EXPECTED: &str = include_str!("../fixtures/pricing/expected_pricing.json");
const ASSET: &str = include_str!("../../public/pricing.json");

fn table() -> Rc<PricingTable> {
    Rc::new(PricingTable::from_json(EXPECTED).expect("the expected fixture parses"))
}

/// The fixture table, with the built-in local server at its default (loopback) address.
fn pricer() -> Pricer {
    Pricer::new(Some(table()), PriceOverrides::new()).with_local_server_url(LOCAL_URL)
}

fn rates(key: &str) -> trialogue::core::pricing::ModelRates {
    table().get(key).cloned().expect("fixture has the key")
}

/// Usage with the adapters' conventions: input includes cached, output includes reasoning.
fn usage(input: u64, cache_read: u64, cache_write: u64, output: u64, reasoning: u64) -> Usage {
    Usage {
        input_tokens: input,
        output_tokens: output,
        total_tokens: input + output,
        cache_read_tokens: cache_read,
        cache_write_tokens: cache_write,
        reasoning_tokens: reasoning,
        reasoning_tokens_unknown: false,
    }
}

fn close(actual: f64, expected: f64) {
    assert!(
        (actual - expected).abs() < 1e-12,
        "got {actual}, expected {expected}"
    );
}

// ---------------------------------------------------------------------------------------------
// The table: script, import, asset.

#[test]
fn litellm_import_equals_the_generated_asset() {
    let imported = PricingTable::from_litellm_file("litellm_sample_1.110.2.json", SAMPLE).unwrap();
    let generated = PricingTable::from_json(EXPECTED).unwrap();
    assert_eq!(imported.rates(), generated.rates());
    assert_eq!(imported.header(), generated.header());
    assert_eq!(imported, generated);
    // 32 entries in the sample; left out: sample_spec, text-embedding-3-small,
    // trialogue-test/no-output, trialogue-test/not-an-object, and the three `alias_of` rows,
    // one of which is kept as an alias.
    assert_eq!(imported.len(), 25);
    assert_eq!(imported.aliases().len(), 1);
    assert_eq!(imported.header().version, "1.110.2");
}

#[test]
fn the_generator_writes_the_fixture_byte_for_byte() {
    // What `examples/gen-pricing.rs` (scripts/gen-pricing) writes: the app's import, then
    // `to_json`. The whole shipped table is checked the same way against the pinned LiteLLM's
    // own file by tests/litellm/test_completion_cost.py.
    let table = PricingTable::from_litellm_file("litellm_sample_1.110.2.json", SAMPLE).unwrap();
    assert_eq!(table.to_json(), EXPECTED);
}

#[test]
fn the_import_rules_drop_unusable_rates_and_keep_integers() {
    let t = table();
    let odd = t.get("trialogue-test/odd-rates").unwrap();
    // `output_cost_per_token: 2` is an integer, read as 2.0; the boolean cache-read rate, the
    // negative cache-write rate and the string reasoning rate are dropped; the `null` tier
    // output is not a rate; `_above_1hr` is the 1-hour cache-write rate and the `_batches`
    // tier a batch tier, not standard tiers.
    assert_eq!(odd.output, 2.0);
    assert_eq!(
        (odd.cache_read, odd.cache_write, odd.reasoning),
        (None, None, None)
    );
    assert_eq!(odd.cache_write_1h, Some(4e-6));
    assert_eq!(odd.tiers.len(), 1);
    assert_eq!(
        (
            odd.tiers[0].above,
            odd.tiers[0].rates.input,
            odd.tiers[0].rates.output
        ),
        (64_000, Some(2e-6), None)
    );
    let batch = odd.batch.as_ref().unwrap();
    assert_eq!(
        (batch.tiers[0].above, batch.tiers[0].rates.input),
        (64_000, Some(1e-6))
    );
    assert_eq!(t.get("trialogue-test/integer-rates").unwrap().input, 0.0);
    assert!(t.get("trialogue-test/no-output").is_none());
    assert!(t.get("text-embedding-3-small").is_none());
    assert!(t.get("sample_spec").is_none());
    // An alias of a model the table does not keep, or of nothing, is left out.
    assert!(t.get("trialogue-test/alias-of-embedding").is_none());
    assert!(t.get("trialogue-test/alias-of-nothing").is_none());
    assert!(
        t.get("azure/codex-mini").is_some(),
        "responses mode is kept"
    );
}

#[test]
fn the_committed_asset_is_litellm_1_110_2() {
    let t = PricingTable::from_json(ASSET).unwrap();
    assert_eq!(t.header().version, "1.110.2");
    assert_eq!(t.header().models as usize, t.len());
    assert_eq!(t.header().aliases as usize, t.aliases().len());
    // Rates as LiteLLM 1.110.2 lists them.
    let mini = t.get("gpt-4.1-mini").unwrap();
    assert_eq!(
        (mini.input, mini.output, mini.cache_read),
        (4e-7, 1.6e-6, Some(1e-7))
    );
    let pro = t.get("gemini/gemini-2.5-pro").unwrap();
    assert_eq!(pro.tiers.len(), 1);
    assert_eq!(
        (
            pro.tiers[0].above,
            pro.tiers[0].rates.input,
            pro.tiers[0].rates.output
        ),
        (200_000, Some(2.5e-6), Some(1.5e-5))
    );
    assert!(t.get("text-embedding-3-small").is_none());
    assert_eq!(
        t.aliases()
            .get("bedrock/claude-opus-latest")
            .map(String::as_str),
        Some("global.anthropic.claude-opus-5-5")
    );
}

#[test]
fn a_table_written_by_rust_reads_back_the_same() {
    let t = table();
    assert_eq!(PricingTable::from_json(&t.to_json()).unwrap(), *t);
}

#[test]
fn a_malformed_litellm_file_names_line_and_column() {
    // Line 2 is `  "gpt-4o": {"mode": "chat",}`: the `}` after the trailing comma is column 29
    // (2 spaces, `"gpt-4o"` in 3–10, `:` 11, space 12, `{` 13, `"mode"` 14–19, `:` 20,
    // space 21, `"chat"` 22–27, `,` 28).
    let text = "{\n  \"gpt-4o\": {\"mode\": \"chat\",}\n}";
    let err = PricingTable::from_litellm_json(text).unwrap_err();
    let PricingError::Syntax { line, column, .. } = &err else {
        panic!("expected a syntax error, got {err:?}");
    };
    assert_eq!((*line, *column), (2, 29));
    assert!(err.to_string().contains("line 2, column 29"), "{err}");

    let err = PricingTable::from_litellm_json("[1, 2]").unwrap_err();
    assert_eq!(err, PricingError::NotAnObject { found: "an array" });
    assert!(err
        .to_string()
        .contains("model_prices_and_context_window.json"));

    let err = PricingTable::from_litellm_json(
        r#"{"e": {"mode": "embedding", "input_cost_per_token": 1}}"#,
    )
    .unwrap_err();
    assert_eq!(err, PricingError::NoChatModels { entries: 1 });
}

#[test]
fn a_wrong_or_truncated_asset_is_refused_with_a_reason() {
    // A raw LiteLLM file given where the asset is expected.
    let err = PricingTable::from_json(SAMPLE).unwrap_err();
    assert!(matches!(err, PricingError::Shape { .. }), "{err:?}");
    assert!(err.to_string().contains("LiteLLM import"), "{err}");

    let truncated = r#"{"header":{"generated_from":"x.json","models":2,"source":"s","version":"1"},
        "rates":{"a":{"input":1e-6,"output":2e-6}}}"#;
    assert_eq!(
        PricingTable::from_json(truncated).unwrap_err(),
        PricingError::CountMismatch {
            what: "models",
            expected: 2,
            found: 1
        }
    );

    let negative = r#"{"header":{"generated_from":"x.json","models":1,"source":"s","version":"1"},
        "rates":{"a":{"input":1e-6,"output":2e-6,"cache_read":-1e-7}}}"#;
    let err = PricingTable::from_json(negative).unwrap_err();
    assert_eq!(
        err,
        PricingError::InvalidRate {
            model: "a".into(),
            field: "cache_read",
            value: -1e-7
        }
    );

    let dangling = r#"{"header":{"generated_from":"x.json","models":1,"aliases":1,"source":"s",
        "version":"1"},"rates":{"a":{"input":1e-6,"output":2e-6}},"aliases":{"b-latest":"b"}}"#;
    let err = PricingTable::from_json(dangling).unwrap_err();
    assert_eq!(
        err,
        PricingError::DanglingAlias {
            alias: "b-latest".into(),
            target: "b".into()
        }
    );
    let lost_alias = r#"{"header":{"generated_from":"x.json","models":1,"aliases":2,"source":"s",
        "version":"1"},"rates":{"a":{"input":1e-6,"output":2e-6}},"aliases":{"a-latest":"a"}}"#;
    let err = PricingTable::from_json(lost_alias).unwrap_err();
    assert!(
        err.to_string().contains("holds 2 aliases but has 1"),
        "{err}"
    );
}

// ---------------------------------------------------------------------------------------------
// Lookup.

/// The built-in local server's default address.
const LOCAL_URL: &str = "http://127.0.0.1:8091/v1";

fn local_free() -> Option<PriceSource> {
    Some(PriceSource::LocalFree {
        provider: "local".into(),
        rule: FreeRule::Loopback {
            base_url: LOCAL_URL.into(),
        },
    })
}

fn marked_local(provider: &str) -> Option<PriceSource> {
    Some(PriceSource::LocalFree {
        provider: provider.into(),
        rule: FreeRule::MarkedLocal,
    })
}

fn source(pricer: &Pricer, provider: &str, model: &str) -> Option<PriceSource> {
    pricer.price_of(provider, model).source().cloned()
}

fn from_table(key: &str) -> Option<PriceSource> {
    Some(PriceSource::table(key))
}

#[test]
fn model_strings_find_litellm_keys() {
    let p = pricer();
    let cases: &[(&str, &str, Option<PriceSource>)] = &[
        // Provider and model as the client reports them, and configured strings.
        ("openai", "gpt-4.1-mini", from_table("gpt-4.1-mini")),
        ("", "openai/gpt-4.1-mini", from_table("gpt-4.1-mini")),
        ("", "gpt-4.1-mini", from_table("gpt-4.1-mini")),
        ("openai", "openai/gpt-4.1-mini", from_table("gpt-4.1-mini")),
        // Gemini: LiteLLM's `gemini/` entry (the Gemini API's prices), not the bare Vertex one.
        (
            "gemini",
            "gemini-2.5-pro",
            from_table("gemini/gemini-2.5-pro"),
        ),
        (
            "",
            "gemini/gemini-2.5-pro",
            from_table("gemini/gemini-2.5-pro"),
        ),
        ("", "gemini-2.5-pro", from_table("gemini/gemini-2.5-pro")),
        // Dated names: exact when listed (priced differently), else without the date; an
        // undated name LiteLLM only lists with dates takes the latest.
        (
            "openai",
            "gpt-4o-2024-05-13",
            from_table("gpt-4o-2024-05-13"),
        ),
        ("openai", "gpt-4o-2030-01-01", from_table("gpt-4o")),
        (
            "anthropic",
            "claude-sonnet-4-5-20250929",
            from_table("claude-sonnet-4-5-20250929"),
        ),
        (
            "anthropic",
            "claude-sonnet-4-5-20991231",
            from_table("claude-sonnet-4-5"),
        ),
        (
            "openai",
            "gpt-4o-audio-preview",
            from_table("gpt-4o-audio-preview-2025-06-03"),
        ),
        // Cohere, with LiteLLM's `cohere_chat/` alias.
        (
            "cohere",
            "command-r-08-2024",
            from_table("command-r-08-2024"),
        ),
        (
            "",
            "cohere_chat/command-r-08-2024",
            from_table("command-r-08-2024"),
        ),
        // OpenRouter: the upstream provider's price.
        (
            "openrouter",
            "openai/gpt-4.1-mini",
            from_table("gpt-4.1-mini"),
        ),
        (
            "openrouter",
            "anthropic/claude-sonnet-4.5",
            from_table("claude-sonnet-4-5"),
        ),
        (
            "",
            "openrouter/google/gemini-2.5-pro",
            from_table("gemini/gemini-2.5-pro"),
        ),
        // A provider LiteLLM prefixes itself.
        (
            "",
            "dashscope/qwen-turbo",
            from_table("dashscope/qwen-turbo"),
        ),
        // A gateway (or the scripted fake) serving a `vendor/model` name.
        (
            "scripted",
            "openai/gpt-4.1-mini",
            from_table("gpt-4.1-mini"),
        ),
        // Unknown: never a made-up price.
        ("openai", "gpt-imaginary", None),
        ("cohere", "command-r-plus", None),
        ("openai", "text-embedding-3-small", None),
        ("", "meta-llama/Llama-3-8b", None),
        // Local: free by rule.
        ("local", "smollm2-135m", local_free()),
        ("", "local/smollm2-135m", local_free()),
        ("my-llama", "qwen", None),
    ];
    for (provider, model, expected) in cases {
        assert_eq!(
            &source(&p, provider, model),
            expected,
            "price of ({provider:?}, {model:?})"
        );
    }
}

#[test]
fn custom_providers_marked_local_are_free_and_no_table_means_unknown() {
    let p = pricer().with_local_provider("my-llama");
    assert_eq!(source(&p, "my-llama", "qwen"), marked_local("my-llama"));
    assert_eq!(source(&p, "", "my-llama/qwen"), marked_local("my-llama"));
    let free = p.price_of("my-llama", "qwen");
    let quote = free.quote().unwrap();
    assert_eq!(
        cost_of(&usage(5_000, 0, 0, 900, 0), &quote.rates).total_usd,
        0.0
    );

    let without_table = Pricer::default().with_local_server_url(LOCAL_URL);
    assert_eq!(without_table.price_of("openai", "gpt-4o"), Price::Unknown);
    assert_eq!(source(&without_table, "local", "x"), local_free());
}

// ---------------------------------------------------------------------------------------------
// Costs, one per provider's usage shape.

#[test]
fn openai_cached_prompt_tokens() {
    // gpt-4.1-mini: input $0.40/M, cache read $0.10/M, output $1.60/M.
    // prompt_tokens 10 000 with cached_tokens 6 000, completion 1 500:
    //   4 000 × 0.4e-6 = 0.0016; 6 000 × 0.1e-6 = 0.0006; 1 500 × 1.6e-6 = 0.0024 → 0.0046
    let c = cost_of(&usage(10_000, 6_000, 0, 1_500, 0), &rates("gpt-4.1-mini"));
    close(c.input_usd, 0.0016);
    close(c.cache_read_usd, 0.0006);
    close(c.output_usd, 0.0024);
    close(c.total_usd, 0.0046);
    assert_eq!(c.tier_above, None);
}

#[test]
fn openai_reasoning_tokens_bill_as_output() {
    // o3-mini: input $1.10/M, cache read $0.55/M, output $4.40/M, no reasoning rate.
    // prompt 2 000 (1 024 cached), completion 3 000 of which reasoning 2 304:
    //   976 × 1.1e-6 = 0.0010736; 1 024 × 0.55e-6 = 0.0005632;
    //   696 × 4.4e-6 = 0.0030624; 2 304 × 4.4e-6 = 0.0101376 → 0.0148368
    let c = cost_of(&usage(2_000, 1_024, 0, 3_000, 2_304), &rates("o3-mini"));
    close(c.input_usd, 0.0010736);
    close(c.cache_read_usd, 0.0005632);
    close(c.output_usd, 0.0030624);
    close(c.reasoning_usd, 0.0101376);
    close(c.total_usd, 0.0148368);
}

#[test]
fn anthropic_cache_reads_and_writes() {
    // claude-sonnet-4-5: input $3/M, cache write $3.75/M, cache read $0.30/M, output $15/M.
    // Anthropic reports input_tokens 100, cache_creation_input_tokens 2 000,
    // cache_read_input_tokens 8 000, output 500; normalized input = 10 100.
    //   100 × 3e-6 = 0.0003; 2 000 × 3.75e-6 = 0.0075; 8 000 × 0.3e-6 = 0.0024;
    //   500 × 15e-6 = 0.0075 → 0.0177
    let c = cost_of(
        &usage(10_100, 8_000, 2_000, 500, 0),
        &rates("claude-sonnet-4-5"),
    );
    assert_eq!(c.tier_above, None);
    close(c.input_usd, 0.0003);
    close(c.cache_write_usd, 0.0075);
    close(c.cache_read_usd, 0.0024);
    close(c.output_usd, 0.0075);
    close(c.total_usd, 0.0177);
}

#[test]
fn gemini_thoughts_and_the_200k_tier() {
    let pro = rates("gemini/gemini-2.5-pro");
    // Below the tier: $1.25/M in, $10/M out; thoughts 800 + candidates 200 = output 1 000.
    //   1 000 × 1.25e-6 = 0.00125; 200 × 1e-5 = 0.002; 800 × 1e-5 = 0.008 → 0.01125
    let below = cost_of(&usage(1_000, 0, 0, 1_000, 800), &pro);
    close(below.reasoning_usd, 0.008);
    close(below.total_usd, 0.01125);

    // Above: prompt 250 000 (50 000 cached) > 200 000, so the whole request is at the tier's
    // $2.50/M in, $0.25/M cached, $15/M out; output 2 000 of which thoughts 1 500.
    //   200 000 × 2.5e-6 = 0.5; 50 000 × 0.25e-6 = 0.0125; 500 × 15e-6 = 0.0075;
    //   1 500 × 15e-6 = 0.0225 → 0.5425
    let above = cost_of(&usage(250_000, 50_000, 0, 2_000, 1_500), &pro);
    assert_eq!(above.tier_above, Some(200_000));
    close(above.input_usd, 0.5);
    close(above.cache_read_usd, 0.0125);
    close(above.output_usd, 0.0075);
    close(above.reasoning_usd, 0.0225);
    close(above.total_usd, 0.5425);

    // Exactly 200 000 is not above: 200 000 × 1.25e-6 = 0.25.
    let at = cost_of(&usage(200_000, 0, 0, 0, 0), &pro);
    assert_eq!(at.tier_above, None);
    close(at.total_usd, 0.25);
}

#[test]
fn cohere_plain_tokens() {
    // command-r-08-2024: $0.15/M in, $0.60/M out; 1 200 in, 300 out:
    //   1 200 × 0.15e-6 = 0.00018; 300 × 0.6e-6 = 0.00018 → 0.00036
    let c = cost_of(&usage(1_200, 0, 0, 300, 0), &rates("command-r-08-2024"));
    close(c.total_usd, 0.00036);
}

#[test]
fn a_reasoning_rate_bills_reasoning_apart() {
    // dashscope/qwen-turbo: $0.05/M in, $0.20/M out, $0.50/M reasoning.
    // 1 000 in, 3 000 out of which 2 000 reasoning:
    //   1 000 × 5e-8 = 0.00005; 1 000 × 2e-7 = 0.0002; 2 000 × 5e-7 = 0.001 → 0.00125
    let c = cost_of(
        &usage(1_000, 0, 0, 3_000, 2_000),
        &rates("dashscope/qwen-turbo"),
    );
    close(c.output_usd, 0.0002);
    close(c.reasoning_usd, 0.001);
    close(c.total_usd, 0.00125);
}

#[test]
fn the_highest_tier_exceeded_applies() {
    // kyma/qwen3.7-flash tiers above 32k and 256k; 100 000 in → the 32k tier:
    //   100 000 × 1.35e-7 = 0.0135; 1 000 × 5.4e-7 = 0.00054 → 0.01404
    let c = cost_of(
        &usage(100_000, 0, 0, 1_000, 0),
        &rates("kyma/qwen3.7-flash"),
    );
    assert_eq!(c.tier_above, Some(32_000));
    close(c.total_usd, 0.01404);
}

// ---------------------------------------------------------------------------------------------
// Where LiteLLM's rules are right: aliases, per-provider thresholds, `tiered_pricing` ranges,
// Fireworks' cache discount, off-peak hours, batch and cache-lifetime rates. The differential
// test (tests/litellm/) checks the same classes against LiteLLM itself.

#[test]
fn an_alias_is_priced_as_its_model_and_named_as_such() {
    let p = pricer();
    let price = p.price_of("", "bedrock/claude-opus-latest");
    let quote = price.quote().expect("the alias is priced");
    assert_eq!(
        quote.source,
        PriceSource::Table {
            key: "bedrock/claude-opus-latest".into(),
            alias_of: Some("global.anthropic.claude-opus-5-5".into()),
        }
    );
    // global.anthropic.claude-opus-5-5: $4/M in, $20/M out. 1 000 in, 100 out:
    //   1 000 × 4e-6 + 100 × 2e-5 = 0.004 + 0.002 = 0.006
    close(
        cost_of(&usage(1_000, 0, 0, 100, 0), &quote.rates).total_usd,
        0.006,
    );
    assert!(quote
        .source
        .to_string()
        .contains("global.anthropic.claude-opus-5-5"));
}

#[test]
fn xai_bills_its_long_context_rate_from_the_threshold_on_and_google_only_past_it() {
    // xai/grok-4.3: $1.25/M in, $2.50/M out; from 200k prompt tokens $2.50/M in, $5/M out.
    let grok = rates("xai/grok-4.3");
    // 200 000 × 2.5e-6 + 1 000 × 5e-6 = 0.5 + 0.005 = 0.505
    close(
        cost_of(&usage(200_000, 0, 0, 1_000, 0), &grok).total_usd,
        0.505,
    );
    // 199 999 × 1.25e-6 + 1 000 × 2.5e-6 = 0.24999875 + 0.0025 = 0.25249875
    close(
        cost_of(&usage(199_999, 0, 0, 1_000, 0), &grok).total_usd,
        0.25249875,
    );
    // gemini/gemini-2.5-pro: $1.25/M in and $10/M out up to 200k, higher only past it.
    // 200 000 × 1.25e-6 + 1 000 × 1e-5 = 0.25 + 0.01 = 0.26
    let pro = rates("gemini/gemini-2.5-pro");
    close(
        cost_of(&usage(200_000, 0, 0, 1_000, 0), &pro).total_usd,
        0.26,
    );
}

#[test]
fn tiered_pricing_bills_the_whole_request_at_its_range() {
    // dashscope/qwen-flash: ranges (0, 256k] at $0.05/M in, $0.40/M out; above 256k $0.25/M
    // in, $2/M out. No cache or reasoning rate: the range's input and output rates.
    let flash = rates("dashscope/qwen-flash");
    // 256 000 × 5e-8 + 1 000 × 4e-7 = 0.0128 + 0.0004 = 0.0132
    close(
        cost_of(&usage(256_000, 0, 0, 1_000, 0), &flash).total_usd,
        0.0132,
    );
    // 256 001 tokens, 1 000 of them cached, 1 000 out of which 600 reasoning, all at the upper
    // range: 255 001 × 2.5e-7 + 1 000 × 2.5e-7 + 400 × 2e-6 + 600 × 2e-6
    //   = 0.06375025 + 0.00025 + 0.0008 + 0.0012 = 0.06600025
    let c = cost_of(&usage(256_001, 1_000, 0, 1_000, 600), &flash);
    close(c.total_usd, 0.06600025);
    assert_eq!(c.tier_above, Some(256_000));
}

#[test]
fn fireworks_cached_tokens_cost_half_the_input_price() {
    // code-llama-7b-instruct lists $0.20/M in and out and no cache-read price.
    let llama = rates("fireworks_ai/accounts/fireworks/models/code-llama-7b-instruct");
    assert_eq!(llama.cache_read, Some(1e-7));
    // 2 000 × 2e-7 + 8 000 × 1e-7 + 100 × 2e-7 = 0.0004 + 0.0008 + 0.00002 = 0.00122
    close(
        cost_of(&usage(10_000, 8_000, 0, 100, 0), &llama).total_usd,
        0.00122,
    );
}

/// 2026-03-04T02:30:00Z, a Wednesday inside DeepSeek's peak hours.
const WEDNESDAY_PEAK_MS: f64 = 1_772_591_400_000.0;
/// 2026-03-04T12:00:00Z, a Wednesday off-peak.
const WEDNESDAY_OFF_PEAK_MS: f64 = 1_772_625_600_000.0;

#[test]
fn deepseek_bills_off_peak_rates_by_the_time_of_the_call() {
    // deepseek-v4-flash: $0.30/M in, $0.006/M cached, $1.20/M out; off-peak $0.15/M,
    // $0.003/M and $0.60/M. 10 000 in (4 000 cached), 2 000 out.
    let flash = rates("deepseek-v4-flash");
    let u = usage(10_000, 4_000, 0, 2_000, 0);
    // 6 000 × 3e-7 + 4 000 × 6e-9 + 2 000 × 1.2e-6 = 0.0018 + 0.000024 + 0.0024 = 0.004224
    let peak = cost_at(&u, &flash, Some(WEDNESDAY_PEAK_MS));
    close(peak.total_usd, 0.004224);
    assert!(!peak.off_peak);
    // 6 000 × 1.5e-7 + 4 000 × 3e-9 + 2 000 × 6e-7 = 0.0009 + 0.000012 + 0.0012 = 0.002112
    let off = cost_at(&u, &flash, Some(WEDNESDAY_OFF_PEAK_MS));
    close(off.total_usd, 0.002112);
    assert!(off.off_peak);
    // An unknown time is billed at the standard rates.
    close(cost_of(&u, &flash).total_usd, 0.004224);
}

#[test]
fn a_stored_step_is_priced_at_its_own_time_and_repriced_the_same() {
    let config: PipelineConfig = serde_json::from_value(json!({
        "mode": "baseline", "max_iterations": 1, "max_reasks": 1,
        "solver": {"role": "solver", "model": "deepseek/deepseek-v4-flash",
                   "prompt_template": "Solve: {problem}\nFeedback: {feedback}"},
        "verifier": {"role": "verifier", "model": "deepseek/deepseek-v4-flash",
                     "prompt_template": "Check {solution} for {problem}"},
        "judge": {"model": "deepseek/deepseek-v4-flash", "prompt_template": "Score {solution}",
                  "scoring_rubric": "correctness"},
        "config_version": "1.0"
    }))
    .unwrap();
    let turn = || {
        ScriptedTurn::attempted(
            solver_output("4"),
            "deepseek",
            "deepseek-v4-flash",
            vec![AttemptRecord {
                attempt: 1,
                kind: AttemptKind::Initial,
                usage: Some(usage(10_000, 4_000, 0, 2_000, 0)),
                error: None,
                latency_ms: 5.0,
                reply: None,
                unsettled: false,
                sent_via: Default::default(),
            }],
        )
    };
    let pricer = pricer();
    let mut costs = Vec::new();
    for start in [WEDNESDAY_PEAK_MS, WEDNESDAY_OFF_PEAK_MS] {
        let llm = ScriptedLlm::builder()
            .push(AgentRole::Solver, turn())
            .judge(1.0)
            .build();
        let outcome = priced_run_at(&config, &llm, &pricer, &AllowAll, start);
        let solver = &outcome.entries[0];
        // Re-pricing reads the step's timestamp and finds the same figure.
        let repriced = reprice(std::slice::from_ref(solver), &pricer);
        assert_eq!(repriced.steps[0].new_usd, solver.cost_usd());
        costs.push(solver.cost_usd().unwrap());
    }
    // The figures of `deepseek_bills_off_peak_rates_by_the_time_of_the_call`.
    close(costs[0], 0.004224);
    close(costs[1], 0.002112);
}

#[test]
fn batch_rates_are_exposed_where_listed_and_unknown_elsewhere() {
    // gpt-4.1-mini's batch API: $0.20/M in, $0.80/M out, no batch cache-read price (the batch
    // input rate then).
    let batch = rates("gpt-4.1-mini").batch_effective(1_000).unwrap();
    assert_eq!(
        (batch.input, batch.output, batch.cache_read),
        (2e-7, 8e-7, 2e-7)
    );
    // claude-sonnet-4-5 lists batch cache prices.
    let sonnet = rates("claude-sonnet-4-5").batch_effective(1_000).unwrap();
    assert_eq!((sonnet.cache_read, sonnet.cache_write), (1.5e-7, 1.875e-6));
    // gemini/gemini-2.5-pro's batch tier past 200k.
    let pro = rates("gemini/gemini-2.5-pro")
        .batch_effective(200_001)
        .unwrap();
    assert_eq!(
        (pro.input, pro.output, pro.tier_above),
        (1.25e-6, 7.5e-6, Some(200_000))
    );
    // No `_batches` key: unknown, never half the standard price.
    assert_eq!(rates("azure/codex-mini").batch_effective(1_000), None);
}

#[test]
fn cache_writes_have_a_rate_per_lifetime() {
    // claude-sonnet-4-5: 5-minute writes $3.75/M, 1-hour writes $6/M; no 12-hour rate (the
    // 5-minute one).
    let r = rates("claude-sonnet-4-5").effective(1_000);
    assert_eq!(
        (r.cache_write, r.cache_write_1h, r.cache_write_12h),
        (3.75e-6, 6e-6, 3.75e-6)
    );
}

#[test]
fn the_local_provider_on_a_remote_host_is_priced_like_any_other() {
    let remote = Pricer::new(Some(table()), PriceOverrides::new())
        .with_local_server_url("https://llm.example.com/v1");
    // Unknown unless the table knows the model, as for any OpenAI-compatible provider.
    assert_eq!(remote.price_of("local", "smollm2-135m"), Price::Unknown);
    assert_eq!(
        source(&remote, "local", "gpt-4.1-mini"),
        from_table("gpt-4.1-mini")
    );
    // So a budget stops it: an unknown price is refused under a budget.
    let run = Budget::new("run", 0.5).unwrap().shared();
    let gate = BudgetGate::new(Rc::new(remote)).with_budget(run);
    assert!(gate
        .before_call(&call("local/smollm2-135m", 5_000, 4_096))
        .is_err());
    // On this machine it is free, and the source says why.
    let here = pricer();
    assert_eq!(
        here.price_of("local", "smollm2-135m")
            .source()
            .unwrap()
            .to_string(),
        "free: `local` is a server on this machine (http://127.0.0.1:8091/v1)"
    );
}

#[test]
fn cohere_is_priced_on_the_units_it_bills() {
    // The recorded reply processed 2 935 prompt tokens (2 928 from the cache) and 4 output
    // tokens, and billed 2 406 and 2.
    let recorded = crate::util::fixture_json("cohere/response_cached.json");
    let reply = HttpResponse {
        status: 200,
        headers: Vec::new(),
        body: recorded["body"].to_string(),
    };
    let cohere = ProviderRegistry::builtin()
        .get("cohere")
        .cloned()
        .expect("cohere is built in");
    let usage = dispatch::parse_response(&cohere, &reply, None)
        .unwrap()
        .usage
        .unwrap();
    // command-r-08-2024: $0.15/M in, $0.60/M out.
    //   2 406 × 1.5e-7 + 2 × 6e-7 = 0.0003609 + 0.0000012 = 0.0003621
    let cost = pricer().price("cohere", "command-r-08-2024", &usage);
    close(cost.unwrap(), 0.0003621);
}

// ---------------------------------------------------------------------------------------------
// Overrides and the loop's pricer.

#[test]
fn overrides_win_over_the_table_and_the_local_rule() {
    let mut overrides = PriceOverrides::new();
    overrides
        .insert(
            "openai/gpt-4.1-mini",
            RateOverride {
                cache_read_per_million: Some(0.25),
                ..RateOverride::new(1.0, 2.0)
            },
        )
        .unwrap();
    overrides
        .insert("gpt-4o", RateOverride::new(3.0, 4.0))
        .unwrap();
    overrides
        .insert("cohere_chat/command-r-08-2024", RateOverride::new(0.5, 0.5))
        .unwrap();
    overrides
        .insert("local/big-model", RateOverride::new(0.1, 0.1))
        .unwrap();
    let p = Pricer::new(Some(table()), overrides).with_local_server_url(LOCAL_URL);
    let over = |key: &str| Some(PriceSource::Override { key: key.into() });

    assert_eq!(
        source(&p, "openai", "gpt-4.1-mini"),
        over("openai/gpt-4.1-mini")
    );
    assert_eq!(source(&p, "", "gpt-4.1-mini"), over("openai/gpt-4.1-mini"));
    // A bare key means the same model as its provider-prefixed string.
    assert_eq!(source(&p, "openai", "gpt-4o"), over("gpt-4o"));
    assert_eq!(source(&p, "", "openai/gpt-4o"), over("gpt-4o"));
    assert_eq!(
        source(&p, "cohere", "command-r-08-2024"),
        over("cohere_chat/command-r-08-2024")
    );
    assert_eq!(source(&p, "local", "big-model"), over("local/big-model"));
    assert_eq!(source(&p, "local", "small-model"), local_free());

    // $1/M in, $0.25/M cached, $2/M out; 10 000 in (6 000 cached), 1 500 out:
    //   4 000 × 1e-6 = 0.004; 6 000 × 0.25e-6 = 0.0015; 1 500 × 2e-6 = 0.003 → 0.0085
    let cost = p.price("openai", "gpt-4.1-mini", &usage(10_000, 6_000, 0, 1_500, 0));
    close(cost.unwrap(), 0.0085);
}

#[test]
fn the_step_pricer_prices_known_models_and_leaves_unknown_ones_unknown() {
    let p = pricer();
    // gpt-4.1-mini, 10 000 in (6 000 cached), 1 500 out → 0.0046 (as above).
    let u = usage(10_000, 6_000, 0, 1_500, 0);
    close(p.price("openai", "gpt-4.1-mini", &u).unwrap(), 0.0046);
    // A failed call: the provider the error names and the configured string.
    close(
        p.price("openai", "openai/gpt-4.1-mini", &u).unwrap(),
        0.0046,
    );
    close(p.price("", "openai/gpt-4.1-mini", &u).unwrap(), 0.0046);
    assert_eq!(p.price("openai", "gpt-imaginary", &u), None);
    assert_eq!(p.price("local", "smollm2-135m", &u), Some(0.0));
}

// ---------------------------------------------------------------------------------------------
// Trackers, ledgers, re-pricing.

fn entry(step_id: u64, agent: &str, metadata: Value) -> TrajectoryEntry {
    serde_json::from_value(json!({
        "timestamp": "2026-03-01T12:00:00.000000+00:00",
        "run_id": "run_20260301_120000_0badf00d",
        "step_id": step_id,
        "agent": agent,
        "action": "generate",
        "input": {},
        "output": {},
        "metadata": metadata,
    }))
    .expect("test entry")
}

fn usage_json(u: Usage) -> Value {
    serde_json::to_value(u).unwrap()
}

#[test]
fn the_tracker_sums_by_model_and_agent_and_counts_unpriced_calls() {
    let entries = [
        // 0.0046 (gpt-4.1-mini, as above)
        entry(
            1,
            "solver",
            json!({"model": "openai/gpt-4.1-mini", "provider": "openai", "cost_usd": 0.0046,
                   "usage": usage_json(usage(10_000, 6_000, 0, 1_500, 0))}),
        ),
        // 0.0177 (claude-sonnet-4-5, as above)
        entry(
            2,
            "verifier",
            json!({"model": "anthropic/claude-sonnet-4-5", "provider": "anthropic",
                   "cost_usd": 0.0177, "usage": usage_json(usage(10_100, 8_000, 2_000, 500, 0))}),
        ),
        // The original's shape: tokens only. 1 000 × 0.4e-6 + 100 × 1.6e-6 = 0.00056
        entry(
            3,
            "solver",
            json!({"model": "openai/gpt-4.1-mini", "cost_usd": 0.00056,
                   "tokens": {"prompt_tokens": 1000, "completion_tokens": 100, "total_tokens": 1100}}),
        ),
        // Unknown price with tokens used: unpriced, not 0.
        entry(
            4,
            "judge",
            json!({"model": "mystery/model-x", "cost_usd": null,
                   "usage": usage_json(usage(500, 0, 0, 50, 0))}),
        ),
        // Failed before any token: costs nothing whatever the price.
        entry(
            5,
            "judge",
            json!({"model": "mystery/model-x", "cost_usd": null,
                   "usage": usage_json(Usage::default()), "usage_complete": false}),
        ),
    ];
    let tracker = CostTracker::from_entries(&entries);
    let total = tracker.total();
    assert_eq!(total.calls, 5);
    assert_eq!(total.unpriced_calls, 1);
    assert_eq!(total.incomplete_usage_calls, 1);
    assert!(!total.is_complete());
    // 0.0046 + 0.0177 + 0.00056 = 0.02286
    close(total.cost_usd(), 0.02286);
    // 10 000 + 10 100 + 1 000 + 500 = 21 600 in; 6 000 + 8 000 cached; 1 500 + 500 + 100 + 50
    assert_eq!(
        total.usage,
        Usage {
            input_tokens: 21_600,
            output_tokens: 2_150,
            total_tokens: 23_750,
            cache_read_tokens: 14_000,
            cache_write_tokens: 2_000,
            reasoning_tokens: 0,
            reasoning_tokens_unknown: false,
        }
    );

    let mini = &tracker.by_model()["openai/gpt-4.1-mini"];
    assert_eq!((mini.calls, mini.unpriced_calls), (2, 0));
    close(mini.cost_usd(), 0.00516); // 0.0046 + 0.00056
    assert!(mini.is_complete());

    let judge = &tracker.by_agent()["judge"];
    assert_eq!((judge.calls, judge.unpriced_calls), (2, 1));
    assert_eq!(judge.cost_usd(), 0.0);
    assert_eq!(tracker.by_agent().len(), 3);

    let summary = tracker.summary();
    assert_eq!(summary.by_model["anthropic/claude-sonnet-4-5"].calls, 1);
    assert!(!summary.total.complete);

    // Records made by hand go the same way.
    let mut by_hand = CostTracker::new();
    by_hand.record(&CallRecord {
        agent: "solver".into(),
        model: "x".into(),
        usage: usage(10, 0, 0, 5, 0),
        cost_usd: None,
        usage_complete: true,
    });
    assert_eq!(by_hand.total().unpriced_calls, 1);
}

fn attempts_entry() -> TrajectoryEntry {
    entry(
        1,
        "solver",
        json!({
            "iteration": 1,
            "model": "openai/gpt-4.1-mini",
            "provider": "openai",
            "cost_usd": 0.00148,
            "usage": usage_json(usage(2_300, 0, 0, 350, 0)),
            "attempts": [
                {"attempt": 1, "kind": "initial", "usage": usage_json(usage(1_000, 0, 0, 200, 0)),
                 "error": "the reply was not JSON", "latency_ms": 900.0},
                {"attempt": 2, "kind": "retry", "usage": null,
                 "error": "HTTP 503", "latency_ms": 30.0},
                {"attempt": 3, "kind": "reask", "usage": usage_json(usage(1_300, 0, 0, 150, 0)),
                 "error": null, "latency_ms": 800.0}
            ]
        }),
    )
}

#[test]
fn the_ledger_shows_what_each_reask_and_retry_cost() {
    let original = entry(
        2,
        "verifier",
        json!({"iteration": 1, "model": "gpt-4.1-mini",
               "tokens": {"prompt_tokens": 100, "completion_tokens": 10, "total_tokens": 110}}),
    );
    let rows = attempt_ledger(&[attempts_entry(), original], &pricer());
    assert_eq!(rows.len(), 4);
    let kinds: Vec<_> = rows
        .iter()
        .map(|r| (r.step_id, r.attempt, r.kind))
        .collect();
    assert_eq!(
        kinds,
        vec![
            (1, 1, Some(AttemptKind::Initial)),
            (1, 2, Some(AttemptKind::Retry)),
            (1, 3, Some(AttemptKind::Reask)),
            (2, 1, None),
        ]
    );
    // 1 000 × 0.4e-6 + 200 × 1.6e-6 = 0.0004 + 0.00032 = 0.00072
    close(rows[0].cost_usd.unwrap(), 0.00072);
    // The retried request failed without usage: nothing billed, nothing known.
    assert_eq!(rows[1].cost_usd, None);
    assert_eq!(rows[1].error.as_deref(), Some("HTTP 503"));
    // 1 300 × 0.4e-6 + 150 × 1.6e-6 = 0.00052 + 0.00024 = 0.00076
    close(rows[2].cost_usd.unwrap(), 0.00076);
    // 100 × 0.4e-6 + 10 × 1.6e-6 = 0.00004 + 0.000016 = 0.000056
    close(rows[3].cost_usd.unwrap(), 0.000056);
    assert_eq!(rows[3].iteration, Some(1));
}

#[test]
fn repricing_shows_old_and_new_figures() {
    // Two 150 000-token requests on gemini-2.5-pro: each under the 200k tier.
    let tiered = entry(
        2,
        "judge",
        json!({
            "model": "gemini/gemini-2.5-pro", "provider": "gemini", "cost_usd": null,
            "usage": usage_json(usage(300_000, 0, 0, 2_000, 0)),
            "attempts": [
                {"attempt": 1, "kind": "initial", "usage": usage_json(usage(150_000, 0, 0, 1_000, 0)),
                 "error": "bad", "latency_ms": 1.0},
                {"attempt": 2, "kind": "reask", "usage": usage_json(usage(150_000, 0, 0, 1_000, 0)),
                 "error": null, "latency_ms": 1.0}
            ]
        }),
    );
    let entries = [attempts_entry(), tiered];

    let same = reprice(&entries, &pricer());
    // Step 1: 0.00072 + 0.00076 = 0.00148, as stored.
    close(same.steps[0].new_usd.unwrap(), 0.00148);
    // Step 2, per request: 2 × (150 000 × 1.25e-6 + 1 000 × 1e-5) = 2 × 0.1975 = 0.395
    // (priced as one 300 000-token prompt it would wrongly be 0.75 + 0.03 = 0.78).
    close(same.steps[1].new_usd.unwrap(), 0.395);
    assert_eq!(same.steps[1].old_usd, None);
    assert_eq!(
        same.steps[1].source,
        Some(PriceSource::table("gemini/gemini-2.5-pro"))
    );
    close(same.old.usd, 0.00148);
    assert_eq!(same.old.unpriced_steps, 1);
    close(same.new.usd, 0.39648); // 0.00148 + 0.395
    assert_eq!(same.new.unpriced_steps, 0);

    let mut overrides = PriceOverrides::new();
    overrides
        .insert("openai/gpt-4.1-mini", RateOverride::new(1.0, 2.0))
        .unwrap();
    let cheaper = reprice(&entries, &Pricer::new(Some(table()), overrides));
    // 2 300 × 1e-6 + 350 × 2e-6 = 0.0023 + 0.0007 = 0.003
    close(cheaper.steps[0].new_usd.unwrap(), 0.003);
    close(cheaper.steps[0].old_usd.unwrap(), 0.00148);
    close(cheaper.new.usd, 0.398); // 0.003 + 0.395

    let nothing = reprice(&entries, &Pricer::default());
    assert_eq!(nothing.new.usd, 0.0);
    assert_eq!(nothing.new.unpriced_steps, 2);
}

// ---------------------------------------------------------------------------------------------
// Budgets.

#[test]
fn a_reservation_that_would_overshoot_is_refused_and_settling_frees_the_rest() {
    let mut b = Budget::new("run", 1.0).unwrap();
    let first = b.reserve(0.6).unwrap();
    let err = b.reserve(0.5).unwrap_err();
    assert_eq!(
        (err.spent_usd, err.reserved_usd, err.requested_usd),
        (0.0, 0.6, 0.5)
    );
    assert_eq!(
        err.to_string(),
        "the run budget of $1.00 cannot cover this call: $0.000000 spent, $0.6000 held by calls \
         in flight, and this call may cost up to $0.5000"
    );
    // The call cost 0.1 of the 0.6 held: 0.5 is free again.
    b.settle(first, 0.1);
    assert_eq!(b.spent_usd(), 0.1);
    assert_eq!(b.reserved_usd(), 0.0);
    let second = b.reserve(0.5).unwrap();
    assert_eq!(b.reservations(), 1);
    b.release(second);
    assert_eq!(b.spent_usd(), 0.1);
}

#[test]
fn the_warning_comes_at_80_percent() {
    let mut b = Budget::new("batch", 10.0).unwrap();
    let r = b.reserve(7.5).unwrap();
    b.settle(r, 7.5);
    assert_eq!(b.warn_level(), BudgetLevel::Normal);
    let r = b.reserve(0.5).unwrap();
    b.settle(r, 0.5); // 8.0 of 10.0
    assert_eq!(b.warn_level(), BudgetLevel::Warning);
    assert_eq!(b.fraction_spent(), 0.8);
    let r = b.reserve(2.0).unwrap();
    b.settle(r, 2.0);
    assert_eq!(b.warn_level(), BudgetLevel::Exhausted);
    assert_eq!(b.available_usd(), 0.0);
}

fn call(model: &str, prompt_bytes: usize, max_tokens: u32) -> AgentCall {
    AgentCall {
        role: AgentRole::Solver,
        model: model.into(),
        system_prompt: String::new(),
        user_prompt: "x".repeat(prompt_bytes),
        temperature: 0.0,
        max_tokens,
        reasoning: Default::default(),
    }
}

/// One request, no framing or schema: worst case = bytes × input + max_tokens × output.
fn tight() -> CallEstimate {
    CallEstimate {
        max_reasks: 0,
        overhead_tokens: 0,
        reask_tokens: 0,
        count_schema: false,
    }
}

#[test]
fn the_worst_case_counts_every_reask() {
    let gate = BudgetGate::new(Rc::new(pricer()));
    // Default: 2 re-asks, each adding the reply sent back (≤ max_tokens) and 1 000 tokens of
    // re-ask text. 1 000 bytes, max_tokens 1 000: the first prompt P is bounded by its bytes,
    // the solver schema's and the framing; prompts P, P + 2 000, P + 4 000 at 0.4e-6, and
    // 3 × 1 000 output tokens at 1.6e-6.
    let x = call("openai/gpt-4.1-mini", 1_000, 1_000);
    let p = CallEstimate::default().prompt_bound(&x) as f64;
    assert!(p > 1_000.0 + 256.0, "the schema counts: {p}");
    close(
        gate.worst_case_usd(&x).unwrap(),
        (3.0 * p + 6_000.0) * 0.4e-6 + 3_000.0 * 1.6e-6,
    );
    assert_eq!(gate.worst_case_usd(&call("mystery/x", 10, 10)), None);
    assert_eq!(
        gate.worst_case_usd(&call("local/smollm2", 10, 10)),
        Some(0.0)
    );
}

#[test]
fn runs_sharing_a_batch_budget_cannot_overshoot_it_together() {
    let p = Rc::new(pricer());
    let batch = Budget::new("batch", 0.005).unwrap().shared();
    let gate = || {
        BudgetGate::new(p.clone())
            .with_estimate(tight())
            .with_budget(batch.clone())
    };
    let (a, b, c) = (gate(), gate(), gate());
    // 1 000 bytes × 0.4e-6 + 1 000 × 1.6e-6 = 0.002 per call.
    let x = call("openai/gpt-4.1-mini", 1_000, 1_000);
    a.before_call(&x).unwrap();
    b.before_call(&x).unwrap();
    // 0.002 + 0.002 held; a third 0.002 would make 0.006 > 0.005.
    let refusal = c.before_call(&x).unwrap_err();
    assert!(
        refusal.reason.contains("the batch budget of $0.0050"),
        "{refusal}"
    );
    assert!(refusal.reason.contains("raise the budget"), "{refusal}");
    // a's call cost 0.0005: 0.0005 spent + 0.002 held + 0.002 = 0.0045 fits.
    a.after_call(&x, &usage(250, 0, 0, 250, 0), Some(0.0005));
    c.before_call(&x).unwrap();
    let budget = batch.borrow();
    close(budget.spent_usd(), 0.0005);
    close(budget.reserved_usd(), 0.004);
    assert_eq!(budget.reservations(), 2);
}

#[test]
fn one_gate_shared_by_runs_settles_each_call_against_its_own_reservation() {
    let batch = Budget::new("batch", 1.0).unwrap().shared();
    let gate = BudgetGate::new(Rc::new(pricer()))
        .with_estimate(tight())
        .with_budget(batch.clone());
    // Same model, different prompts: 1 000 × 0.4e-6 + 1 000 × 1.6e-6 = 0.002, and
    // 4 000 × 0.4e-6 + 1 000 × 1.6e-6 = 0.0032.
    let small = call("openai/gpt-4.1-mini", 1_000, 1_000);
    let large = call("openai/gpt-4.1-mini", 4_000, 1_000);
    gate.before_call(&small).unwrap();
    gate.before_call(&large).unwrap();
    close(batch.borrow().reserved_usd(), 0.0052);
    // The large call finishes first: the small call's 0.002 stays held.
    gate.after_call(&large, &usage(4_000, 0, 0, 10, 0), Some(0.001616));
    close(batch.borrow().reserved_usd(), 0.002);
    close(batch.borrow().spent_usd(), 0.001616);
    gate.after_call(&small, &usage(1_000, 0, 0, 10, 0), Some(0.000416));
    assert_eq!(batch.borrow().reservations(), 0);
    close(batch.borrow().spent_usd(), 0.002032); // 0.001616 + 0.000416
}

#[test]
fn a_call_must_fit_every_budget_or_holds_nothing() {
    let p = Rc::new(pricer());
    let run = Budget::new("run", 1.0).unwrap().shared();
    let batch = Budget::new("batch", 0.001).unwrap().shared();
    let gate = BudgetGate::new(p)
        .with_estimate(tight())
        .with_budget(run.clone())
        .with_budget(batch.clone());
    // 0.002 fits the run budget but not the batch's.
    let refusal = gate
        .before_call(&call("openai/gpt-4.1-mini", 1_000, 1_000))
        .unwrap_err();
    assert!(refusal.reason.contains("batch budget"), "{refusal}");
    assert_eq!(run.borrow().reserved_usd(), 0.0);
    assert_eq!(run.borrow().spent_usd(), 0.0);
    assert_eq!(gate.calls_in_flight(), 0);
}

#[test]
fn an_unknown_price_is_refused_under_a_budget_unless_allowed() {
    let p = Rc::new(pricer());
    let run = Budget::new("run", 0.05).unwrap().shared();
    let x = call("mystery/model", 10, 10);

    let strict = BudgetGate::new(p.clone()).with_budget(run.clone());
    let refusal = strict.before_call(&x).unwrap_err();
    assert!(
        refusal
            .reason
            .contains("no price is known for `mystery/model`, so the run budget of $0.0500 cannot be guaranteed"),
        "{refusal}"
    );

    let lenient = BudgetGate::new(p.clone())
        .with_budget(run.clone())
        .allow_unpriced(true);
    lenient.before_call(&x).unwrap();
    lenient.after_call(&x, &usage(10, 0, 0, 10, 0), None);
    assert_eq!(run.borrow().unpriced_calls(), 1);
    assert_eq!(run.borrow().spent_usd(), 0.0);

    // Without a budget, nothing is refused.
    BudgetGate::new(p).before_call(&x).unwrap();
}

#[test]
fn local_calls_pass_an_exhausted_budget() {
    let run = Budget::new("run", 0.0).unwrap().shared();
    let gate = BudgetGate::new(Rc::new(pricer())).with_budget(run.clone());
    let x = call("local/smollm2-135m", 5_000, 4_096);
    gate.before_call(&x).unwrap();
    gate.after_call(&x, &usage(5_000, 0, 0, 4_096, 0), Some(0.0));
    assert_eq!(run.borrow().spent_usd(), 0.0);
}

#[test]
fn a_gate_dropped_mid_call_counts_the_worst_case() {
    let run = Budget::new("run", 1.0).unwrap().shared();
    {
        let gate = BudgetGate::new(Rc::new(pricer()))
            .with_estimate(tight())
            .with_budget(run.clone());
        gate.before_call(&call("openai/gpt-4.1-mini", 1_000, 1_000))
            .unwrap();
    }
    // The 0.002 held may have been billed: possibly billed, not spent, and it counts.
    close(run.borrow().possibly_billed_usd(), 0.002);
    assert_eq!(run.borrow().spent_usd(), 0.0);
    close(run.borrow().available_usd(), 0.998);
    assert_eq!(run.borrow().reservations(), 0);
}

#[test]
fn the_loop_stops_with_budget_exceeded_before_a_call_that_might_not_fit() {
    let config: PipelineConfig = serde_json::from_value(json!({
        "solver": {"role": "solver", "model": "openai/gpt-4.1-mini", "max_tokens": 512,
                   "prompt_template": "Solve: {problem}\nFeedback: {feedback}",
                   "system_prompt": "You solve."},
        "verifier": {"role": "verifier", "model": "anthropic/claude-sonnet-4-5", "max_tokens": 256,
                     "prompt_template": "Check {solution} for {problem}"},
        "judge": {"model": "gemini/gemini-2.5-pro", "max_tokens": 256,
                  "prompt_template": "Score {solution}", "scoring_rubric": "correctness"},
        "config_version": "1.0"
    }))
    .unwrap();
    let llm = ScriptedLlm::builder()
        .usage(usage(1_000, 0, 0, 200, 0))
        .solve("x = 4")
        .verify(true, "fine")
        .judge(1.0)
        .build();
    let pricer = Rc::new(pricer());
    let run = Budget::new("run", 0.01).unwrap().shared();
    let gate = BudgetGate::new(pricer.clone()).with_budget(run.clone());
    let outcome = priced_run(&config, &llm, &pricer, &gate);
    // The solver's worst case: system 10 bytes + prompt "Solve: What is 2+2?\nFeedback: " 30
    // bytes + 1 000 = 1 040; prompts 1 040, 2 552, 4 064 → 7 656 × 0.4e-6 = 0.0030624, plus
    // 3 × 512 × 1.6e-6 = 0.0024576 → 0.00552 ≤ 0.01: made. It cost
    // 1 000 × 0.4e-6 + 200 × 1.6e-6 = 0.00072.
    // The verifier (claude-sonnet-4-5, $3/M in, $15/M out, max_tokens 256) may cost more than
    // 3 × 1 000 × 3e-6 + 3 × 256 × 15e-6 = 0.009 + 0.01152 > 0.01 − 0.00072: refused.
    assert_eq!(outcome.summary.status, RunStatus::BudgetExceeded);
    assert_eq!(outcome.entries.len(), 1);
    close(outcome.entries[0].cost_usd().unwrap(), 0.00072);
    let message = outcome.summary.message.unwrap_or_default();
    assert!(message.contains("the run budget of $0.0100"), "{message}");
    assert_eq!(llm.calls().len(), 1);
    let run = run.borrow();
    close(run.spent_usd(), 0.00072);
    assert_eq!(run.reservations(), 0);
}

#[test]
fn a_step_of_two_requests_is_priced_request_by_request_as_re_pricing_does() {
    let config: PipelineConfig = serde_json::from_value(json!({
        "mode": "baseline", "max_iterations": 1, "max_reasks": 1,
        "solver": {"role": "solver", "model": "gemini/gemini-2.5-pro",
                   "prompt_template": "Solve: {problem}\nFeedback: {feedback}"},
        "verifier": {"role": "verifier", "model": "gemini/gemini-2.5-pro",
                     "prompt_template": "Check {solution} for {problem}"},
        "judge": {"model": "gemini/gemini-2.5-pro", "prompt_template": "Score {solution}",
                  "scoring_rubric": "correctness"},
        "config_version": "1.0"
    }))
    .unwrap();
    // The first answer did not validate and was re-asked: two requests of 150 000 prompt
    // tokens each, 300 000 together.
    let request = usage(150_000, 0, 0, 1_000, 0);
    let attempt = |n, kind| AttemptRecord {
        attempt: n,
        kind,
        usage: Some(request),
        error: None,
        latency_ms: 5.0,
        reply: None,
        unsettled: false,
        sent_via: Default::default(),
    };
    let reasked = ScriptedTurn::attempted(
        solver_output("4"),
        "gemini",
        "gemini-2.5-pro",
        vec![
            attempt(1, AttemptKind::Initial),
            attempt(2, AttemptKind::Reask),
        ],
    );
    let llm = ScriptedLlm::builder()
        .push(AgentRole::Solver, reasked)
        .judge(1.0)
        .build();
    let pricer = pricer();
    let outcome = priced_run(&config, &llm, &pricer, &AllowAll);
    // Each request is under the 200k tier: 2 × (150 000 × 1.25e-6 + 1 000 × 1e-5) = 0.395.
    // Priced as one 300 000-token prompt it would be 300 000 × 2.5e-6 + 2 000 × 1.5e-5 = 0.78.
    let solver = &outcome.entries[0];
    close(solver.cost_usd().unwrap(), 0.395);
    // Re-pricing the stored step under the same table gives the very same figure.
    let repriced = reprice(std::slice::from_ref(solver), &pricer);
    assert_eq!(repriced.steps[0].new_usd, solver.cost_usd());
    assert_eq!(repriced.new.usd, repriced.old.usd);
}

/// One run of `config` on "What is 2+2?" through `llm`, priced by `pricer` and held by `gate`.
fn priced_run(
    config: &PipelineConfig,
    llm: &ScriptedLlm,
    pricer: &Pricer,
    gate: &dyn CallGate,
) -> RunOutcome {
    priced_run_at(config, llm, pricer, gate, 1_772_366_400_000.0)
}

/// [`priced_run`] on a clock starting at `start_ms`.
fn priced_run_at(
    config: &PipelineConfig,
    llm: &ScriptedLlm,
    pricer: &Pricer,
    gate: &dyn CallGate,
    start_ms: f64,
) -> RunOutcome {
    let clock = ManualClock::starting_at(start_ms);
    let sink = MemorySink::new();
    let input = RunInput {
        run_id: "run_20260301_120000_0badf00d".into(),
        problem: "What is 2+2?".into(),
        ground_truth: None,
    };
    block_on(
        Pipeline::new(config, llm, &clock, &sink)
            .with_pricer(pricer)
            .with_gate(gate)
            .run(&input),
    )
}
