//! Cost roll-ups (core::cost_rollup): kept step by step, they equal the roll-up built from all
//! steps, a deleted run's steps are taken away exactly, and their totals equal what the Costs
//! page computes today from every step (core::cost_views).

use std::rc::Rc;

use serde_json::{json, Value};
use trialogue::core::cost_rollup::{nanos_of, usd_of, CostRollup, RollupStep};
use trialogue::core::cost_views::{split_by_agent_and_model, ReuseSplit, StepCost};
use trialogue::core::pricing::{PriceOverrides, Pricer, PricingTable};
use trialogue::core::trajectory::TrajectoryEntry;

const EXPECTED: &str = include_str!("../fixtures/pricing/expected_pricing.json");

fn pricer() -> Pricer {
    let table = PricingTable::from_json(EXPECTED).expect("the pricing fixture parses");
    Pricer::new(Some(Rc::new(table)), PriceOverrides::new())
}

fn usage(input: u64, cache_read: u64, output: u64) -> Value {
    json!({
        "input_tokens": input, "output_tokens": output, "total_tokens": input + output,
        "cache_read_tokens": cache_read,
    })
}

/// A step of run `run` at `timestamp`; `metadata` extras are merged in.
fn step(run: &str, step_id: u64, agent: &str, timestamp: &str, metadata: Value) -> TrajectoryEntry {
    serde_json::from_value(json!({
        "timestamp": timestamp, "run_id": run,
        "step_id": step_id, "agent": agent, "action": "generate",
        "input": {}, "output": {}, "metadata": metadata,
    }))
    .expect("a well-formed step")
}

const RUN_A: &str = "run_20250101_120000_aaaa1111";
const RUN_B: &str = "run_20250102_090000_bbbb2222";
const RUN_C: &str = "run_20250102_100000_cccc3333";

/// Three runs over two days: paid steps whose costs do not add up exactly as floats (0.1 +
/// 0.2), a reused reply, a fork's carried step, an unknown model, a step with incomplete usage
/// and one with a possibly billed request.
fn steps() -> Vec<TrajectoryEntry> {
    let day1 = "2025-01-01T12:00:00.000000+00:00";
    let day2 = "2025-01-02T09:00:00.000000+00:00";
    vec![
        step(
            RUN_A,
            1,
            "solver",
            day1,
            json!({"model": "gpt-4o", "provider": "openai",
            "usage": usage(1000, 0, 100), "cost_usd": 0.1}),
        ),
        step(
            RUN_A,
            2,
            "verifier",
            day1,
            json!({"model": "gpt-4o", "provider": "openai",
            "usage": usage(2000, 500, 50), "cost_usd": 0.2}),
        ),
        step(
            RUN_A,
            3,
            "judge",
            day1,
            json!({"model": "mystery-model", "provider": "openai",
            "usage": usage(300, 0, 30)}),
        ),
        step(
            RUN_B,
            1,
            "solver",
            day2,
            json!({"model": "gpt-4o", "provider": "openai",
            "usage": usage(1000, 0, 100), "cost_usd": 0.0,
            "reused_from": RUN_A}),
        ),
        step(
            RUN_B,
            2,
            "verifier",
            day2,
            json!({"model": "gpt-4o", "provider": "openai",
            "usage": usage(2000, 0, 70), "cost_usd": 0.3, "usage_complete": false,
            "possibly_billed_usd": 0.07}),
        ),
        step(
            RUN_C,
            1,
            "solver",
            day2,
            json!({"model": "gpt-4o", "provider": "openai",
            "usage": usage(1000, 0, 100), "cost_usd": 0.1,
            "forked_from": {"run_id": RUN_A, "step_id": 1}}),
        ),
        step(
            RUN_C,
            2,
            "verifier",
            day2,
            json!({"model": "gpt-4o-mini", "provider": "openai",
            "usage": usage(4000, 0, 400), "cost_usd": 0.00084}),
        ),
    ]
}

fn rolled(entries: &[TrajectoryEntry]) -> Vec<RollupStep> {
    entries
        .iter()
        .flat_map(|e| RollupStep::split(&StepCost::of(e), e.possibly_billed_usd()))
        .collect()
}

#[test]
fn adding_steps_one_by_one_equals_building_from_all_in_any_order() {
    let all = rolled(&steps());
    let built = CostRollup::of(&all);

    let mut kept = CostRollup::new();
    for s in all.iter().rev() {
        kept.add(s);
    }
    assert_eq!(kept, built);

    // Stored and read back cell by cell, it is the same roll-up.
    let stored: Vec<_> = built.cells().map(|(k, c)| (k.clone(), *c)).collect();
    assert_eq!(CostRollup::from_cells(stored), built);
    // As JSON text, the way IndexedDB keeps them: flat token fields, exact amounts.
    let as_text: Vec<(String, String)> = built
        .cells()
        .map(|(k, c)| {
            (
                serde_json::to_string(k).unwrap(),
                serde_json::to_string(c).unwrap(),
            )
        })
        .collect();
    assert!(
        as_text[0].1.contains(r#""input_tokens":"#),
        "{}",
        as_text[0].1
    );
    let read: Vec<_> = as_text
        .iter()
        .map(|(k, c)| {
            (
                serde_json::from_str(k).unwrap(),
                serde_json::from_str(c).unwrap(),
            )
        })
        .collect();
    assert_eq!(CostRollup::from_cells(read), built);
    assert!(
        built.len() >= 5,
        "days, agents, models and reuse each make a cell"
    );
}

#[test]
fn deleting_a_run_subtracts_exactly() {
    let entries = steps();
    let all = rolled(&entries);
    let mut rollup = CostRollup::of(&all);
    for s in all.iter().filter(|s| s.key.day == "2025-01-01") {
        rollup.subtract(s);
    }
    let others: Vec<TrajectoryEntry> = entries.into_iter().filter(|e| e.run_id != RUN_A).collect();
    let rebuilt = CostRollup::of(&rolled(&others));
    assert_eq!(
        rollup, rebuilt,
        "integer sums: no float residue after removal"
    );
    assert!(
        rollup.cells().all(|(k, _)| k.day != "2025-01-01"),
        "emptied cells are dropped"
    );

    // Every run deleted leaves nothing, not a cell of rounding dust.
    for s in rolled(&others) {
        rollup.subtract(&s);
    }
    assert!(rollup.is_empty());
}

#[test]
fn totals_equal_the_cost_pages_split_of_every_step() {
    let entries = steps();
    let facts: Vec<StepCost> = entries.iter().map(StepCost::of).collect();
    let today = split_by_agent_and_model(&facts).summary();
    let rollup = CostRollup::of(&rolled(&entries)).summary();

    let same = |a: &trialogue::core::cost::BucketSummary,
                b: &trialogue::core::cost::BucketSummary| {
        assert_eq!(
            (
                a.calls,
                a.unpriced_calls,
                a.incomplete_usage_calls,
                a.usage,
                a.complete
            ),
            (
                b.calls,
                b.unpriced_calls,
                b.incomplete_usage_calls,
                b.usage,
                b.complete
            )
        );
        assert!(
            (a.cost_usd - b.cost_usd).abs() < 1e-9,
            "{} vs {}",
            a.cost_usd,
            b.cost_usd
        );
    };
    same(&rollup.total, &today.total);
    assert_eq!(
        rollup.by_model.keys().collect::<Vec<_>>(),
        today.by_model.keys().collect::<Vec<_>>()
    );
    assert_eq!(
        rollup.by_agent.keys().collect::<Vec<_>>(),
        today.by_agent.keys().collect::<Vec<_>>()
    );
    for (k, b) in &today.by_model {
        same(&rollup.by_model[k], b);
    }
    for (k, b) in &today.by_agent {
        same(&rollup.by_agent[k], b);
    }
    // 0.1 + 0.2 + 0.3 + 0.00084 paid; the carried step's 0.1 and the reused reply count $0.
    assert_eq!(nanos_of(rollup.total.cost_usd), 600_840_000);
    assert_eq!(rollup.total.unpriced_calls, 1, "the unknown model's judge");
    assert_eq!(rollup.total.incomplete_usage_calls, 1);
}

#[test]
fn carried_and_reused_steps_count_zero_and_are_valued_apart() {
    let p = pricer();
    let entries = steps();
    let facts: Vec<StepCost> = entries.iter().map(StepCost::of).collect();
    let today = ReuseSplit::of(&facts, &p);
    let rollup = CostRollup::of(&rolled(&entries));
    let split = rollup.reuse_split();

    assert_eq!(split.reused.steps, today.reused_steps);
    assert_eq!(split.paid.steps, today.paid_steps);
    assert_eq!(
        split.reused.steps, 2,
        "the reused reply and the fork's carried step"
    );
    assert_eq!(split.reused.cost_nanos, 0, "another run paid for both");
    assert!((usd_of(split.paid.cost_nanos) - today.paid.usd()).abs() < 1e-9);
    assert_eq!(split.paid.unpriced_steps, today.paid.unpriced_steps);
    // gpt-4o: 1,000 × 2.5e-6 + 100 × 1e-5 = 0.0035 each, had they been paid.
    let value = rollup.reused_value(&p);
    assert!((value.usd() - today.reused_value.usd()).abs() < 1e-12);
    assert!((value.usd() - 0.007).abs() < 1e-12);
    assert_eq!(value.unpriced_steps, today.reused_value.unpriced_steps);
    assert_eq!(split.paid.possibly_billed_nanos, 70_000_000);
}

#[test]
fn days_add_up_to_the_total() {
    let rollup = CostRollup::of(&rolled(&steps()));
    let days = rollup.by_day();
    assert_eq!(
        days.iter().map(|(d, _)| d.as_str()).collect::<Vec<_>>(),
        ["2025-01-01", "2025-01-02"]
    );
    let sum: i64 = days.iter().map(|(_, c)| c.cost_nanos).sum();
    assert_eq!(sum, rollup.total_where(|_| true).cost_nanos);
    assert_eq!(days[0].1.steps, 3);
}

#[test]
fn the_spend_line_from_the_cells_is_cumulative_by_day_and_ends_at_the_total() {
    let rollup = CostRollup::of(&rolled(&steps()));
    let line = rollup.spend_line(10);
    assert!(line.points_are_days);
    assert!(line.unknown_are_steps, "the cells count steps, not runs");
    let points: Vec<(&str, f64, u64)> = line
        .points
        .iter()
        .map(|p| (p.label.as_str(), p.time_ms, p.unknown))
        .collect();
    // Day 1: the judge's mystery model is a step at an unknown price; day 2 adds none.
    assert_eq!(
        points,
        [
            ("2025-01-01", 1_735_732_800_000.0, 1),
            ("2025-01-02", 1_735_819_200_000.0, 1)
        ]
    );
    assert!((line.points[0].cumulative_usd - 0.3).abs() < 1e-12);
    let total = usd_of(rollup.total_where(|_| true).cost_nanos);
    assert_eq!(
        line.points[1].cumulative_usd, total,
        "exact, from whole nano-dollars"
    );
    // Past `max_points` days, every n-th, keeping the last.
    let thinned = rollup.spend_line(1);
    assert_eq!(thinned.points.len(), 1);
    assert_eq!(thinned.points[0].label, "2025-01-02");
    assert_eq!(CostRollup::new().spend_line(10).points, []);
}

/// Gemini 2.0 Flash with batch rates at half the live ones (LiteLLM's `*_batches` fields).
fn batch_pricer() -> Pricer {
    let table = PricingTable::from_litellm_json(
        &json!({"gemini/gemini-2.0-flash": {"litellm_provider": "gemini", "mode": "chat",
            "input_cost_per_token": 1e-6, "output_cost_per_token": 2e-6,
            "input_cost_per_token_batches": 5e-7, "output_cost_per_token_batches": 1e-6}})
        .to_string(),
    )
    .expect("a price table");
    Pricer::new(Some(Rc::new(table)), PriceOverrides::new())
}

/// One request of a step, as `metadata.attempts[]` records it.
fn attempt(n: u32, kind: &str, used: Option<Value>, via: &str) -> Value {
    let mut a = json!({"attempt": n, "kind": kind, "usage": used, "error": null,
        "latency_ms": 10.0});
    if via != "live" {
        a["sent_via"] = json!(via);
    }
    a
}

/// A run of provider batch mode: a solver answered by the batch, a verifier whose batched
/// request expired and was finished live, a judge whose batched reply was re-asked live; and
/// another run's reply reused from a batched one.
fn batch_steps() -> Vec<TrajectoryEntry> {
    let day = "2025-03-01T10:00:00.000000+00:00";
    let batched = |u: Value| attempt(1, "initial", Some(u), "provider_batch");
    let rows = [
        (
            RUN_A,
            1,
            "solver",
            usage(100, 0, 50),
            vec![batched(usage(100, 0, 50))],
            json!({"cost_usd": 1e-4}),
        ),
        (
            RUN_A,
            2,
            "verifier",
            usage(200, 0, 20),
            vec![
                attempt(1, "initial", None, "live"),
                attempt(2, "retry", Some(usage(200, 0, 20)), "live"),
            ],
            json!({"cost_usd": 2.4e-4}),
        ),
        (
            RUN_A,
            3,
            "judge",
            usage(700, 0, 70),
            vec![
                batched(usage(300, 0, 30)),
                attempt(2, "reask", Some(usage(400, 0, 40)), "live"),
            ],
            json!({"cost_usd": 6.6e-4}),
        ),
        (
            RUN_B,
            1,
            "solver",
            usage(100, 0, 50),
            vec![batched(usage(100, 0, 50))],
            json!({"cost_usd": 0.0, "reused_from": RUN_A}),
        ),
    ];
    rows.into_iter()
        .map(|(run, step_id, agent, used, attempts, extra)| {
            let mut m = json!({"model": "gemini-2.0-flash", "provider": "gemini",
                "usage": used, "attempts": attempts});
            for (k, v) in extra.as_object().cloned().unwrap_or_default() {
                m[k] = v;
            }
            step(run, step_id, agent, day, m)
        })
        .collect()
}

#[test]
fn batch_steps_repriced_from_the_rollups_equal_repricing_from_the_steps() {
    use trialogue::core::cost_views::reprice_by_model;
    let p = batch_pricer();
    let entries = batch_steps();
    let facts: Vec<StepCost> = entries.iter().map(StepCost::of).collect();
    // By hand: solver 100 × 5e-7 + 50 × 1e-6 at the batch rates; verifier 200 × 1e-6 + 20 ×
    // 2e-6 live; judge 300 × 5e-7 + 30 × 1e-6 batched and 400 × 1e-6 + 40 × 2e-6 live.
    let expected = 1e-4 + 2.4e-4 + (1.8e-4 + 4.8e-4);
    let from_steps = reprice_by_model(&facts, &p);
    assert!(
        (from_steps.repriced.usd() - expected).abs() < 1e-15,
        "re-priced from the steps: {}",
        from_steps.repriced.usd()
    );
    assert_eq!(from_steps.changed_steps, 0, "the stored costs were right");
    // What reusing the batched reply saved: what its run would have paid, at the batch rate.
    let today = ReuseSplit::of(&facts, &p);
    assert!((today.reused_value.usd() - 1e-4).abs() < 1e-15);

    let rollup = CostRollup::of(&rolled(&entries));
    let repriced = rollup.repriced(&p);
    assert!(
        (repriced.usd() - expected).abs() < 1e-15,
        "re-priced from the roll-ups: {}",
        repriced.usd()
    );
    assert_eq!(repriced.unpriced_steps, 0);
    let value = rollup.reused_value(&p);
    assert!((value.usd() - today.reused_value.usd()).abs() < 1e-15);
    // Three paid steps and the reused one, however the judge's requests are split.
    assert_eq!(rollup.summary().total.calls, 4);
    assert_eq!(
        nanos_of(rollup.summary().total.cost_usd),
        nanos_of(1e-4 + 2.4e-4 + 6.6e-4)
    );
    // Taking the run away leaves only the reused reply's cell.
    let mut kept = rollup.clone();
    for s in &rolled(&entries[..3]) {
        kept.subtract(s);
    }
    assert_eq!(kept, CostRollup::of(&rolled(&entries[3..])));
}
