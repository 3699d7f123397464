//! The Costs page's numbers (core::cost_views) over hand-made runs and steps, priced with the
//! LiteLLM sample table (tests/fixtures/pricing). Every expected figure is worked out by hand
//! from the fixture's per-token rates; the arithmetic is in the comment beside it.

use std::rc::Rc;

use serde_json::{json, Value};
use trialogue::core::budget::BudgetLevel;
use trialogue::core::config::PipelineConfig;
use trialogue::core::cost::{attempt_ledger, reprice};
use trialogue::core::cost_views::{
    costs_by_round, reprice_by_model, run_budget_status, run_time_ms, split_by_agent_and_model,
    AttemptTax, CostOverview, CostState, ReuseSplit, StepCost, UNKNOWN_MODEL,
};
use trialogue::core::pricing::{PriceOverrides, PriceSource, Pricer, PricingTable, RateOverride};
use trialogue::core::trajectory::{RunRecord, TrajectoryEntry};

const EXPECTED: &str = include_str!("../fixtures/pricing/expected_pricing.json");

fn pricer() -> Pricer {
    let table = PricingTable::from_json(EXPECTED).expect("the pricing fixture parses");
    Pricer::new(Some(Rc::new(table)), PriceOverrides::new())
}

fn close(actual: f64, expected: f64) {
    assert!(
        (actual - expected).abs() < 1e-12,
        "got {actual}, expected {expected}"
    );
}

fn usage(input: u64, cache_read: u64, output: u64) -> Value {
    json!({
        "input_tokens": input, "output_tokens": output, "total_tokens": input + output,
        "cache_read_tokens": cache_read,
    })
}

/// A step in Trialogue's shape; `metadata` extras are merged in.
fn step(step_id: u64, agent: &str, iteration: Option<u32>, metadata: Value) -> TrajectoryEntry {
    let mut meta = json!({});
    if let Some(i) = iteration {
        meta["iteration"] = json!(i);
    }
    for (k, v) in metadata.as_object().expect("metadata is an object") {
        meta[k] = v.clone();
    }
    serde_json::from_value(json!({
        "timestamp": "2025-01-01T12:00:00.000000+00:00", "run_id": "run_20250101_120000_aaaa1111",
        "step_id": step_id, "agent": agent, "action": "generate",
        "input": {}, "output": {}, "metadata": meta,
    }))
    .expect("a well-formed step")
}

fn attempt(n: u32, kind: &str, usage: Option<Value>) -> Value {
    json!({"attempt": n, "kind": kind, "usage": usage, "error": null, "latency_ms": 10.0})
}

// ---------------------------------------------------------------------------------------------
// Re-pricing from step facts

/// Steps that exercise every pricing path: per-request tiers, cached input, an unknown model,
/// requests that do not add up, and a step without usage.
fn mixed_steps() -> Vec<TrajectoryEntry> {
    vec![
        // Two 150k-token Gemini requests: priced one by one, neither crosses the 200k tier.
        step(
            1,
            "solver",
            Some(1),
            json!({
                "model": "gemini/gemini-2.5-pro", "provider": "gemini",
                "usage": usage(300_000, 0, 2_000), "cost_usd": 0.395,
                "attempts": [attempt(1, "initial", Some(usage(150_000, 0, 1_000))),
                             attempt(2, "reask", Some(usage(150_000, 0, 1_000)))],
            }),
        ),
        // gpt-4o with a cache hit, stored at an older price.
        step(
            2,
            "verifier",
            Some(1),
            json!({
                "model": "openai/gpt-4o", "provider": "openai",
                "usage": usage(1_000, 400, 200), "cost_usd": 0.003,
            }),
        ),
        // A model nobody prices.
        step(
            3,
            "judge",
            None,
            json!({
                "model": "mystery/model-x", "provider": "mystery",
                "usage": usage(100, 0, 50), "cost_usd": null,
            }),
        ),
        // Requests whose usages do not add up to the step's: the step's usage is priced as
        // one request.
        step(
            4,
            "solver",
            Some(2),
            json!({
                "model": "gpt-4.1-mini", "provider": "openai",
                "usage": usage(2_000, 0, 500), "cost_usd": 0.0016, "usage_complete": false,
                "attempts": [attempt(1, "retry", None),
                             attempt(2, "initial", Some(usage(1_500, 0, 400)))],
            }),
        ),
        // The original's step without a model or tokens.
        step(5, "verifier", Some(2), json!({})),
    ]
}

#[test]
fn step_facts_reprice_exactly_as_core_reprices_whole_steps() {
    let entries = mixed_steps();
    let mut p = pricer();
    let check = |p: &Pricer| {
        let whole = reprice(&entries, p);
        for (entry, repriced) in entries.iter().zip(&whole.steps) {
            assert_eq!(
                StepCost::of(entry).reprice(p),
                repriced.new_usd,
                "step {}",
                entry.step_id
            );
        }
    };
    check(&p);
    p.overrides_mut()
        .insert("mystery/model-x", RateOverride::new(1.0, 2.0))
        .unwrap();
    check(&p);

    let facts: Vec<StepCost> = entries.iter().map(StepCost::of).collect();
    let p = pricer();
    // Each request: 150,000 × 1.25e-6 = 0.1875 + 1,000 × 1e-5 = 0.01 → 0.1975; two → 0.395
    // (as one 300k prompt it would be the tier's 0.75 + 0.03 = 0.78).
    close(facts[0].reprice(&p).unwrap(), 0.395);
    // 600 uncached × 2.5e-6 = 0.0015, 400 cached × 1.25e-6 = 0.0005, 200 × 1e-5 = 0.002.
    close(facts[1].reprice(&p).unwrap(), 0.004);
    assert_eq!(facts[2].reprice(&p), None, "unknown, never 0");
    // 2,000 × 4e-7 = 0.0008 + 500 × 1.6e-6 = 0.0008.
    close(facts[3].reprice(&p).unwrap(), 0.0016);
    assert!(
        facts[3].requests.is_empty(),
        "requests that do not add up are not kept"
    );
    assert_eq!(facts[4].reprice(&p), None);
    assert_eq!(facts[4].model_name(), UNKNOWN_MODEL);
}

#[test]
fn repricing_by_model_shows_stored_and_new_side_by_side() {
    let facts: Vec<StepCost> = mixed_steps().iter().map(StepCost::of).collect();
    let before = reprice_by_model(&facts, &pricer());
    // Stored: 0.395 + 0.003 + 0.0016 = 0.3996; the mystery step used tokens without a cost.
    close(before.stored.usd(), 0.3996);
    assert_eq!(before.stored.unpriced_steps, 1);
    // New: 0.395 + 0.004 + 0.0016 = 0.4006.
    close(before.repriced.usd(), 0.4006);
    assert_eq!(before.repriced.unpriced_steps, 1);
    assert_eq!(before.changed_steps, 1, "only gpt-4o's price moved");
    let models: Vec<&str> = before.by_model.iter().map(|m| m.model.as_str()).collect();
    assert_eq!(
        models,
        [
            "gemini/gemini-2.5-pro",
            "gpt-4.1-mini",
            "mystery/model-x",
            "openai/gpt-4o",
            UNKNOWN_MODEL
        ]
    );
    let mystery = &before.by_model[2];
    assert_eq!((mystery.steps, mystery.usage.total_tokens), (1, 150));
    assert_eq!(mystery.source, None);
    assert_eq!(
        before.by_model[3].source,
        Some(PriceSource::table("gpt-4o"))
    );

    // With the user's price for the mystery model: 100 × 1e-6 + 50 × 2e-6 = 0.0002.
    let mut p = pricer();
    p.overrides_mut()
        .insert("mystery/model-x", RateOverride::new(1.0, 2.0))
        .unwrap();
    let after = reprice_by_model(&facts, &p);
    close(after.by_model[2].repriced.usd(), 0.0002);
    assert_eq!(after.repriced.unpriced_steps, 0);
    close(after.repriced.usd(), 0.4008);
    assert_eq!(after.changed_steps, 2);
    assert_eq!(
        after.by_model[2].source,
        Some(PriceSource::Override {
            key: "mystery/model-x".into()
        })
    );
    // The stored side never changes.
    close(after.stored.usd(), 0.3996);
}

#[test]
fn splits_by_agent_and_model_count_unknown_prices_apart() {
    let facts: Vec<StepCost> = mixed_steps().iter().map(StepCost::of).collect();
    let split = split_by_agent_and_model(&facts);
    let solver = &split.by_agent()["solver"];
    // 0.395 + 0.0016; the second solver step reported incomplete usage.
    close(solver.cost_usd(), 0.3966);
    assert_eq!((solver.calls, solver.incomplete_usage_calls), (2, 1));
    let judge = &split.by_agent()["judge"];
    assert_eq!((judge.calls, judge.unpriced_calls), (1, 1));
    close(judge.cost_usd(), 0.0);
    assert!(!judge.is_complete());
    let mystery = &split.by_model()["mystery/model-x"];
    assert_eq!(mystery.unpriced_calls, 1);
    // The step without a model or tokens is neither priced nor unpriced.
    assert_eq!(split.by_model()[UNKNOWN_MODEL].unpriced_calls, 0);
    close(split.total().cost_usd(), 0.3996);
    assert_eq!(
        split.total().usage.total_tokens,
        302_000 + 1_200 + 150 + 2_500
    );
}

// ---------------------------------------------------------------------------------------------
// A run: rounds, re-ask tax, budget

#[test]
fn a_run_reads_by_round_and_agent_with_its_reask_tax() {
    let gpt = |u: Value, cost: f64, attempts: Value| json!({"model": "gpt-4o", "provider": "openai", "usage": u, "cost_usd": cost, "attempts": attempts});
    let entries = vec![
        // Solver round 1: a first try of 1,000 in / 100 out, then a re-ask of 1,200 / 100.
        step(
            1,
            "solver",
            Some(1),
            gpt(
                usage(2_200, 0, 200),
                0.0075,
                json!([
                    attempt(1, "initial", Some(usage(1_000, 0, 100))),
                    attempt(2, "reask", Some(usage(1_200, 0, 100)))
                ]),
            ),
        ),
        step(
            2,
            "verifier",
            Some(1),
            gpt(
                usage(400, 0, 50),
                0.0015,
                json!([attempt(1, "initial", Some(usage(400, 0, 50)))]),
            ),
        ),
        // A judge step written before the rounds it follows: order comes from the rounds.
        step(
            5,
            "judge",
            None,
            gpt(
                usage(800, 0, 40),
                0.0024,
                json!([
                    attempt(1, "retry", None),
                    attempt(2, "initial", Some(usage(800, 0, 40)))
                ]),
            ),
        ),
        step(
            4,
            "verifier",
            Some(2),
            gpt(
                usage(400, 0, 50),
                0.0015,
                json!([attempt(1, "initial", Some(usage(400, 0, 50)))]),
            ),
        ),
        step(
            3,
            "solver",
            Some(2),
            gpt(
                usage(1_000, 0, 100),
                0.0035,
                json!([attempt(1, "initial", Some(usage(1_000, 0, 100)))]),
            ),
        ),
    ];
    let facts: Vec<StepCost> = entries.iter().map(StepCost::of).collect();
    let rounds = costs_by_round(&facts);
    let labels: Vec<&str> = rounds.iter().map(|r| r.label.as_str()).collect();
    assert_eq!(labels, ["Round 1", "Round 2", "Judge"]);
    let agents: Vec<&str> = rounds[1].agents.iter().map(|a| a.agent.as_str()).collect();
    assert_eq!(agents, ["solver", "verifier"], "role order, not step order");
    close(rounds[0].usd(), 0.009); // 0.0075 + 0.0015
    close(rounds[1].agent("solver").unwrap().usd(), 0.0035);
    assert_eq!(rounds[0].agent("solver").unwrap().usage.input_tokens, 2_200);
    close(rounds[2].usd(), 0.0024);

    let tax = AttemptTax::of(&attempt_ledger(&entries, &pricer()));
    // First tries: 1,000/100 twice → 2 × (0.0025 + 0.001) = 0.007; 400/50 twice →
    // 2 × (0.001 + 0.0005) = 0.003; judge 800/40 → 0.002 + 0.0004 = 0.0024. Sum 0.0124.
    assert_eq!(tax.first_tries.requests, 5);
    close(tax.first_tries.usd(), 0.0124);
    // The re-ask: 1,200 × 2.5e-6 = 0.003 + 100 × 1e-5 = 0.001.
    assert_eq!(tax.reasks.requests, 1);
    close(tax.reasks.usd(), 0.004);
    // The retry failed without usage: counted, free, not unpriced.
    assert_eq!((tax.retries.requests, tax.retries.unpriced), (1, 0));
    close(tax.tax_usd(), 0.004);
    close(tax.tax_fraction().unwrap(), 0.004 / 0.0124);
    assert_eq!(tax.unsplit.requests, 0);
}

#[test]
fn original_steps_without_requests_stay_unsplit() {
    let entries = vec![step(
        1,
        "solver",
        Some(1),
        json!({"model": "gpt-4o", "tokens": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}}),
    )];
    let tax = AttemptTax::of(&attempt_ledger(&entries, &pricer()));
    assert_eq!(tax.unsplit.requests, 1);
    // 10 × 2.5e-6 + 5 × 1e-5 = 0.000075.
    close(tax.unsplit.usd(), 0.000075);
    assert_eq!(tax.tax_fraction(), None, "no first try to compare with");
}

fn record(
    id: &str,
    cost: Option<f64>,
    complete: bool,
    tokens: u64,
    correct: Option<bool>,
) -> RunRecord {
    let mut r = RunRecord::from_entries(id, &[], 0.0);
    r.cost_usd = cost;
    r.cost_complete = complete;
    r.usage.input_tokens = tokens;
    r.usage.total_tokens = tokens;
    r.correct = correct;
    r.step_count = 3;
    r
}

#[test]
fn a_budget_is_read_from_the_runs_config() {
    let mut r = record("run_20250101_100000_aaaa1111", Some(0.85), true, 10, None);
    assert_eq!(run_budget_status(&r), None, "no config, no budget");
    let mut config = PipelineConfig {
        run_budget_usd: Some(1.0),
        ..PipelineConfig::default()
    };
    r.config = Some(config.clone());
    let s = run_budget_status(&r).unwrap();
    assert_eq!(s.level, BudgetLevel::Warning);
    close(s.fraction, 0.85);
    assert!(s.exact);
    r.cost_usd = Some(0.5);
    r.cost_complete = false;
    let s = run_budget_status(&r).unwrap();
    assert_eq!((s.level, s.exact), (BudgetLevel::Normal, false));
    config.run_budget_usd = None;
    r.config = Some(config);
    assert_eq!(run_budget_status(&r), None);
}

// ---------------------------------------------------------------------------------------------
// The overview from records alone

fn four_runs() -> Vec<RunRecord> {
    vec![
        // Listed out of time order on purpose.
        record("run_20250102_090000_bbbb2222", None, false, 300, Some(true)),
        record(
            "run_20250101_100000_aaaa1111",
            Some(0.5),
            true,
            1_000,
            Some(true),
        ),
        record("run_20250103_090000_bbbb2222", None, true, 0, None),
        record(
            "run_20250101_120000_aaaa1111",
            Some(0.25),
            false,
            500,
            Some(false),
        ),
    ]
}

#[test]
fn costs_of_records_are_known_partial_or_unknown() {
    let runs = four_runs();
    let states: Vec<CostState> = runs.iter().map(CostState::of).collect();
    assert_eq!(
        states,
        [
            CostState::Unknown,
            CostState::Exact,
            CostState::Exact,
            CostState::AtLeast
        ]
    );
    let o = CostOverview::of(&runs, 100);
    assert_eq!(o.total.runs, 4);
    assert_eq!(o.total.steps, 12);
    close(o.total.usd(), 0.75);
    assert_eq!(
        (
            o.total.exact_runs,
            o.total.partial_runs,
            o.total.unknown_runs
        ),
        (2, 1, 1)
    );
    assert!(!o.total.is_exact());
    assert_eq!(o.total.usage.input_tokens, 1_800);
    assert_eq!(o.unknown_run_ids, ["run_20250102_090000_bbbb2222"]);

    // Graded: the first three by time; $0.75 over 2 correct answers.
    assert_eq!(o.per_correct.graded.runs, 3);
    assert_eq!(o.per_correct.correct_runs, 2);
    close(o.per_correct.usd_per_correct().unwrap(), 0.375);
    assert!(!o.per_correct.graded.is_exact());

    let hashes: Vec<&str> = o.by_config.iter().map(|c| c.config_hash.as_str()).collect();
    assert_eq!(hashes, ["aaaa1111", "bbbb2222"], "most expensive first");
    let b = &o.by_config[1];
    assert_eq!(
        (
            b.spend.runs,
            b.spend.unknown_runs,
            b.graded_runs,
            b.correct_runs
        ),
        (2, 1, 1, 1)
    );
    close(b.spend.usd(), 0.0);
}

#[test]
fn spend_over_time_is_cumulative_by_run_or_by_day() {
    let runs = four_runs();
    let o = CostOverview::of(&runs, 100);
    assert!(!o.over_time.points_are_days);
    assert!(!o.over_time.unknown_are_steps);
    let line: Vec<(&str, f64, u64)> = o
        .over_time
        .points
        .iter()
        .map(|p| (p.label.as_str(), p.cumulative_usd, p.unknown))
        .collect();
    assert_eq!(
        line,
        [
            ("run_20250101_100000_aaaa1111", 0.5, 0),
            ("run_20250101_120000_aaaa1111", 0.75, 0),
            ("run_20250102_090000_bbbb2222", 0.75, 1),
            ("run_20250103_090000_bbbb2222", 0.75, 1),
        ]
    );
    // Imported runs (no config) are placed by their id: 2025-01-01T10:00:00Z.
    assert_eq!(o.over_time.points[0].time_ms, 1_735_725_600_000.0);

    // Over two points: one per day, then every second day keeping the last.
    let o = CostOverview::of(&runs, 3);
    assert!(o.over_time.points_are_days);
    let days: Vec<(&str, f64)> = o
        .over_time
        .points
        .iter()
        .map(|p| (p.label.as_str(), p.cumulative_usd))
        .collect();
    assert_eq!(
        days,
        [
            ("2025-01-01", 0.75),
            ("2025-01-02", 0.75),
            ("2025-01-03", 0.75)
        ]
    );
    // The day's point sits at its last run: 2025-01-01T12:00:00Z.
    assert_eq!(o.over_time.points[0].time_ms, 1_735_732_800_000.0);
    let o = CostOverview::of(&runs, 2);
    let days: Vec<&str> = o
        .over_time
        .points
        .iter()
        .map(|p| p.label.as_str())
        .collect();
    assert_eq!(days, ["2025-01-01", "2025-01-03"]);
}

#[test]
fn runs_made_here_are_placed_by_their_creation_time() {
    let mut r = record("run_20250101_100000_aaaa1111", Some(0.1), true, 1, None);
    r.created_ms = 42.0;
    assert_eq!(
        run_time_ms(&r),
        1_735_725_600_000.0,
        "imported: the id's time"
    );
    r.config = Some(PipelineConfig::default());
    assert_eq!(run_time_ms(&r), 42.0);
    let odd = record("my-own-run", Some(0.1), true, 1, None);
    assert_eq!(run_time_ms(&odd), 0.0, "no time in the id: the stored one");
}

#[test]
fn no_correct_answer_means_no_cost_per_correct_answer() {
    let runs = vec![
        record(
            "run_20250101_100000_aaaa1111",
            Some(0.5),
            true,
            10,
            Some(false),
        ),
        record("run_20250101_110000_aaaa1111", None, false, 10, Some(true)),
    ];
    let o = CostOverview::of(&runs[..1], 10);
    assert_eq!(o.per_correct.usd_per_correct(), None);
    // One correct answer, but the only run with a known cost got it wrong: $0.50 per correct
    // answer, at least.
    let o = CostOverview::of(&runs, 10);
    close(o.per_correct.usd_per_correct().unwrap(), 0.5);
    let o = CostOverview::of(&runs[1..], 10);
    assert_eq!(
        o.per_correct.usd_per_correct(),
        None,
        "no known cost at all"
    );
    assert_eq!(CostOverview::of(&[], 10).over_time.points, []);
}

#[test]
fn reused_steps_stay_free_when_repriced_and_are_valued_apart_from_paid_ones() {
    // gpt-4o: 1,000 × 2.5e-6 = 0.0025 + 100 × 1e-5 = 0.001 → 0.0035 had it been paid.
    let paid = step(
        1,
        "solver",
        Some(1),
        json!({"model": "gpt-4o", "usage": usage(1000, 0, 100), "cost_usd": 0.0035}),
    );
    let reused = step(
        2,
        "solver",
        Some(1),
        json!({"model": "gpt-4o", "usage": usage(1000, 0, 100), "cost_usd": 0.0,
               "reused_from": "run_20250101_110000_bbbb2222"}),
    );
    let facts: Vec<StepCost> = [paid, reused].iter().map(StepCost::of).collect();
    let p = pricer();
    assert!(facts[1].reused && !facts[0].reused);
    close(facts[0].reprice(&p).unwrap(), 0.0035);
    assert_eq!(facts[1].reprice(&p), Some(0.0), "another run paid for it");
    close(facts[1].value(&p).unwrap(), 0.0035);

    let split = ReuseSplit::of(&facts, &p);
    assert_eq!((split.paid_steps, split.reused_steps), (1, 1));
    close(split.paid.usd(), 0.0035);
    close(split.reused_value.usd(), 0.0035);
}
