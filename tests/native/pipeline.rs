//! The agent loop end to end with a scripted LLM, a manual clock and in-memory sinks.

use std::cell::RefCell;

use serde_json::{json, Value};
use trialogue::core::cancel::CancelToken;
use trialogue::core::clock::ManualClock;
use trialogue::core::config::PipelineConfig;
use trialogue::core::llm::{AgentCall, ErrorKind, LlmError, Usage};
use trialogue::core::pipeline::{
    messages_of_step, CallGate, GateRefusal, MemorySink, Pipeline, PipelineEvent, ResumeError,
    RunInput, RunOutcome, SentError, SinkError, StepPricer, StopReason, TrajectorySink,
};
use trialogue::core::role::AgentRole;
use trialogue::core::scripted::{
    judge_output, solver_output, verifier_output, ScriptedLlm, ScriptedTurn,
};
use trialogue::core::trajectory::{RunStatus, TrajectoryEntry};

use crate::util::ready_now as block_on;

// 2026-03-01T12:00:00Z
const START_MS: f64 = 1_772_366_400_000.0;
/// The hash part of the test run ids (any 8 hex digits: the run id is the caller's).
const HASH: &str = "0badf00d";

fn config(mode: &str, max_iterations: u32) -> PipelineConfig {
    serde_json::from_value(json!({
        "solver": {
            "role": "solver", "model": "openai/gpt-4o-mini", "temperature": 0.0, "max_tokens": 512,
            "prompt_template": "Solve: {problem}\nFeedback: {feedback}", "system_prompt": "You solve."
        },
        "verifier": {
            "role": "verifier", "model": "anthropic/claude-haiku", "temperature": 0.0, "max_tokens": 256,
            "prompt_template": "Check {solution} for {problem}", "system_prompt": ""
        },
        "judge": {
            "model": "gemini/gemini-2.0-flash", "temperature": 0.0, "max_tokens": 256,
            "prompt_template": "Score {solution} for {problem} by {rubric}", "system_prompt": "",
            "scoring_rubric": "correctness"
        },
        "mode": mode,
        "max_iterations": max_iterations,
        "trajectory_output_dir": "trajectories",
        "config_version": "1.0",
        "max_reasks": 2,
        "max_attempts": 3,
        "request_timeout_secs": 120,
        "run_budget_usd": null,
        "batch_budget_usd": null
    }))
    .expect("test config")
}

fn input(ground_truth: Option<&str>) -> RunInput {
    RunInput {
        run_id: format!("run_20260301_120000_{HASH}"),
        problem: "What is 2+2?".into(),
        ground_truth: ground_truth.map(str::to_string),
    }
}

fn run(config: &PipelineConfig, llm: &ScriptedLlm, ground_truth: Option<&str>) -> RunOutcome {
    let clock = ManualClock::starting_at(START_MS);
    let sink = MemorySink::new();
    let outcome = block_on(Pipeline::new(config, llm, &clock, &sink).run(&input(ground_truth)));
    assert_eq!(
        sink.entries(),
        outcome.entries,
        "the sink holds exactly the committed steps"
    );
    outcome
}

fn agents(entries: &[TrajectoryEntry]) -> Vec<(String, Option<u32>)> {
    entries
        .iter()
        .map(|e| (e.agent.clone(), e.iteration()))
        .collect()
}

fn steps(spec: &[(&str, Option<u32>)]) -> Vec<(String, Option<u32>)> {
    spec.iter().map(|(a, i)| (a.to_string(), *i)).collect()
}

/// A call the model failed (not the provider): logged as a step, and the loop goes on.
fn refusal() -> LlmError {
    LlmError::refusal("openai", "I can't help with that")
}

const SPENT: Usage = Usage {
    input_tokens: 40,
    output_tokens: 0,
    total_tokens: 40,
    cache_read_tokens: 0,
    cache_write_tokens: 0,
    reasoning_tokens: 0,
    reasoning_tokens_unknown: false,
};

#[test]
fn passes_first_time_with_the_original_step_shapes() {
    let llm = ScriptedLlm::builder()
        .solve(r"2+2 = \boxed{4}")
        .verify(true, "correct")
        .judge(0.9)
        .build();
    let out = run(&config("debate", 5), &llm, Some("4"));
    let e = &out.entries;
    assert_eq!(
        agents(e),
        steps(&[("solver", Some(1)), ("verifier", Some(1)), ("judge", None)])
    );
    assert_eq!(
        e.iter().map(|x| x.step_id).collect::<Vec<_>>(),
        vec![1, 2, 3]
    );
    assert_eq!(
        e.iter().map(|x| x.action.as_str()).collect::<Vec<_>>(),
        vec!["generate", "validate", "score"]
    );
    // Inputs and outputs as the original logged them.
    assert_eq!(
        Value::Object(e[0].input.clone()),
        json!({"problem": "What is 2+2?", "feedback": ""})
    );
    assert_eq!(
        Value::Object(e[0].output.clone()),
        json!({"solution": r"2+2 = \boxed{4}", "reasoning": "scripted", "confidence": 0.9})
    );
    assert_eq!(
        Value::Object(e[1].input.clone()),
        json!({"problem": "What is 2+2?", "solution": r"2+2 = \boxed{4}"})
    );
    assert_eq!(
        Value::Object(e[1].output.clone()),
        json!({"passed": true, "critique": "correct", "confidence": 0.8, "scores": {}})
    );
    assert_eq!(
        Value::Object(e[2].output.clone()),
        json!({"score": 0.9, "reasoning": "scripted", "strengths": [], "weaknesses": []})
    );
    // The original's metadata, with Trialogue's extras beside it.
    assert_eq!(
        e[0].metadata.to_object()["model"],
        json!("openai/gpt-4o-mini")
    );
    assert_eq!(
        e[0].metadata.to_object()["tokens"],
        json!({"prompt_tokens": 100, "completion_tokens": 20, "total_tokens": 120})
    );
    assert_eq!(e[0].metadata.to_object()["provider"], json!("scripted"));
    // sha256(json.dumps(config, sort_keys=True))[:8] of this config, computed with python3.
    assert_eq!(e[0].metadata.to_object()["config_hash"], json!("61884ab2"));
    assert_eq!(e[0].metadata.to_object()["reasks"], json!(0));
    assert_eq!(e[0].metadata.to_object()["usage_complete"], json!(true));
    assert_eq!(e[0].metadata.to_object()["cost_usd"], Value::Null);
    assert_eq!(e[0].metadata.to_object()["latency_ms"], json!(250.0));
    assert_eq!(e[0].metadata.to_object()["finish_reason"], json!("stop"));
    assert!(!e[2].metadata.to_object().contains_key("iteration"));
    assert_eq!(e[0].timestamp, "2026-03-01T12:00:00.000000+00:00");
    // Only the judge's step is terminal, and it carries the checked answer.
    assert_eq!(
        (e[0].terminal, e[0].reward, e[0].success),
        (false, None, None)
    );
    assert_eq!(
        (e[2].terminal, e[2].reward, e[2].success),
        (true, Some(1.0), Some(true))
    );
    let s = &out.summary;
    assert_eq!(s.status, RunStatus::Completed);
    assert_eq!(s.stop_reason, Some(StopReason::Passed));
    assert_eq!((s.iterations, s.passed, s.steps), (1, true, 3));
    assert_eq!(s.judge_score, Some(0.9));
    assert_eq!(s.extracted_answer.as_deref(), Some("4"));
    assert_eq!(s.correct, Some(true));
    assert_eq!(s.usage.total_tokens, 360);
    // The calls carry each agent's settings and rendered prompt.
    let calls = llm.calls();
    assert_eq!(calls.len(), 3);
    assert_eq!(calls[0].user_prompt, "Solve: What is 2+2?\nFeedback: ");
    assert_eq!(calls[0].system_prompt, "You solve.");
    assert_eq!(calls[0].max_tokens, 512);
    assert_eq!(calls[1].model, "anthropic/claude-haiku");
    assert_eq!(
        calls[2].user_prompt,
        r"Score 2+2 = \boxed{4} for What is 2+2? by correctness"
    );
}

#[test]
fn a_critique_becomes_the_next_feedback_until_the_verifier_passes() {
    let llm = ScriptedLlm::builder()
        .solve("3")
        .verify(false, "off by one")
        .solve("4")
        .verify(true, "good")
        .judge(1.0)
        .build();
    let out = run(&config("debate", 5), &llm, Some("4"));
    assert_eq!(
        agents(&out.entries),
        steps(&[
            ("solver", Some(1)),
            ("verifier", Some(1)),
            ("solver", Some(2)),
            ("verifier", Some(2)),
            ("judge", None)
        ])
    );
    assert_eq!(out.entries[2].input["feedback"], json!("off by one"));
    assert_eq!(
        llm.calls_for(AgentRole::Solver)[1].user_prompt,
        "Solve: What is 2+2?\nFeedback: off by one"
    );
    assert_eq!(
        llm.calls_for(AgentRole::Judge)[0].user_prompt,
        "Score 4 for What is 2+2? by correctness"
    );
    assert_eq!(out.summary.iterations, 2);
    assert_eq!(out.summary.final_solution, "4");
}

#[test]
fn stops_after_max_iterations_and_still_judges() {
    let llm = ScriptedLlm::builder()
        .solve("3")
        .verify(false, "too small")
        .solve("5")
        .verify(false, "too big")
        .judge(0.2)
        .build();
    let out = run(&config("debate", 2), &llm, Some("4"));
    assert_eq!(out.entries.len(), 5);
    assert_eq!(out.summary.stop_reason, Some(StopReason::MaxIterations));
    assert!(!out.summary.passed);
    let last = out.entries.last().unwrap();
    assert_eq!((last.agent.as_str(), last.terminal), ("judge", true));
    assert_eq!((last.reward, last.success), (Some(0.0), Some(false)));
    assert_eq!(llm.remaining(AgentRole::Solver), 0);
}

#[test]
fn stops_when_critiques_go_circular() {
    let llm = ScriptedLlm::builder()
        .solve("3")
        .verify(false, "Show your work")
        .solve("3")
        .verify(false, "The sign is wrong")
        .solve("3")
        .verify(false, "  the sign is wrong. ")
        .solve("never asked")
        .judge(0.1)
        .build();
    let out = run(&config("debate", 5), &llm, None);
    assert_eq!(out.entries.len(), 7);
    assert_eq!(out.summary.stop_reason, Some(StopReason::Circular));
    assert_eq!(out.summary.iterations, 3);
    assert_eq!(llm.remaining(AgentRole::Solver), 1);
}

#[test]
fn two_repeated_critiques_are_not_yet_circular() {
    let llm = ScriptedLlm::builder()
        .solve("3")
        .verify(false, "wrong")
        .solve("3")
        .verify(false, "wrong")
        .solve("4")
        .verify(true, "ok")
        .judge(0.8)
        .build();
    let out = run(&config("debate", 5), &llm, None);
    assert_eq!(out.summary.stop_reason, Some(StopReason::Passed));
    assert_eq!(out.entries.len(), 7);
}

#[test]
fn a_solver_error_is_logged_skips_the_verifier_and_the_loop_goes_on() {
    let llm = ScriptedLlm::builder()
        .fail(AgentRole::Solver, refusal(), SPENT)
        .solve("4")
        .verify(true, "ok")
        .judge(0.9)
        .build();
    let out = run(&config("debate", 3), &llm, Some("4"));
    assert_eq!(
        agents(&out.entries),
        steps(&[
            ("solver", Some(1)),
            ("solver", Some(2)),
            ("verifier", Some(2)),
            ("judge", None)
        ])
    );
    let err = &out.entries[0];
    assert!(err.is_error());
    assert_eq!(err.output["error_type"], json!("Refusal"));
    assert_eq!(err.output["error_message"], json!(refusal().to_string()));
    assert_eq!(err.output.len(), 2);
    assert_eq!(
        (err.agent.as_str(), err.action.as_str()),
        ("solver", "generate")
    );
    assert_eq!(
        err.metadata.to_object()["tokens"]["prompt_tokens"],
        json!(40)
    );
    assert_eq!(err.metadata.to_object()["provider"], json!("openai"));
    // The next round gets the same (empty) feedback.
    assert_eq!(out.entries[1].input["feedback"], json!(""));
    assert_eq!(out.summary.usage.total_tokens, 40 + 3 * 120);
    assert_eq!(out.summary.correct, Some(true));
}

#[test]
fn a_failed_last_solver_round_leaves_an_empty_solution_for_the_judge() {
    let llm = ScriptedLlm::builder()
        .solve("3")
        .verify(false, "wrong")
        .fail(AgentRole::Solver, refusal(), Usage::default())
        .judge(0.0)
        .build();
    let out = run(&config("debate", 2), &llm, Some("4"));
    assert_eq!(out.entries.len(), 4);
    assert_eq!(out.entries[3].input["solution"], json!(""));
    assert_eq!(out.summary.final_solution, "");
    // No answer came out of the loop: there is nothing to check, and the run failed.
    assert_eq!(out.summary.correct, None);
    assert_eq!(
        (out.entries[3].reward, out.entries[3].success),
        (None, None)
    );
    assert_eq!(out.summary.status, RunStatus::Failed);
    assert_eq!(out.summary.stop_reason, Some(StopReason::MaxIterations));
    assert_eq!(out.summary.errors, 1);
    assert_eq!(llm.calls_for(AgentRole::Verifier).len(), 1);
}

#[test]
fn a_verifier_error_counts_as_not_passed_and_keeps_the_feedback() {
    let llm = ScriptedLlm::builder()
        .solve("3")
        .fail(AgentRole::Verifier, refusal(), Usage::default())
        .solve("4")
        .verify(true, "ok")
        .judge(0.9)
        .build();
    let out = run(&config("debate", 3), &llm, None);
    assert_eq!(out.entries.len(), 5);
    assert!(out.entries[1].is_error());
    assert_eq!(
        (
            out.entries[1].agent.as_str(),
            out.entries[1].action.as_str()
        ),
        ("verifier", "validate")
    );
    assert_eq!(out.entries[2].input["feedback"], json!(""));
    assert_eq!(out.summary.stop_reason, Some(StopReason::Passed));
}

#[test]
fn a_judge_error_is_no_score_and_is_still_the_terminal_step() {
    let llm = ScriptedLlm::builder()
        .solve(r"\boxed{4}")
        .verify(true, "ok")
        .fail(AgentRole::Judge, refusal(), SPENT)
        .build();
    let out = run(&config("debate", 3), &llm, Some("4"));
    let judge = out.entries.last().unwrap();
    assert!(judge.is_error());
    assert_eq!(
        (judge.agent.as_str(), judge.action.as_str()),
        ("judge", "score")
    );
    assert_eq!(
        (judge.terminal, judge.reward, judge.success),
        (true, Some(1.0), Some(true))
    );
    // A failed call is no score; the answer was produced and checked, so the run completed
    // with one error.
    assert_eq!(out.summary.judge_score, None);
    assert_eq!(out.summary.status, RunStatus::Completed);
    assert_eq!(out.summary.errors, 1);
    assert_eq!(judge.metadata.status, Some(RunStatus::Completed));
    assert_eq!(judge.metadata.stop_reason, Some(StopReason::Passed));
}

#[test]
fn without_ground_truth_reward_and_success_stay_null() {
    let llm = ScriptedLlm::builder()
        .solve("4")
        .verify(true, "ok")
        .judge(0.7)
        .build();
    let out = run(&config("debate", 3), &llm, None);
    let judge = out.entries.last().unwrap();
    assert_eq!(
        (judge.terminal, judge.reward, judge.success),
        (true, None, None)
    );
    assert_eq!(out.summary.correct, None);
    assert_eq!(out.summary.extracted_answer, None);
    let line = serde_json::to_string(judge).unwrap();
    assert!(
        line.ends_with(r#""reward":null,"terminal":true,"success":null}"#),
        "{line}"
    );
}

#[test]
fn baseline_makes_one_solver_call_then_the_judge() {
    let llm = ScriptedLlm::builder()
        .solve(r"\boxed{5}")
        .verify(true, "never asked")
        .judge(0.3)
        .build();
    let out = run(&config("baseline", 5), &llm, Some("4"));
    assert_eq!(
        agents(&out.entries),
        steps(&[("solver", Some(1)), ("judge", None)])
    );
    assert_eq!(out.summary.stop_reason, Some(StopReason::Baseline));
    assert_eq!(llm.calls_for(AgentRole::Verifier).len(), 0);
    assert_eq!(out.entries[1].success, Some(false));
}

#[test]
fn cancelled_before_the_start_makes_no_call() {
    let llm = ScriptedLlm::builder().solve("4").build();
    let clock = ManualClock::starting_at(START_MS);
    let sink = MemorySink::new();
    let token = CancelToken::new();
    token.cancel();
    let cfg = config("debate", 3);
    let out = block_on(
        Pipeline::new(&cfg, &llm, &clock, &sink)
            .with_cancel(token)
            .run(&input(None)),
    );
    assert_eq!(out.summary.status, RunStatus::Cancelled);
    assert!(out.entries.is_empty());
    assert!(llm.calls().is_empty());
}

/// The script of a run with every kind of step, one turn per step, in step order.
fn eventful_script() -> Vec<(AgentRole, ScriptedTurn)> {
    let ok = |output| ScriptedTurn::Reply {
        output,
        usage: ScriptedLlm::DEFAULT_USAGE,
    };
    vec![
        (
            AgentRole::Solver,
            ScriptedTurn::Fail {
                error: refusal(),
                usage: SPENT,
            },
        ),
        (AgentRole::Solver, ok(solver_output("3"))),
        (AgentRole::Verifier, ok(verifier_output(false, "too small"))),
        (AgentRole::Solver, ok(solver_output("5"))),
        (
            AgentRole::Verifier,
            ScriptedTurn::Fail {
                error: refusal(),
                usage: SPENT,
            },
        ),
        (AgentRole::Solver, ok(solver_output(r"\boxed{4}"))),
        (AgentRole::Verifier, ok(verifier_output(true, "right"))),
        (AgentRole::Judge, ok(judge_output(0.95))),
    ]
}

fn scripted(turns: &[(AgentRole, ScriptedTurn)]) -> ScriptedLlm {
    let llm = ScriptedLlm::new();
    for (role, turn) in turns {
        llm.push(*role, turn.clone());
    }
    llm
}

#[test]
fn resuming_from_every_cut_point_gives_the_uninterrupted_trajectory() {
    let cfg = config("debate", 5);
    let script = eventful_script();
    let full = run(&cfg, &scripted(&script), Some("4"));
    assert_eq!(full.entries.len(), script.len());
    assert_eq!(full.summary.stop_reason, Some(StopReason::Passed));
    for cut in 0..=script.len() {
        let llm = scripted(&script[cut..]);
        let clock = ManualClock::starting_at(START_MS);
        let sink = MemorySink::new();
        let committed = full.entries[..cut].to_vec();
        let resumed =
            block_on(Pipeline::new(&cfg, &llm, &clock, &sink).resume(&input(Some("4")), committed))
                .unwrap();
        assert_eq!(resumed.entries, full.entries, "cut after step {cut}");
        assert_eq!(
            sink.entries(),
            full.entries[cut..].to_vec(),
            "only new steps are stored"
        );
        assert_eq!(
            llm.calls().len(),
            script.len() - cut,
            "no committed step is repeated"
        );
        assert_eq!(resumed.summary.status, RunStatus::Completed);
        assert_eq!(resumed.summary.judge_score, Some(0.95));
        // Rounds: 1 (solver failed), 2 (critique), 3 (verifier failed), 4 (passed).
        assert_eq!(resumed.summary.iterations, 4);
        assert_eq!(
            resumed.summary.usage, full.summary.usage,
            "cut after step {cut}"
        );
    }
}

#[test]
fn resuming_a_circular_run_cut_before_its_judge_stops_the_same_way() {
    let cfg = config("debate", 5);
    let ok = |role, output| {
        (
            role,
            ScriptedTurn::Reply {
                output,
                usage: Usage::default(),
            },
        )
    };
    let script = vec![
        ok(AgentRole::Solver, solver_output("1")),
        ok(AgentRole::Verifier, verifier_output(false, "no")),
        ok(AgentRole::Solver, solver_output("2")),
        ok(AgentRole::Verifier, verifier_output(false, "wrong again")),
        ok(AgentRole::Solver, solver_output("3")),
        ok(AgentRole::Verifier, verifier_output(false, "Wrong again.")),
        ok(AgentRole::Judge, judge_output(0.0)),
    ];
    let full = run(&cfg, &scripted(&script), None);
    assert_eq!(full.summary.stop_reason, Some(StopReason::Circular));
    let llm = scripted(&script[6..]);
    let clock = ManualClock::starting_at(START_MS);
    let sink = MemorySink::new();
    let resumed = block_on(
        Pipeline::new(&cfg, &llm, &clock, &sink).resume(&input(None), full.entries[..6].to_vec()),
    )
    .unwrap();
    assert_eq!(resumed.entries, full.entries);
    assert_eq!(resumed.summary.stop_reason, Some(StopReason::Circular));
}

#[test]
fn cancelling_between_steps_stops_and_the_run_resumes_where_it_stopped() {
    let cfg = config("debate", 5);
    let script = eventful_script();
    let full = run(&cfg, &scripted(&script), Some("4"));
    let llm = scripted(&script);
    let clock = ManualClock::starting_at(START_MS);
    let sink = MemorySink::new();
    let token = CancelToken::new();
    let canceller = token.clone();
    let listener = move |event: &PipelineEvent| {
        if let PipelineEvent::StepFinished { entry, .. } = event {
            if entry.step_id == 3 {
                canceller.cancel();
            }
        }
    };
    let first = block_on(
        Pipeline::new(&cfg, &llm, &clock, &sink)
            .with_cancel(token)
            .with_listener(&listener)
            .run(&input(Some("4"))),
    );
    assert_eq!(first.summary.status, RunStatus::Cancelled);
    assert!(first
        .summary
        .message
        .as_deref()
        .unwrap()
        .contains("3 steps"));
    assert_eq!(first.entries.len(), 3);
    assert_eq!(llm.calls().len(), 3, "no call after the cancel");
    let resumed =
        block_on(Pipeline::new(&cfg, &llm, &clock, &sink).resume(&input(Some("4")), first.entries))
            .unwrap();
    assert_eq!(resumed.entries, full.entries);
    assert_eq!(sink.entries(), full.entries);
}

#[test]
fn a_provider_outage_after_the_retries_stops_the_run_without_a_step_and_it_resumes() {
    let cfg = config("debate", 5);
    let outages = [
        LlmError::from_http(
            "anthropic",
            503,
            ErrorKind::Server,
            "upstream connect error",
            None,
        ),
        LlmError::from_http("anthropic", 529, ErrorKind::Overloaded, "Overloaded", None),
        LlmError::from_http("anthropic", 429, ErrorKind::RateLimited, "slow down", None),
        LlmError::network("anthropic", "Failed to fetch"),
        LlmError::timeout("anthropic", 120_000),
    ];
    for outage in outages {
        let full = ScriptedLlm::builder()
            .solve("4")
            .verify(true, "ok")
            .judge(0.9)
            .build();
        let full = run(&cfg, &full, Some("4"));
        // The verifier's call fails on the provider's side, after the retries, having used
        // tokens (a reply cut off mid-stream).
        let llm = ScriptedLlm::builder()
            .solve("4")
            .fail(AgentRole::Verifier, outage.clone(), SPENT)
            .verify(true, "ok")
            .judge(0.9)
            .build();
        let clock = ManualClock::starting_at(START_MS);
        let sink = MemorySink::new();
        let first = block_on(Pipeline::new(&cfg, &llm, &clock, &sink).run(&input(Some("4"))));
        assert_eq!(first.summary.status, RunStatus::Failed, "{outage}");
        assert_eq!(first.summary.stop_reason, Some(StopReason::Provider));
        // Nothing is written as the verifier's reply, and no later role is called.
        assert_eq!(agents(&first.entries), steps(&[("solver", Some(1))]));
        assert_eq!(sink.entries(), first.entries);
        assert!(llm.calls_for(AgentRole::Judge).is_empty());
        assert_eq!(first.summary.errors, 0);
        let message = first.summary.message.as_deref().unwrap();
        assert!(message.contains(&outage.to_string()), "{message}");
        assert!(message.contains("Anthropic"), "{message}");
        assert!(
            message.contains("the 1 steps made so far are saved"),
            "{message}"
        );
        assert!(message.contains("can be resumed"), "{message}");
        // What the failed call used is counted, though no step holds it.
        assert_eq!(
            first.summary.usage.total_tokens,
            ScriptedLlm::DEFAULT_USAGE.total_tokens + SPENT.total_tokens
        );
        // Resumed, the same request goes out again and the run ends as if nothing happened.
        let resumed = block_on(
            Pipeline::new(&cfg, &llm, &clock, &sink).resume(&input(Some("4")), first.entries),
        )
        .unwrap();
        assert_eq!(resumed.summary.status, RunStatus::Completed);
        assert_eq!(resumed.entries, full.entries, "{outage}");
        assert_eq!(
            llm.calls_for(AgentRole::Verifier)[0],
            llm.calls_for(AgentRole::Verifier)[1]
        );
    }
}

#[test]
fn a_call_cut_off_by_cancel_commits_nothing_but_its_usage_is_counted() {
    let llm = ScriptedLlm::builder()
        .solve("4")
        .fail(AgentRole::Verifier, LlmError::cancelled(), SPENT)
        .build();
    let out = run(&config("debate", 3), &llm, None);
    assert_eq!(out.summary.status, RunStatus::Cancelled);
    assert_eq!(out.entries.len(), 1);
    assert_eq!(out.summary.usage.total_tokens, 120 + 40);
    assert_eq!(out.summary.steps, 1);
}

struct FailingSink {
    fail_at: u64,
    stored: RefCell<Vec<TrajectoryEntry>>,
}

impl TrajectorySink for FailingSink {
    async fn append(&self, entry: &TrajectoryEntry) -> Result<(), SinkError> {
        if entry.step_id == self.fail_at {
            return Err(SinkError::new("QuotaExceededError: storage is full"));
        }
        self.stored.borrow_mut().push(entry.clone());
        Ok(())
    }
}

#[test]
fn a_storage_failure_stops_the_run_before_the_next_call() {
    let llm = ScriptedLlm::builder()
        .solve("3")
        .verify(false, "no")
        .solve("4")
        .verify(true, "ok")
        .judge(1.0)
        .build();
    let clock = ManualClock::starting_at(START_MS);
    let sink = FailingSink {
        fail_at: 2,
        stored: RefCell::default(),
    };
    let cfg = config("debate", 3);
    let out = block_on(Pipeline::new(&cfg, &llm, &clock, &sink).run(&input(None)));
    assert_eq!(out.summary.status, RunStatus::Failed);
    let message = out.summary.message.unwrap();
    assert!(
        message.starts_with("storage failed: step 2 (verifier)"),
        "{message}"
    );
    assert!(message.contains("storage is full"), "{message}");
    assert_eq!(out.entries.len(), 1);
    assert_eq!(sink.stored.borrow().len(), 1);
    assert_eq!(
        llm.calls().len(),
        2,
        "the call whose step failed to save is the last"
    );
    assert_eq!(
        out.summary.usage.total_tokens, 240,
        "the unsaved step's usage is still counted"
    );
    assert_eq!(
        (
            out.summary.steps,
            out.summary.passed,
            out.summary.iterations
        ),
        (1, false, 1),
        "the summary describes the committed steps"
    );
}

struct Budget {
    limit_calls: usize,
    seen: RefCell<Vec<(AgentRole, u64, Option<f64>)>>,
}

impl CallGate for Budget {
    fn before_call(&self, call: &AgentCall) -> Result<(), GateRefusal> {
        if self.seen.borrow().len() >= self.limit_calls {
            Err(GateRefusal::new(format!(
                "the run budget is spent; {} was not called",
                call.role
            )))
        } else {
            Ok(())
        }
    }

    fn after_call(&self, call: &AgentCall, usage: &Usage, cost_usd: Option<f64>) {
        self.seen
            .borrow_mut()
            .push((call.role, usage.total_tokens, cost_usd));
    }
}

struct PerToken;

impl StepPricer for PerToken {
    fn price(&self, provider: &str, model: &str, usage: &Usage) -> Option<f64> {
        // Priced only when served by the scripted provider; unknown otherwise.
        (provider == "scripted" && !model.is_empty()).then_some(usage.total_tokens as f64 * 0.001)
    }
}

#[test]
fn a_gate_refusal_stops_the_run_as_budget_exceeded() {
    let llm = ScriptedLlm::builder()
        .solve("4")
        .verify(true, "ok")
        .judge(1.0)
        .build();
    let clock = ManualClock::starting_at(START_MS);
    let sink = MemorySink::new();
    let gate = Budget {
        limit_calls: 2,
        seen: RefCell::default(),
    };
    let cfg = config("debate", 3);
    let out = block_on(
        Pipeline::new(&cfg, &llm, &clock, &sink)
            .with_gate(&gate)
            .with_pricer(&PerToken)
            .run(&input(None)),
    );
    assert_eq!(out.summary.status, RunStatus::BudgetExceeded);
    let message = out.summary.message.unwrap();
    assert!(message.contains("judge was not called"), "{message}");
    assert_eq!(out.entries.len(), 2);
    assert_eq!(llm.calls().len(), 2);
    assert_eq!(
        *gate.seen.borrow(),
        vec![
            (AgentRole::Solver, 120, Some(0.12)),
            (AgentRole::Verifier, 120, Some(0.12))
        ]
    );
}

#[test]
fn costs_go_into_metadata_and_the_summary_and_unknown_prices_stay_unknown() {
    let llm = ScriptedLlm::builder()
        .solve("4")
        .verify(true, "ok")
        .fail(AgentRole::Judge, refusal(), SPENT)
        .build();
    let clock = ManualClock::starting_at(START_MS);
    let sink = MemorySink::new();
    let cfg = config("debate", 3);
    let out = block_on(
        Pipeline::new(&cfg, &llm, &clock, &sink)
            .with_pricer(&PerToken)
            .run(&input(None)),
    );
    assert_eq!(out.entries[0].metadata.to_object()["cost_usd"], json!(0.12));
    // The failed judge call names provider "openai", which this pricer does not know.
    assert_eq!(out.entries[2].metadata.to_object()["cost_usd"], Value::Null);
    let cost = out.summary.cost_usd.unwrap();
    assert!((cost - 0.24).abs() < 1e-12, "{cost}");
    assert!(!out.summary.cost_complete);
}

#[test]
fn events_announce_each_step_then_the_end() {
    let llm = ScriptedLlm::builder().solve("4").judge(0.5).build();
    let clock = ManualClock::starting_at(START_MS);
    let sink = MemorySink::new();
    let log = RefCell::new(Vec::new());
    let listener = |event: &PipelineEvent| {
        log.borrow_mut().push(match event {
            PipelineEvent::StepStarted {
                step_id,
                agent,
                iteration,
            } => {
                format!("start {step_id} {agent} {iteration:?}")
            }
            PipelineEvent::StepFinished {
                entry,
                usage,
                latency_ms,
                ..
            } => {
                format!("done {} {} {latency_ms}", entry.step_id, usage.total_tokens)
            }
            PipelineEvent::RunFinished { summary } => format!("end {}", summary.status),
        })
    };
    let cfg = config("baseline", 1);
    block_on(
        Pipeline::new(&cfg, &llm, &clock, &sink)
            .with_listener(&listener)
            .run(&input(None)),
    );
    assert_eq!(
        *log.borrow(),
        vec![
            "start 1 solver Some(1)",
            "done 1 120 250",
            "start 2 judge None",
            "done 2 120 250",
            "end completed"
        ]
    );
}

#[test]
fn an_unusable_prompt_fails_the_run_before_any_call() {
    let mut cfg = config("debate", 3);
    cfg.verifier.prompt_template = "Check {answer}".into();
    let llm = ScriptedLlm::builder().solve("4").build();
    let out = run(&cfg, &llm, None);
    assert_eq!(out.summary.status, RunStatus::Failed);
    assert!(out.summary.message.unwrap().contains("verifier prompt"));
    assert!(llm.calls().is_empty());
}

#[test]
fn a_finished_run_resumes_to_itself_without_calls() {
    let cfg = config("debate", 3);
    let full = run(
        &cfg,
        &ScriptedLlm::builder()
            .solve("4")
            .verify(true, "ok")
            .judge(0.6)
            .build(),
        Some("4"),
    );
    let llm = ScriptedLlm::new();
    let clock = ManualClock::starting_at(START_MS);
    let sink = MemorySink::new();
    let again = block_on(
        Pipeline::new(&cfg, &llm, &clock, &sink).resume(&input(Some("4")), full.entries.clone()),
    )
    .unwrap();
    assert_eq!(again.entries, full.entries);
    assert_eq!(again.summary.correct, Some(true));
    assert_eq!(again.summary.judge_score, Some(0.6));
    assert!(llm.calls().is_empty());
}

#[test]
fn resume_rejects_steps_that_do_not_fit_the_loop() {
    let cfg = config("debate", 3);
    let full = run(
        &cfg,
        &ScriptedLlm::builder()
            .solve("3")
            .verify(false, "no")
            .solve("4")
            .build(),
        None,
    );
    let resume = |entries: Vec<TrajectoryEntry>| {
        let llm = ScriptedLlm::new();
        let clock = ManualClock::starting_at(START_MS);
        let sink = MemorySink::new();
        block_on(Pipeline::new(&cfg, &llm, &clock, &sink).resume(&input(None), entries))
            .map(|o| o.entries.len())
    };
    let mut gap = full.entries[..3].to_vec();
    gap.remove(1);
    assert_eq!(
        resume(gap),
        Err(ResumeError::StepGap {
            expected: 2,
            found: 3
        })
    );
    let mut other = full.entries[..1].to_vec();
    other[0].run_id = "run_other".into();
    assert!(matches!(resume(other), Err(ResumeError::WrongRun { .. })));
    let mut swapped = full.entries[..2].to_vec();
    swapped[1].agent = "judge".into();
    let err = resume(swapped).unwrap_err();
    assert!(
        err.to_string()
            .contains("the verifier's step of iteration 1"),
        "{err}"
    );
    // Baseline cannot continue a debate's verifier step.
    let baseline = config("baseline", 3);
    let llm = ScriptedLlm::new();
    let clock = ManualClock::starting_at(START_MS);
    let sink = MemorySink::new();
    let result = block_on(
        Pipeline::new(&baseline, &llm, &clock, &sink)
            .resume(&input(None), full.entries[..2].to_vec()),
    );
    assert!(matches!(
        result,
        Err(ResumeError::UnexpectedStep { step_id: 2, .. })
    ));
}

#[test]
fn reasks_and_incomplete_usage_are_recorded() {
    use trialogue::core::llm::{AttemptKind, AttemptRecord};
    let attempt = |n, kind, usage: Option<Usage>| AttemptRecord {
        attempt: n,
        kind,
        usage,
        error: None,
        latency_ms: 10.0,
        reply: None,
        unsettled: false,
        sent_via: Default::default(),
    };
    let reasked = ScriptedTurn::attempted(
        solver_output("4"),
        "local",
        "smollm2",
        vec![
            attempt(1, AttemptKind::Initial, Some(ScriptedLlm::DEFAULT_USAGE)),
            attempt(2, AttemptKind::Reask, None),
            attempt(3, AttemptKind::Reask, None),
        ],
    );
    let llm = ScriptedLlm::builder()
        .push(AgentRole::Solver, reasked)
        .judge(0.5)
        .build();
    let out = run(&config("baseline", 1), &llm, None);
    let m = &out.entries[0].metadata.to_object();
    assert_eq!(m["reasks"], json!(2));
    assert_eq!(m["usage_complete"], json!(false));
    assert_eq!(m["attempts"].as_array().map(Vec::len), Some(3));
    assert_eq!(m["attempts"][1]["kind"], json!("reask"));
    assert_eq!(m["provider"], json!("local"));
    assert_eq!(m["finish_reason"], Value::Null);
    assert!(!out.summary.cost_complete);
}

#[test]
fn an_output_of_another_role_becomes_an_error_step() {
    let llm = ScriptedLlm::builder()
        .push(
            AgentRole::Solver,
            ScriptedTurn::Reply {
                output: judge_output(0.5),
                usage: Usage::default(),
            },
        )
        .judge(0.1)
        .build();
    let out = run(&config("baseline", 1), &llm, None);
    assert_eq!(out.entries[0].output["error_type"], json!("InvalidOutput"));
    assert_eq!(
        out.entries[0].output["error_message"],
        json!("the solver's call returned the judge's output")
    );
    assert_eq!(out.entries[1].input["solution"], json!(""));
    assert_eq!(llm.calls().len(), 2);
}

#[test]
fn a_storage_failure_on_the_passing_step_does_not_report_a_pass() {
    let llm = ScriptedLlm::builder()
        .solve("3")
        .verify(false, "no")
        .solve("4")
        .verify(true, "ok")
        .judge(1.0)
        .build();
    let clock = ManualClock::starting_at(START_MS);
    let sink = FailingSink {
        fail_at: 4,
        stored: RefCell::default(),
    };
    let cfg = config("debate", 3);
    let out = block_on(Pipeline::new(&cfg, &llm, &clock, &sink).run(&input(None)));
    assert_eq!(out.summary.status, RunStatus::Failed);
    assert_eq!(out.summary.steps, 3);
    assert!(!out.summary.passed, "the pass was never stored");
    assert_eq!(out.summary.stop_reason, Some(StopReason::Error));
    assert_eq!(out.summary.final_solution, "4");
    assert_eq!(llm.calls_for(AgentRole::Judge).len(), 0);
}

/// The SmolLM2 story of issue 16: "What is 20 + 22?" with ground truth 42, every solver reply
/// fails validation at temperature 0, and the judge's reply on the empty solution is truncated.
#[test]
fn a_run_whose_solver_always_fails_is_failed_and_stops_after_the_same_failure_twice() {
    let invalid = || {
        LlmError::invalid_output(
            "local",
            "`solution`: missing field (reply: {\"answer\": 42})",
        )
    };
    let llm = ScriptedLlm::builder()
        .fail(AgentRole::Solver, invalid(), SPENT)
        .fail(AgentRole::Solver, invalid(), SPENT)
        .fail(AgentRole::Solver, invalid(), SPENT)
        .fail(AgentRole::Solver, invalid(), SPENT)
        .fail(AgentRole::Solver, invalid(), SPENT)
        .fail(AgentRole::Judge, LlmError::truncated("local", 256), SPENT)
        .build();
    let cfg = config("debate", 5);
    let out = run(&cfg, &llm, Some("42"));
    // The identical request failed the same way twice: it is not sent a third time.
    assert_eq!(llm.calls_for(AgentRole::Solver).len(), 2);
    assert_eq!(
        agents(&out.entries),
        steps(&[("solver", Some(1)), ("solver", Some(2)), ("judge", None)])
    );
    let s = &out.summary;
    assert_eq!(s.status, RunStatus::Failed);
    assert_eq!(s.stop_reason, Some(StopReason::Error));
    assert_eq!(s.errors, 3);
    assert_eq!(s.judge_score, None, "a failed judge call is no score");
    assert_eq!((s.correct, s.extracted_answer.clone()), (None, None));
    let message = s.message.as_deref().unwrap_or_default();
    assert!(
        message.contains("no answer was produced") && message.contains("failed the same way twice"),
        "{message}"
    );
    let judge = out.entries.last().unwrap();
    assert!(judge.terminal);
    assert_eq!((judge.reward, judge.success), (None, None));
    let line = serde_json::to_value(judge).unwrap();
    assert_eq!(line["metadata"]["stop_reason"], json!("error"));
    assert_eq!(line["metadata"]["status"], json!("failed"));
    assert_eq!(line["reward"], Value::Null);
}

#[test]
fn the_same_request_failing_another_way_or_a_new_request_failing_goes_on() {
    // Two failures of the same request with different errors, then a success.
    let llm = ScriptedLlm::builder()
        .fail(AgentRole::Solver, refusal(), SPENT)
        .fail(AgentRole::Solver, LlmError::truncated("openai", 512), SPENT)
        .solve("4")
        .verify(true, "ok")
        .judge(0.9)
        .build();
    let out = run(&config("debate", 5), &llm, Some("4"));
    assert_eq!(out.summary.status, RunStatus::Completed);
    assert_eq!(out.summary.stop_reason, Some(StopReason::Passed));
    assert_eq!(out.summary.errors, 2);
    assert_eq!(out.summary.message, None);
    assert_eq!(out.summary.correct, Some(true));
}

#[test]
fn a_verifier_request_failing_the_same_way_twice_stops_the_loop_with_the_answer_kept() {
    let llm = ScriptedLlm::builder()
        .solve("4")
        .fail(AgentRole::Verifier, refusal(), SPENT)
        .solve("4")
        .fail(AgentRole::Verifier, refusal(), SPENT)
        .judge(0.8)
        .build();
    let out = run(&config("debate", 5), &llm, Some("4"));
    assert_eq!(llm.calls_for(AgentRole::Verifier).len(), 2);
    assert_eq!(out.summary.status, RunStatus::Completed);
    assert_eq!(out.summary.stop_reason, Some(StopReason::Error));
    assert_eq!(out.summary.errors, 2);
    assert!(out
        .summary
        .message
        .as_deref()
        .is_some_and(|m| m.contains("the verifier's request failed the same way twice")));
    assert_eq!(out.summary.correct, Some(true));
}

#[test]
fn a_resumed_run_counts_the_failures_stored_before_it() {
    let invalid = || LlmError::invalid_output("local", "`solution`: missing field");
    let script = || {
        ScriptedLlm::builder()
            .fail(AgentRole::Solver, invalid(), SPENT)
            .fail(AgentRole::Solver, invalid(), SPENT)
            .fail(AgentRole::Solver, invalid(), SPENT)
            .judge(0.1)
            .build()
    };
    let cfg = config("debate", 5);
    let full = run(&cfg, &script(), Some("42"));
    // Cut after the first failed step: the resumed run knows that request failed already.
    let clock = ManualClock::starting_at(START_MS);
    let sink = MemorySink::new();
    let llm = script();
    let resumed = block_on(
        Pipeline::new(&cfg, &llm, &clock, &sink)
            .resume(&input(Some("42")), vec![full.entries[0].clone()]),
    )
    .unwrap();
    assert_eq!(llm.calls_for(AgentRole::Solver).len(), 1);
    assert_eq!(agents(&resumed.entries), agents(&full.entries));
    assert_eq!(resumed.summary.stop_reason, Some(StopReason::Error));
}

#[test]
fn runs_stopped_early_say_why() {
    // Cancelled.
    let llm = ScriptedLlm::builder().solve("4").build();
    let clock = ManualClock::starting_at(START_MS);
    let sink = MemorySink::new();
    let token = CancelToken::new();
    token.cancel();
    let cfg = config("debate", 3);
    let out = block_on(
        Pipeline::new(&cfg, &llm, &clock, &sink)
            .with_cancel(token)
            .run(&input(None)),
    );
    assert_eq!(out.summary.stop_reason, Some(StopReason::Cancelled));
    // Refused by a gate.
    struct Refuse;
    impl CallGate for Refuse {
        fn before_call(&self, _call: &AgentCall) -> Result<(), GateRefusal> {
            Err(GateRefusal::new("the run budget is spent"))
        }
        fn after_call(&self, _call: &AgentCall, _usage: &Usage, _cost: Option<f64>) {}
    }
    let out = block_on(
        Pipeline::new(&cfg, &llm, &clock, &sink)
            .with_gate(&Refuse)
            .run(&input(None)),
    );
    assert_eq!(out.summary.status, RunStatus::BudgetExceeded);
    assert_eq!(out.summary.stop_reason, Some(StopReason::Budget));
}

#[test]
fn a_stored_step_renders_to_the_messages_its_call_sent() {
    let llm = ScriptedLlm::builder()
        .solve("3")
        .verify(false, "off by one")
        .fail(AgentRole::Solver, refusal(), SPENT)
        .solve(r"\boxed{4}")
        .verify(true, "ok")
        .judge(0.9)
        .build();
    let cfg = config("debate", 5);
    let out = run(&cfg, &llm, Some("4"));
    let calls = llm.calls();
    assert_eq!(calls.len(), out.entries.len());
    for (entry, call) in out.entries.iter().zip(&calls) {
        let sent = messages_of_step(&cfg, entry).unwrap();
        assert_eq!(
            (sent.system.as_str(), sent.user.as_str()),
            (call.system_prompt.as_str(), call.user_prompt.as_str()),
            "step {}",
            entry.step_id
        );
    }
    // The judge's prompt carries the rubric, which the step's input does not.
    assert!(calls.last().unwrap().user_prompt.contains("by correctness"));
    // A step whose input lost what its prompt needs says which key.
    let mut broken = out.entries[0].clone();
    broken.input.remove("feedback");
    assert_eq!(
        messages_of_step(&cfg, &broken),
        Err(SentError::MissingInput {
            step_id: 1,
            key: "feedback"
        })
    );
}
