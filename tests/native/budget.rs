//! Randomized budget: calls of random size start and finish interleaved across several runs
//! sharing one budget (as a batch's runs do on the page's one thread), some runs dropped with
//! calls in flight, and each call's real cost random up to, and in the second property beyond,
//! what was reserved for it. The cap holds whenever calls cost no more than their documented
//! worst case ([`CallEstimate`]); when a provider bills more, the overshoot is never more than
//! that excess, and nothing priced starts once the limit is reached.

// proptest is a native-only dev-dependency; the wasm32 clippy pass builds this crate too.
#![cfg(not(target_arch = "wasm32"))]

use std::rc::Rc;

use proptest::prelude::*;
use proptest::test_runner::Config as ProptestConfig;

use trialogue::core::budget::{Budget, BudgetGate, CallEstimate};
use trialogue::core::llm::{AgentCall, Usage};
use trialogue::core::pipeline::CallGate;
use trialogue::core::pricing::{PriceOverrides, Pricer, RateOverride};
use trialogue::core::role::AgentRole;

/// One step of an interleaving.
#[derive(Debug, Clone)]
enum Op {
    /// Run `run` asks to start a call with a prompt of `prompt_bytes` and `max_tokens`.
    Start {
        run: usize,
        prompt_bytes: usize,
        max_tokens: u32,
    },
    /// The in-flight call picked by `pick` ends, having cost `per_mille`/1000 of its worst case.
    Finish { pick: usize, per_mille: u32 },
    /// Run `run` goes away (a tab closed, a cancelled item) with its calls in flight.
    Drop { run: usize },
}

fn ops(runs: usize, max_per_mille: u32) -> impl Strategy<Value = Vec<Op>> {
    let op = prop_oneof![
        4 => (0..runs, 0usize..20_000, 1u32..8_000).prop_map(|(run, prompt_bytes, max_tokens)| {
            Op::Start { run, prompt_bytes, max_tokens }
        }),
        4 => (any::<usize>(), 0..=max_per_mille).prop_map(|(pick, per_mille)| Op::Finish { pick, per_mille }),
        1 => (0..runs).prop_map(|run| Op::Drop { run }),
    ];
    proptest::collection::vec(op, 1..80)
}

/// A call to `model` with `prompt_bytes` of prompt and `max_tokens`.
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

/// Prices per million tokens for two models, one dearer on output.
fn pricer() -> Rc<Pricer> {
    let mut overrides = PriceOverrides::new();
    overrides
        .insert("openai/cheap", RateOverride::new(0.15, 0.6))
        .expect("a valid price");
    overrides
        .insert("openai/dear", RateOverride::new(2.5, 10.0))
        .expect("a valid price");
    Rc::new(Pricer::new(None, overrides))
}

/// What the interleaving did to the shared budget.
struct Outcome {
    /// Spent minus limit at its highest, after every step.
    worst_overshoot: f64,
    /// How much calls cost beyond their worst case, in all, by the highest point.
    excess_at_worst: f64,
    /// Priced calls let in while spent had reached the limit.
    started_when_spent: usize,
    /// Calls let in / refused.
    started: usize,
    refused: usize,
}

fn interleave(limit_usd: f64, runs: usize, max_reasks: u32, ops: &[Op]) -> Outcome {
    let pricer = pricer();
    let shared = Budget::new("batch", limit_usd)
        .expect("a valid limit")
        .shared();
    let gate = |_| {
        BudgetGate::new(pricer.clone())
            .with_estimate(CallEstimate {
                max_reasks,
                ..CallEstimate::default()
            })
            .with_budget(Rc::clone(&shared))
    };
    let mut gates: Vec<BudgetGate> = (0..runs).map(gate).collect();
    // Calls in flight: (run, call, worst case).
    let mut in_flight: Vec<(usize, AgentCall, f64)> = Vec::new();
    let mut excess = 0.0;
    let mut outcome = Outcome {
        worst_overshoot: f64::NEG_INFINITY,
        excess_at_worst: 0.0,
        started_when_spent: 0,
        started: 0,
        refused: 0,
    };
    for (n, op) in ops.iter().enumerate() {
        match *op {
            Op::Start {
                run,
                prompt_bytes,
                max_tokens,
            } => {
                let model = if n % 3 == 0 {
                    "openai/dear"
                } else {
                    "openai/cheap"
                };
                let call = call(model, prompt_bytes, max_tokens);
                let worst = gates[run]
                    .worst_case_usd(&call)
                    .expect("both models are priced");
                let spent_before = {
                    let b = shared.borrow();
                    b.spent_usd() + b.possibly_billed_usd()
                };
                if gates[run].before_call(&call).is_ok() {
                    outcome.started += 1;
                    if spent_before >= limit_usd {
                        outcome.started_when_spent += 1;
                    }
                    in_flight.push((run, call, worst));
                } else {
                    outcome.refused += 1;
                }
            }
            Op::Finish { pick, per_mille } => {
                if in_flight.is_empty() {
                    continue;
                }
                let (run, call, worst) = in_flight.remove(pick % in_flight.len());
                let cost = worst * f64::from(per_mille) / 1000.0;
                excess += (cost - worst).max(0.0);
                gates[run].after_call(&call, &Usage::default(), Some(cost));
            }
            Op::Drop { run } => {
                // Its calls count their worst case as possibly billed (they may have been).
                gates[run] = gate(run);
                in_flight.retain(|(r, _, _)| *r != run);
            }
        }
        let overshoot = {
            let b = shared.borrow();
            b.spent_usd() + b.possibly_billed_usd() - limit_usd
        };
        if overshoot > outcome.worst_overshoot {
            outcome.worst_overshoot = overshoot;
            outcome.excess_at_worst = excess;
        }
    }
    outcome
}

/// Rounding slack of sums of a few hundred prices.
const EPS: f64 = 1e-9;

fn cases(n: u32) -> ProptestConfig {
    ProptestConfig {
        cases: n,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(cases(300))]

    #[test]
    fn calls_within_their_worst_case_never_take_a_shared_budget_past_its_limit(
        limit_usd in 0.0f64..0.5, runs in 1usize..6, max_reasks in 0u32..3,
        ops in ops(6, 1000),
    ) {
        let ops: Vec<Op> = ops.into_iter().map(|op| match op {
            Op::Start { run, prompt_bytes, max_tokens } => Op::Start { run: run % runs, prompt_bytes, max_tokens },
            Op::Drop { run } => Op::Drop { run: run % runs },
            finish => finish,
        }).collect();
        let outcome = interleave(limit_usd, runs, max_reasks, &ops);
        prop_assert!(outcome.worst_overshoot <= EPS, "over by {}", outcome.worst_overshoot);
        prop_assert_eq!(outcome.started_when_spent, 0);
    }

    #[test]
    fn calls_billed_beyond_their_worst_case_overshoot_by_that_excess_at_most(
        limit_usd in 0.0f64..0.5, runs in 1usize..6, max_reasks in 0u32..3,
        ops in ops(6, 2500),
    ) {
        let ops: Vec<Op> = ops.into_iter().map(|op| match op {
            Op::Start { run, prompt_bytes, max_tokens } => Op::Start { run: run % runs, prompt_bytes, max_tokens },
            Op::Drop { run } => Op::Drop { run: run % runs },
            finish => finish,
        }).collect();
        let outcome = interleave(limit_usd, runs, max_reasks, &ops);
        prop_assert!(
            outcome.worst_overshoot <= outcome.excess_at_worst + EPS,
            "over by {} with {} billed beyond the worst cases",
            outcome.worst_overshoot, outcome.excess_at_worst
        );
        prop_assert_eq!(outcome.started_when_spent, 0);
    }
}

/// The generator reaches both sides of the cap: without this, a property that never saw a
/// refusal (or never saw a call let in) would pass vacuously.
#[test]
fn the_interleavings_both_fill_and_refuse() {
    let ops: Vec<Op> = (0..40)
        .flat_map(|i| {
            [
                Op::Start {
                    run: i % 3,
                    prompt_bytes: 4_000,
                    max_tokens: 4_000,
                },
                Op::Finish {
                    pick: i,
                    per_mille: 900,
                },
            ]
        })
        .collect();
    let outcome = interleave(0.05, 3, 2, &ops);
    assert!(
        outcome.started > 0 && outcome.refused > 0,
        "{} started, {} refused",
        outcome.started,
        outcome.refused
    );
    assert!(outcome.worst_overshoot <= EPS);
}

// ---------------------------------------------------------------------------------------------
// A tight worst case (issue 16, item 4)
// ---------------------------------------------------------------------------------------------

/// The solver's first call of a default run on "What is 20 + 22?" with gpt-4o-mini at 600 max
/// tokens, as issue 16 reports it.
fn gpt_4o_mini_call() -> AgentCall {
    let mut config = trialogue::core::config::PipelineConfig::default();
    config.solver.model = "openai/gpt-4o-mini".into();
    config.solver.max_tokens = 600;
    let vars = trialogue::core::pipeline::StepVars {
        problem: "What is 20 + 22?",
        feedback: "",
        solution: "",
    };
    trialogue::core::pipeline::agent_call(&config, AgentRole::Solver, &vars).expect("renders")
}

/// The bound this crate used before issue 16: bytes + 1 000 tokens of overhead per request,
/// each of the 1 + 2 re-asks adding max_tokens + 1 000, all at the output rate.
fn former_worst_case_usd(call: &AgentCall, input_per_m: f64, output_per_m: f64) -> f64 {
    let p = (call.system_prompt.len() + call.user_prompt.len()) as f64 + 1_000.0;
    let max = f64::from(call.max_tokens);
    let inputs = p + (p + max + 1_000.0) + (p + 2.0 * (max + 1_000.0));
    (inputs * input_per_m + 3.0 * max * output_per_m) / 1e6
}

#[test]
fn the_gpt_4o_mini_reservation_is_within_a_small_factor_of_a_real_reply() {
    let call = gpt_4o_mini_call();
    let mut overrides = PriceOverrides::new();
    overrides
        .insert("openai/gpt-4o-mini", RateOverride::new(0.15, 0.6))
        .expect("a valid price");
    let pricer = || Rc::new(Pricer::new(None, overrides.clone()));
    let gate = BudgetGate::new(pricer());
    // A real reply to it: the prompt as OpenAI counts it (about four bytes a token, the schema
    // included) and a worked answer of 150 tokens.
    let prompt_tokens = (call.system_prompt.len() + call.user_prompt.len()) as u64 / 4 + 120;
    let real = (prompt_tokens as f64 * 0.15 + 150.0 * 0.6) / 1e6;
    let former = former_worst_case_usd(&call, 0.15, 0.6);
    // What is held before the call: its first request's worst case (each re-ask is reserved
    // when it is about to be sent).
    let reserved = gate.first_request_usd(&call).expect("priced");
    // Once a provider has reported the prompt's exact count, an identical call is bounded by
    // it.
    gate.prompt_tokens_reported(&call, prompt_tokens);
    let known = gate.first_request_usd(&call).expect("priced");
    println!(
        "real {real:.8}; former {former:.8} ({:.1}x); now {reserved:.8} ({:.1}x), \
         {known:.8} ({:.1}x) with the exact count",
        former / real,
        reserved / real,
        known / real
    );
    assert!(real <= known && known <= reserved);
    assert!(reserved / real < 6.0, "{reserved} vs {real}");
    assert!(known / real < 4.5, "{known} vs {real}");
    assert!(former / real > 15.0, "{former} vs {real}");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// The reservation never falls short of what any reply within max_tokens can cost: the
    /// prompt counted as anything up to one token per byte of everything sent (prompts and
    /// schema) plus the framing, or exactly as a provider reported it; the output anything up
    /// to max_tokens, as text or as reasoning.
    #[test]
    fn the_reservation_covers_any_reply_within_max_tokens(
        system in ".{0,200}",
        user in ".{0,2000}",
        max_tokens in 1u32..20_000,
        output_share in 0.0f64..=1.0,
        reasoning_share in 0.0f64..=1.0,
        prompt_share in 0.0f64..=1.0,
        exact in proptest::option::of(1u64..50_000),
        role in prop_oneof![Just(AgentRole::Solver), Just(AgentRole::Verifier), Just(AgentRole::Judge)],
        dear in any::<bool>(),
    ) {
        let model = if dear { "openai/dear" } else { "openai/cheap" };
        let call = AgentCall {
            role,
            model: model.into(),
            system_prompt: system,
            user_prompt: user,
            temperature: 0.0,
            max_tokens,
            reasoning: Default::default(),
        };
        let gate = BudgetGate::new(pricer());
        let bound = CallEstimate::default().prompt_bound(&call);
        let prompt = match exact {
            Some(n) => {
                gate.prompt_tokens_reported(&call, n);
                n
            }
            None => (bound as f64 * prompt_share) as u64,
        };
        let output = (f64::from(max_tokens) * output_share) as u64;
        let reasoning = (output as f64 * reasoning_share) as u64;
        let usage = Usage {
            input_tokens: prompt,
            output_tokens: output,
            total_tokens: prompt + output,
            reasoning_tokens: reasoning,
            ..Usage::default()
        };
        let real = match pricer().price_of("", model) {
            trialogue::core::pricing::Price::Known(q) => {
                trialogue::core::cost::cost_of(&usage, &q.rates).total_usd
            }
            trialogue::core::pricing::Price::Unknown => unreachable!("both models are priced"),
        };
        let reserved = gate.first_request_usd(&call).expect("priced");
        prop_assert!(reserved >= real, "reserved {reserved} < real {real}");
    }
}
