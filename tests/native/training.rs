//! Training data: every builder, the signals, splits, dedup, the validators, the card, the
//! streamed writing and the ZIP, on runs made by the real loop with a scripted LLM.
//!
//! Native only: the ZIP is read back by Python and the heap is measured by the
//! test binary's counting allocator.
#![cfg(not(target_arch = "wasm32"))]

use std::collections::BTreeMap;

use serde_json::{json, Value};
use trialogue::core::clock::ManualClock;
use trialogue::core::config::{Mode, PipelineConfig};
use trialogue::core::llm::chat::StructuredMode;
use trialogue::core::llm::structured;
use trialogue::core::llm::{AgentCall, Thinking};
use trialogue::core::pipeline::{MemorySink, Pipeline, RunInput};
use trialogue::core::role::AgentRole;
use trialogue::core::scripted::ScriptedLlm;
use trialogue::core::training::card::{dataset_card, CardInput};
use trialogue::core::training::formats::{validate_jsonl, validate_row, FormatViolation, Limits};
use trialogue::core::training::options::{
    AnswerRendering, AnswerScope, PairPrompt, Pairing, RewardSource, SftShape,
};
use trialogue::core::training::prompt::{step_prompt, PromptUnavailable};
use trialogue::core::training::rows::DropReason;
use trialogue::core::training::split::normalise_problem;
use trialogue::core::training::zip::{zip_in_memory, Crc32, DosDateTime, StoredZip};
use trialogue::core::training::DatasetArchive;
use trialogue::core::training::{
    problem_groups, DatasetFormat, ExportStats, Exporter, OutputFile, RunData, RunFilter,
    Selection, Signal, Split, SplitPlan, TrainingOptions,
};
use trialogue::core::trajectory::{RunRecord, TrajectoryEntry};

use crate::util::ready_now as block_on;

// 2026-03-01T12:00:00Z
const START_MS: f64 = 1_772_366_400_000.0;

fn config(mode: &str, system: &str) -> PipelineConfig {
    serde_json::from_value(json!({
        "solver": {
            "role": "solver", "model": "openai/gpt-4o-mini", "temperature": 0.0, "max_tokens": 512,
            "prompt_template": "Solve: {problem}\nFeedback: {feedback}", "system_prompt": system
        },
        "verifier": {
            "role": "verifier", "model": "anthropic/claude-haiku", "temperature": 0.0, "max_tokens": 256,
            "prompt_template": "Check {solution} for {problem}", "system_prompt": "You check."
        },
        "judge": {
            "model": "gemini/gemini-2.0-flash", "temperature": 0.0, "max_tokens": 256,
            "prompt_template": "Score {solution} for {problem} by {rubric}", "system_prompt": "",
            "scoring_rubric": "correctness"
        },
        "mode": mode,
        "max_iterations": 3,
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

/// A run made by the real loop, as the store keeps it, with the calls the LLM received.
struct Made {
    record: RunRecord,
    steps: Vec<TrajectoryEntry>,
    calls: Vec<AgentCall>,
}

fn make(
    id: &str,
    problem: &str,
    truth: Option<&str>,
    config: &PipelineConfig,
    llm: ScriptedLlm,
) -> Made {
    let clock = ManualClock::starting_at(START_MS);
    let sink = MemorySink::new();
    let input = RunInput {
        run_id: id.into(),
        problem: problem.into(),
        ground_truth: truth.map(str::to_string),
    };
    let outcome = block_on(Pipeline::new(config, &llm, &clock, &sink).run(&input));
    let mut record = RunRecord::start(
        id,
        config,
        config.config_hash(),
        problem,
        input.ground_truth.clone(),
        START_MS,
    );
    for step in &outcome.entries {
        record.add_step(step, START_MS);
    }
    Made {
        record,
        steps: outcome.entries,
        calls: llm.calls(),
    }
}

/// Debate: the solver answers `drafts` in turn, the verifier passes the last one only.
fn debate(id: &str, problem: &str, truth: &str, drafts: &[&str]) -> Made {
    let mut llm = ScriptedLlm::builder();
    for (i, draft) in drafts.iter().enumerate() {
        let last = i + 1 == drafts.len();
        llm = llm
            .solve(draft)
            .verify(last, if last { "Correct." } else { "Step 2 is wrong." });
    }
    make(
        id,
        problem,
        Some(truth),
        &config("debate", "You solve."),
        llm.judge(0.9).build(),
    )
}

fn baseline(id: &str, problem: &str, truth: Option<&str>, answer: &str, score: f64) -> Made {
    let llm = ScriptedLlm::builder().solve(answer).judge(score).build();
    make(id, problem, truth, &config("baseline", "You solve."), llm)
}

fn native(_: &str) -> Option<StructuredMode> {
    Some(StructuredMode::Native)
}

struct Export {
    stats: ExportStats,
    files: BTreeMap<OutputFile, String>,
}

impl Export {
    fn rows(&self, split: Split) -> Vec<Value> {
        self.files
            .get(&OutputFile::Split(split))
            .map(|t| {
                t.lines()
                    .map(|l| serde_json::from_str(l).unwrap())
                    .collect()
            })
            .unwrap_or_default()
    }

    fn all_rows(&self) -> Vec<Value> {
        Split::ALL.into_iter().flat_map(|s| self.rows(s)).collect()
    }
}

fn export_with(options: &TrainingOptions, runs: &[&Made], chunk_bytes: usize) -> Export {
    let groups = problem_groups(runs.iter().map(|m| m.record.clone()).collect());
    let mut exporter = Exporter::new(options, &native, true, chunk_bytes).unwrap();
    let mut files: BTreeMap<OutputFile, String> = BTreeMap::new();
    let mut emit =
        |file: OutputFile, chunk: String| files.entry(file).or_default().push_str(&chunk);
    for group in &groups {
        let data: Vec<RunData<'_>> = group
            .iter()
            .map(|record| {
                let made = runs
                    .iter()
                    .find(|m| m.record.run_id == record.run_id)
                    .unwrap();
                RunData {
                    record,
                    steps: &made.steps,
                }
            })
            .collect();
        exporter.add_runs(&data, &mut emit);
    }
    let stats = exporter.finish(&mut emit);
    Export { stats, files }
}

fn export(options: &TrainingOptions, runs: &[&Made]) -> Export {
    export_with(options, runs, 64 * 1024)
}

fn everything_in_train() -> SplitPlan {
    SplitPlan {
        seed: 0,
        validation: 0.0,
        test: 0.0,
    }
}

fn options(format: DatasetFormat) -> TrainingOptions {
    TrainingOptions {
        format,
        split: everything_in_train(),
        ..TrainingOptions::default()
    }
}

fn contents(messages: &Value) -> Vec<(String, String)> {
    messages
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["role"].as_str().unwrap().to_string(),
                m["content"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn sent(call: &AgentCall) -> Vec<(String, String)> {
    let mut out = Vec::new();
    if !call.system_prompt.is_empty() {
        out.push(("system".to_string(), call.system_prompt.clone()));
    }
    out.push(("user".to_string(), call.user_prompt.clone()));
    out
}

#[test]
fn every_stored_steps_prompt_is_the_one_its_call_sent() {
    let made = debate("run_a", "What is 2+2?", "4", &[r"\boxed{5}", r"\boxed{4}"]);
    assert_eq!(made.steps.len(), made.calls.len());
    for (step, call) in made.steps.iter().zip(&made.calls) {
        let prompt = step_prompt(&made.record, step, &native).unwrap().prompt;
        let got: Vec<(String, String)> = prompt
            .messages
            .iter()
            .map(|m| (m.role.as_str().to_string(), m.content.clone()))
            .collect();
        assert_eq!(got, sent(call), "step {}", step.step_id);
    }
    // The revision's prompt holds the critique it answered.
    assert!(made.calls[2].user_prompt.contains("Step 2 is wrong."));
}

#[test]
fn a_prompt_only_provider_has_the_schema_instructions_it_was_sent() {
    let made = baseline("run_a", "What is 2+2?", Some("4"), r"\boxed{4}", 0.9);
    let prompt_only = |_: &str| Some(StructuredMode::PromptOnly);
    let prompt = step_prompt(&made.record, &made.steps[0], &prompt_only)
        .unwrap()
        .prompt;
    let spec = structured::spec_for(AgentRole::Solver, StructuredMode::PromptOnly);
    let user = &prompt.messages.last().unwrap().content;
    assert_eq!(
        *user,
        structured::prompt_for_mode(&made.calls[0].user_prompt, &spec)
    );
    assert_ne!(*user, made.calls[0].user_prompt);
}

#[test]
fn imported_runs_and_unknown_providers_have_no_exact_prompt() {
    let made = baseline("run_a", "What is 2+2?", Some("4"), r"\boxed{4}", 0.9);
    let mut imported = made.record.clone();
    imported.config = None;
    assert!(matches!(
        step_prompt(&imported, &made.steps[0], &native),
        Err(PromptUnavailable::NoConfig { .. })
    ));
    let nobody = |_: &str| None;
    let err = step_prompt(&made.record, &made.steps[0], &nobody).unwrap_err();
    assert!(matches!(err, PromptUnavailable::UnknownProvider { .. }));
    assert!(err.to_string().contains("Settings"), "{err}");

    // An export counts and drops the imported run's answers, and says why in the card.
    let imported = Made {
        record: imported,
        steps: made.steps.clone(),
        calls: vec![],
    };
    let out = export(&options(DatasetFormat::TrlSft), &[&imported]);
    assert_eq!(out.stats.total_rows(), 0);
    assert_eq!(out.stats.runs_without_config, 1);
    assert_eq!(out.stats.drops.get(&DropReason::NoExactPrompt), Some(&1));
    let card = card_of(&options(DatasetFormat::TrlSft), &out.stats);
    assert!(card.contains("| `no_exact_prompt` | 1 |"), "{card}");
}

#[test]
fn sft_keeps_final_good_answers_or_every_accepted_revision() {
    let right_after_a_wrong_draft =
        debate("run_a", "What is 2+2?", "4", &[r"\boxed{5}", r"\boxed{4}"]);
    let wrong = baseline("run_b", "What is 3+3?", Some("6"), r"\boxed{7}", 0.9);
    let runs = [&right_after_a_wrong_draft, &wrong];

    let mut o = options(DatasetFormat::TrlSft);
    let out = export(&o, &runs);
    let rows = out.all_rows();
    assert_eq!(rows.len(), 1);
    let row = &rows[0];
    // The revision's own prompt (holding the critique), and the answer as stored JSON.
    assert_eq!(
        contents(&row["prompt"]),
        sent(&right_after_a_wrong_draft.calls[2])
    );
    let answer: Value =
        serde_json::from_str(row["completion"][0]["content"].as_str().unwrap()).unwrap();
    assert_eq!(
        answer,
        Value::Object(right_after_a_wrong_draft.steps[2].output.clone())
    );
    assert_eq!(row["provenance"]["origins"][0]["run_id"], "run_a");
    assert_eq!(row["provenance"]["origins"][0]["step_ids"], json!([3]));
    assert_eq!(
        row["provenance"]["origins"][0]["config_hash"],
        json!(right_after_a_wrong_draft.record.config_hash)
    );
    assert_eq!(
        row["provenance"]["origins"][0]["models"]["solver"],
        "openai/gpt-4o-mini"
    );
    assert_eq!(row["provenance"]["source"], "ground_truth");
    assert_eq!(out.stats.drops.get(&DropReason::NotFinal), Some(&1));
    assert_eq!(out.stats.drops.get(&DropReason::Rejected), Some(&1));

    // The verifier alone accepts the first draft of neither; every accepted answer is still one.
    o.scope = AnswerScope::EveryAccepted;
    o.signals = vec![Signal::Verifier];
    assert_eq!(export(&o, &runs).all_rows().len(), 1);
    // The judge accepts both final answers at 0.9; with the ground truth required too, one.
    o.signals = vec![Signal::Judge];
    assert_eq!(export(&o, &runs).all_rows().len(), 2);
    o.signals = vec![Signal::Judge, Signal::GroundTruth];
    assert_eq!(export(&o, &runs).all_rows().len(), 1);
    o.judge_threshold = 0.95;
    let out = export(&o, &runs);
    assert_eq!(out.all_rows().len(), 0);
    // The two final answers (judged 0.9) and run_a's wrong first draft.
    assert_eq!(out.stats.drops.get(&DropReason::Rejected), Some(&3));
}

#[test]
fn renderings_put_the_json_the_solution_or_reasoning_then_solution() {
    let made = baseline("run_a", "What is 2+2?", Some("4"), r"\boxed{4}", 0.9);
    let mut o = options(DatasetFormat::OpenAiSft);
    let completion = |o: &TrainingOptions| {
        let rows = export(o, &[&made]).all_rows();
        let messages = contents(&rows[0]["messages"]);
        messages.last().unwrap().1.clone()
    };
    o.rendering = AnswerRendering::Solution;
    assert_eq!(completion(&o), r"\boxed{4}");
    o.rendering = AnswerRendering::SolutionWithReasoning;
    assert_eq!(completion(&o), "scripted\n\n\\boxed{4}");
    o.rendering = AnswerRendering::Json;
    assert_eq!(
        serde_json::from_str::<Value>(&completion(&o)).unwrap(),
        Value::Object(made.steps[0].output.clone())
    );
}

#[test]
fn a_within_run_pair_has_one_prompt_the_first_turns_by_default() {
    let made = debate(
        "run_a",
        "What is 2+2?",
        "4",
        &[r"\boxed{5}", r"\boxed{6}", r"\boxed{4}"],
    );
    let mut o = options(DatasetFormat::TrlPreference);
    o.pairing = Pairing::WithinRuns;
    let rows = export(&o, &[&made]).all_rows();
    assert_eq!(rows.len(), 1);
    let row = &rows[0];
    assert_eq!(contents(&row["prompt"]), sent(&made.calls[0]));
    let text = |v: &Value| v[0]["content"].as_str().unwrap().to_string();
    assert!(text(&row["chosen"]).contains(r"\boxed{4}"));
    // The rejected draft is the one just before the accepted revision.
    assert!(text(&row["rejected"]).contains(r"\boxed{6}"));
    assert_eq!(row["provenance"]["pairing"], "within_run");
    assert_eq!(row["provenance"]["origins"][0]["step_ids"], json!([5, 3]));

    o.pair_prompt = PairPrompt::CritiqueConditioned;
    let rows = export(&o, &[&made]).all_rows();
    assert_eq!(contents(&rows[0]["prompt"]), sent(&made.calls[4]));
}

#[test]
fn across_runs_pairs_good_and_bad_first_answers_to_the_identical_prompt() {
    let p = "What is 2+2?";
    let right = baseline("run_1", p, Some("4"), r"\boxed{4}", 0.9);
    let wrong = baseline("run_2", p, Some("4"), r"\boxed{5}", 0.9);
    let wrong_again = baseline("run_3", p, Some("4"), r"\boxed{3}", 0.9);
    // A debate whose first draft is wrong: its first answer answers the same prompt.
    let debated = debate("run_4", p, "4", &[r"\boxed{9}", r"\boxed{4}"]);
    // Another system prompt: another first-turn prompt, so no partner in this group.
    let other = make(
        "run_5",
        p,
        Some("4"),
        &config("baseline", "Another system prompt."),
        ScriptedLlm::builder()
            .solve(r"\boxed{4}")
            .judge(0.9)
            .build(),
    );
    let mut o = options(DatasetFormat::OpenAiPreference);
    o.pairing = Pairing::AcrossRuns;
    let out = export(&o, &[&right, &wrong, &wrong_again, &debated, &other]);
    let rows = out.all_rows();
    // One right answer (run_1) against three wrong ones: one pair, two left without partner.
    assert_eq!(rows.len(), 1);
    assert_eq!(out.stats.drops.get(&DropReason::Unmatched), Some(&2));
    assert_eq!(out.stats.drops.get(&DropReason::Tie), Some(&1));
    let row = &rows[0];
    assert_eq!(contents(&row["input"]["messages"]), sent(&right.calls[0]));
    assert_eq!(contents(&row["input"]["messages"]), sent(&wrong.calls[0]));
    assert!(row.get("provenance").is_none());
    let provenance: Vec<Value> = out.files[&OutputFile::Provenance]
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(provenance.len(), 1);
    assert_eq!(provenance[0]["split"], "train");
    assert_eq!(provenance[0]["line"], 1);
    let origins = &provenance[0]["provenance"]["origins"];
    assert_eq!(
        (origins[0]["run_id"].as_str(), origins[1]["run_id"].as_str()),
        (Some("run_1"), Some("run_2"))
    );
    assert_eq!(provenance[0]["provenance"]["pairing"], "across_runs");
}

#[test]
fn pairs_whose_answers_are_equal_after_normalisation_are_dropped() {
    // The verifier fails "4" and then passes "4.0": equal answers, no pair.
    let made = debate(
        "run_a",
        "What is 2+2?",
        "4",
        &[r"\boxed{4}", r"\boxed{4.0}"],
    );
    let mut o = options(DatasetFormat::TrlPreference);
    o.signals = vec![Signal::Verifier];
    o.pairing = Pairing::WithinRuns;
    let out = export(&o, &[&made]);
    assert_eq!(out.stats.total_rows(), 0);
    assert_eq!(out.stats.drops.get(&DropReason::EqualAnswers), Some(&1));
    // A run whose answers all pass has no contrast.
    let passed = debate("run_b", "What is 3+3?", "6", &[r"\boxed{6}"]);
    let out = export(&o, &[&passed]);
    assert_eq!(out.stats.drops.get(&DropReason::NoContrast), Some(&1));
}

#[test]
fn unpaired_rows_label_every_answer_and_drop_those_no_signal_can_judge() {
    let made = debate("run_a", "What is 2+2?", "4", &[r"\boxed{5}", r"\boxed{4}"]);
    let no_truth = baseline("run_b", "What is 3+3?", None, r"\boxed{6}", 0.9);
    let out = export(&options(DatasetFormat::TrlUnpaired), &[&made, &no_truth]);
    let labels: Vec<Value> = out.all_rows().iter().map(|r| r["label"].clone()).collect();
    assert_eq!(labels, vec![json!(false), json!(true)]);
    assert_eq!(out.stats.labels[0], [1, 1]);
    assert_eq!(out.stats.drops.get(&DropReason::NoLabel), Some(&1));
}

#[test]
fn critic_rows_label_verdicts_against_the_ground_truth_and_count_false_passes_and_fails() {
    // The verifier fails a right answer, then passes a wrong one.
    let llm = ScriptedLlm::builder()
        .solve(r"\boxed{4}")
        .verify(false, "Looks wrong.")
        .solve(r"\boxed{5}")
        .verify(true, "Fine.")
        .judge(0.5)
        .build();
    let made = make(
        "run_a",
        "What is 2+2?",
        Some("4"),
        &config("debate", ""),
        llm,
    );
    let out = export(&options(DatasetFormat::Critic), &[&made]);
    let rows = out.all_rows();
    assert_eq!(rows.len(), 2);
    assert_eq!(contents(&rows[0]["prompt"]), sent(&made.calls[1]));
    assert_eq!(
        (
            rows[0]["label"].clone(),
            rows[0]["verdict_passed"].clone(),
            rows[0]["answer_correct"].clone()
        ),
        (json!(false), json!(false), json!(true))
    );
    assert_eq!(rows[1]["label"], json!(false));
    assert_eq!(
        rows[0]["provenance"]["origins"][0]["step_ids"],
        json!([1, 2])
    );
    let c = out.stats.critic;
    assert_eq!((c.verdicts, c.false_passes, c.false_fails), (2, 1, 1));
    let card = card_of(&options(DatasetFormat::Critic), &out.stats);
    assert!(
        card.contains("false passes (a wrong answer passed) 1 (50.0 %)"),
        "{card}"
    );
}

#[test]
fn reward_rows_carry_the_chosen_reward_and_the_per_role_rewards() {
    let made = debate("run_a", "What is 2+2?", "4", &[r"\boxed{5}", r"\boxed{4}"]);
    let mut o = options(DatasetFormat::Reward);
    let rows = export(&o, &[&made]).all_rows();
    assert_eq!(rows.len(), 2);
    assert_eq!(
        (rows[0]["reward"].clone(), rows[1]["reward"].clone()),
        (json!(0.0), json!(1.0))
    );
    // Draft 1: wrong and failed (verifier agreed); no judge. Final: right, passed, judged 0.9 ≥ 0.7.
    assert_eq!(
        rows[0]["rewards"],
        json!({"solver": 0.0, "verifier": 1.0, "judge": null})
    );
    assert_eq!(
        rows[1]["rewards"],
        json!({"solver": 1.0, "verifier": 1.0, "judge": 1.0})
    );
    // Verifier confidence 0.8 (the scripted verdicts'): failed → 0.2, passed → 0.8.
    o.reward = RewardSource::Verifier;
    let rows = export(&o, &[&made]).all_rows();
    let rewards: Vec<f64> = rows.iter().map(|r| r["reward"].as_f64().unwrap()).collect();
    assert!(
        (rewards[0] - 0.2).abs() < 1e-12 && (rewards[1] - 0.8).abs() < 1e-12,
        "{rewards:?}"
    );
    o.reward = RewardSource::Combined;
    let rows = export(&o, &[&made]).all_rows();
    let rewards: Vec<f64> = rows.iter().map(|r| r["reward"].as_f64().unwrap()).collect();
    assert!((rewards[0] - 0.1).abs() < 1e-12, "{rewards:?}");
    assert!(
        (rewards[1] - (1.0 + 0.8 + 0.9) / 3.0).abs() < 1e-12,
        "{rewards:?}"
    );
    o.reward = RewardSource::Judge;
    let out = export(&o, &[&made]);
    assert_eq!(out.stats.total_rows(), 1);
    assert_eq!(out.stats.drops.get(&DropReason::NoReward), Some(&1));
}

#[test]
fn plain_rows_hold_every_field() {
    let made = debate("run_a", "What is 2+2?", "4", &[r"\boxed{5}", r"\boxed{4}"]);
    let rows = export(&options(DatasetFormat::Plain), &[&made]).all_rows();
    assert_eq!(rows.len(), 2);
    let last = &rows[1];
    assert_eq!(last["extracted_answer"], "4");
    assert_eq!(last["correct"], true);
    assert_eq!(last["is_final"], true);
    assert_eq!(last["judge_score"], 0.9);
    assert_eq!(last["verdict"]["passed"], true);
    assert_eq!(
        last["labels"],
        json!({"ground_truth": true, "verifier": true, "judge": true})
    );
    assert_eq!(rows[0]["labels"]["judge"], Value::Null);
}

#[test]
fn a_problem_is_never_in_two_splits_whatever_its_runs_configs_and_spacing() {
    let mut runs = Vec::new();
    for i in 0..60 {
        let problem = format!("Problem number {i}: what is {i}+{i}?");
        let spaced = format!("  problem   number {i}:\nwhat is {i}+{i}?  ");
        let answer = format!(r"\boxed{{{}}}", 2 * i);
        runs.push(baseline(
            &format!("run_{i:03}_a"),
            &problem,
            Some(&(2 * i).to_string()),
            &answer,
            0.9,
        ));
        runs.push(debate(
            &format!("run_{i:03}_b"),
            &spaced,
            &(2 * i).to_string(),
            &[r"\boxed{0}", &answer],
        ));
    }
    let refs: Vec<&Made> = runs.iter().collect();
    let o = TrainingOptions {
        format: DatasetFormat::TrlUnpaired,
        split: SplitPlan {
            seed: 7,
            validation: 0.2,
            test: 0.2,
        },
        ..TrainingOptions::default()
    };
    let out = export(&o, &refs);
    let mut seen: BTreeMap<String, Split> = BTreeMap::new();
    for split in Split::ALL {
        for row in out.rows(split) {
            let user = row["prompt"].as_array().unwrap().last().unwrap()["content"]
                .as_str()
                .unwrap()
                .to_string();
            let problem = normalise_problem(
                user.trim_start_matches("Solve: ")
                    .split("\nFeedback:")
                    .next()
                    .unwrap(),
            );
            let before = seen.insert(problem.clone(), split);
            assert!(
                before.is_none() || before == Some(split),
                "{problem} in {before:?} and {split:?}"
            );
        }
    }
    assert_eq!(seen.len(), 60);
    // Each split got some problems, and the card's problem counts are these.
    let per_split: Vec<usize> = Split::ALL
        .iter()
        .map(|s| seen.values().filter(|v| *v == s).count())
        .collect();
    assert!(per_split.iter().all(|n| *n > 0), "{per_split:?}");
    assert_eq!(out.stats.problems.map(|n| n as usize).to_vec(), per_split);
    // Another selection (half the runs) puts each problem where it was.
    let half: Vec<&Made> = runs.iter().step_by(2).collect();
    let again = export(&o, &half);
    for split in Split::ALL {
        for row in again.rows(split) {
            let user = row["prompt"].as_array().unwrap().last().unwrap()["content"]
                .as_str()
                .unwrap()
                .to_string();
            let problem = normalise_problem(
                user.trim_start_matches("Solve: ")
                    .split("\nFeedback:")
                    .next()
                    .unwrap(),
            );
            assert_eq!(seen[&problem], split);
        }
    }
}

#[test]
fn the_same_prompt_and_answer_is_written_once() {
    let a = baseline("run_a", "What is 2+2?", Some("4"), r"\boxed{4}", 0.9);
    let b = baseline("run_b", "What is 2+2?", Some("4"), r"\boxed{4}", 0.8);
    let out = export(&options(DatasetFormat::TrlSft), &[&a, &b]);
    assert_eq!(out.stats.total_rows(), 1);
    assert_eq!(out.stats.drops.get(&DropReason::Duplicate), Some(&1));
}

#[test]
fn selections_filter_by_hash_models_mode_dates_batch_and_status() {
    let mut a = baseline("run_a", "p", Some("1"), r"\boxed{1}", 0.9).record;
    a.batch_id = Some("batch_1".into());
    let b = debate("run_b", "q", "1", &[r"\boxed{1}"]).record;
    let everything = RunFilter::default();
    assert!(everything.matches(&a) && everything.matches(&b));
    let by = |f: RunFilter| {
        [&a, &b]
            .iter()
            .filter(|r| f.matches(r))
            .map(|r| r.run_id.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        by(RunFilter {
            mode: Some(Mode::Debate),
            ..RunFilter::default()
        }),
        ["run_b"]
    );
    assert_eq!(
        by(RunFilter {
            batch_id: Some("batch_1".into()),
            ..RunFilter::default()
        }),
        ["run_a"]
    );
    assert_eq!(
        by(RunFilter {
            config_hash: Some(b.config_hash.to_uppercase()),
            ..RunFilter::default()
        }),
        ["run_b"]
    );
    assert_eq!(
        by(RunFilter {
            solver_model: Some("openai/gpt-4o-mini".into()),
            ..RunFilter::default()
        })
        .len(),
        2
    );
    assert!(by(RunFilter {
        judge_model: Some("other".into()),
        ..RunFilter::default()
    })
    .is_empty());
    assert!(by(RunFilter {
        from_ms: Some(START_MS + 1.0),
        ..RunFilter::default()
    })
    .is_empty());
    assert_eq!(
        by(RunFilter {
            until_ms: Some(START_MS + 1.0),
            ..RunFilter::default()
        })
        .len(),
        2
    );
    let mut running = a.clone();
    running.status = trialogue::core::trajectory::RunStatus::Interrupted;
    assert!(!RunFilter {
        completed_only: true,
        ..RunFilter::default()
    }
    .matches(&running));
    assert!(Selection::Batch("batch_1".into()).matches(&a));
    assert!(!Selection::Runs(vec!["run_a".into()]).matches(&b));
    assert_eq!(
        trialogue::core::training::selection::day_start_ms("2026-03-01"),
        Some(START_MS - 12.0 * 3_600_000.0)
    );
    assert_eq!(
        trialogue::core::training::selection::day_start_ms("March 1"),
        None
    );
}

fn limits() -> Limits {
    Limits {
        token_limit: 65_536,
    }
}

fn violation(format: DatasetFormat, row: Value) -> FormatViolation {
    validate_row(format, &row, limits()).unwrap_err()
}

#[test]
fn the_openai_validators_enforce_the_documented_rules() {
    use DatasetFormat::{OpenAiPreference as Dpo, OpenAiSft as Sft};
    let good = json!({"messages": [
        {"role": "system", "content": "s"}, {"role": "user", "content": "u"}, {"role": "assistant", "content": "a"}
    ]});
    assert_eq!(validate_row(Sft, &good, limits()), Ok(()));
    assert!(matches!(
        violation(Sft, json!({"messages": [{"role": "user", "content": "u"}]})),
        FormatViolation::LastNotAssistant
    ));
    assert!(matches!(
        violation(
            Sft,
            json!({"messages": [{"role": "robot", "content": "u"}]})
        ),
        FormatViolation::UnknownRole { .. }
    ));
    assert!(matches!(
        violation(
            Sft,
            json!({"messages": [{"role": "user", "content": "u", "extra": 1}]})
        ),
        FormatViolation::UnknownKey { .. }
    ));
    assert!(matches!(
        violation(
            Sft,
            json!({"messages": [{"role": "user", "content": " "}, {"role": "assistant", "content": "a"}]})
        ),
        FormatViolation::EmptyContent { index: 0, .. }
    ));
    assert!(matches!(
        violation(Sft, json!({"messages": []})),
        FormatViolation::NoMessages(_)
    ));
    assert!(matches!(
        violation(Sft, json!({"rows": []})),
        FormatViolation::MissingField(_)
    ));
    assert!(matches!(
        violation(Sft, json!([1])),
        FormatViolation::NotAnObject
    ));
    let long = "x".repeat(70_000);
    assert!(matches!(
        violation(
            Sft,
            json!({"messages": [{"role": "user", "content": long}, {"role": "assistant", "content": "a"}]})
        ),
        FormatViolation::TooManyTokens { limit: 65_536, .. }
    ));

    let pair = |input: Value, preferred: Value, non: Value| json!({"input": {"messages": input}, "preferred_output": preferred, "non_preferred_output": non});
    let user = json!([{"role": "user", "content": "u"}]);
    let a = json!([{"role": "assistant", "content": "a"}]);
    let b = json!([{"role": "assistant", "content": "b"}]);
    assert_eq!(
        validate_row(Dpo, &pair(user.clone(), a.clone(), b.clone()), limits()),
        Ok(())
    );
    assert!(matches!(
        violation(Dpo, pair(user.clone(), a.clone(), a.clone())),
        FormatViolation::SameAnswers
    ));
    assert!(matches!(
        violation(
            Dpo,
            pair(
                json!([{"role": "assistant", "content": "x"}]),
                a.clone(),
                b.clone()
            )
        ),
        FormatViolation::InputEndsWithAssistant
    ));
    assert!(matches!(
        violation(
            Dpo,
            pair(
                user.clone(),
                json!([{"role": "user", "content": "a"}]),
                b.clone()
            )
        ),
        FormatViolation::NotAssistant { .. }
    ));
    let two = json!([{"role": "assistant", "content": "a"}, {"role": "assistant", "content": "c"}]);
    assert!(matches!(
        violation(Dpo, pair(user, two, b)),
        FormatViolation::OutputCount { count: 2, .. }
    ));
}

#[test]
fn the_trl_validators_check_each_types_columns() {
    use DatasetFormat::*;
    let p = json!([{"role": "user", "content": "u"}]);
    let a = json!([{"role": "assistant", "content": "a"}]);
    let b = json!([{"role": "assistant", "content": "b"}]);
    assert_eq!(
        validate_row(TrlSft, &json!({"prompt": p, "completion": a}), limits()),
        Ok(())
    );
    assert_eq!(
        validate_row(TrlSft, &json!({"messages": [p[0], a[0]]}), limits()),
        Ok(())
    );
    assert!(matches!(
        violation(TrlSft, json!({"messages": [a[0], p[0]]})),
        FormatViolation::LastNotAssistant
    ));
    assert!(matches!(
        violation(TrlSft, json!({"prompt": p, "completion": p})),
        FormatViolation::NotAssistant { .. }
    ));
    assert_eq!(
        validate_row(
            TrlPreference,
            &json!({"prompt": p, "chosen": a, "rejected": b}),
            limits()
        ),
        Ok(())
    );
    assert!(
        matches!(violation(TrlPreference, json!({"prompt": p, "chosen": a})), FormatViolation::MissingField(f) if f == "rejected")
    );
    assert!(matches!(
        violation(
            TrlUnpaired,
            json!({"prompt": p, "completion": a, "label": "yes"})
        ),
        FormatViolation::WrongType { .. }
    ));
    assert!(matches!(
        violation(Critic, json!({"prompt": p, "completion": a, "label": true})),
        FormatViolation::MissingField(_)
    ));
    assert!(matches!(
        violation(Reward, json!({"prompt": p, "completion": a, "reward": 1.5})),
        FormatViolation::Reward
    ));
    // A file: every line is checked, and the first bad one is named.
    let file = format!(
        "{}\n{}\n",
        json!({"prompt": p, "completion": a, "label": true}),
        json!({"prompt": p})
    );
    let err = validate_jsonl(TrlUnpaired, &file, limits()).unwrap_err();
    assert_eq!(err.line, 2);
}

#[test]
fn every_file_of_every_format_validates() {
    let runs = [
        debate("run_a", "What is 2+2?", "4", &[r"\boxed{5}", r"\boxed{4}"]),
        baseline("run_b", "What is 2+2?", Some("4"), r"\boxed{3}", 0.3),
        baseline("run_c", "What is 3+3?", Some("6"), r"\boxed{6}", 0.9),
    ];
    let refs: Vec<&Made> = runs.iter().collect();
    for format in DatasetFormat::ALL {
        for shape in [SftShape::PromptCompletion, SftShape::Messages] {
            let o = TrainingOptions {
                format,
                sft_shape: shape,
                ..options(format)
            };
            let out = export(&o, &refs);
            assert!(out.stats.total_rows() > 0, "{format:?}");
            for split in Split::ALL {
                let text = out
                    .files
                    .get(&OutputFile::Split(split))
                    .cloned()
                    .unwrap_or_default();
                let rows = validate_jsonl(format, &text, limits())
                    .unwrap_or_else(|e| panic!("{format:?} {split:?}: {e}"));
                assert_eq!(rows as u64, out.stats.rows[split.index()]);
            }
        }
    }
}

fn card_of(options: &TrainingOptions, stats: &ExportStats) -> String {
    dataset_card(CardInput {
        options,
        selection: &Selection::default().describe(),
        stats,
        created_ms: START_MS,
    })
}

#[test]
fn the_card_front_matter_lists_the_splits_and_their_counts() {
    let runs: Vec<Made> = (0..12)
        .map(|i| {
            baseline(
                &format!("run_{i}"),
                &format!("Problem {i}"),
                Some("1"),
                r"\boxed{1}",
                0.9,
            )
        })
        .collect();
    let refs: Vec<&Made> = runs.iter().collect();
    let o = TrainingOptions {
        split: SplitPlan {
            seed: 3,
            validation: 0.3,
            test: 0.3,
        },
        ..TrainingOptions::default()
    };
    let out = export(&o, &refs);
    let card = card_of(&o, &out.stats);
    let front = card
        .strip_prefix("---\n")
        .unwrap()
        .split("\n---\n")
        .next()
        .unwrap();
    let yaml: Value = serde_norway::from_str(front).unwrap();
    let files: Vec<(String, String)> = yaml["configs"][0]["data_files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["split"].as_str().unwrap().into(),
                f["path"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(
        files,
        [
            ("train", "train.jsonl"),
            ("validation", "validation.jsonl"),
            ("test", "test.jsonl")
        ]
        .map(|(a, b)| (a.to_string(), b.to_string()))
    );
    let counts: Vec<u64> = yaml["dataset_info"]["splits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["num_examples"].as_u64().unwrap())
        .collect();
    assert_eq!(counts, out.stats.rows.to_vec());
    assert_eq!(counts.iter().sum::<u64>(), 12);
    assert!(card.contains("TRL 0.24.0"), "{card}");
    assert!(card.contains("`openai/gpt-4o-mini`"));
    assert!(card.contains(&format!("`{}`", runs[0].record.config_hash)));
    assert!(card.contains("Signal: `ground_truth`"));
}

#[test]
fn rows_leave_in_chunks_and_the_exporter_never_holds_a_file() {
    // 20,000 runs of five steps: 100,000 steps, each problem its own group.
    let template = debate("run_t", "What is 2+2?", "4", &[r"\boxed{5}", r"\boxed{4}"]);
    assert_eq!(template.steps.len(), 5);
    let o = TrainingOptions {
        format: DatasetFormat::TrlUnpaired,
        ..TrainingOptions::default()
    };
    let chunk = 16 * 1024;
    let mut largest_chunk = 0usize;
    let mut chunks = 0u64;
    let mut lines = 0u64;
    let mut bytes = 0u64;
    let mut steps = 0u64;
    let mut stats = None;
    let ((), used) = heap_counter::measure(|| {
        let mut exporter = Exporter::new(&o, &native, true, chunk).unwrap();
        let mut take = |text: String| {
            largest_chunk = largest_chunk.max(text.len());
            lines += text.lines().count() as u64;
            bytes += text.len() as u64;
            chunks += 1;
        };
        for i in 0..20_000u32 {
            let mut record = template.record.clone();
            record.run_id = format!("run_{i:06}");
            record.problem = format!("What is 2+2? (copy {i})");
            let steps_of_run: Vec<TrajectoryEntry> = template
                .steps
                .iter()
                .map(|s| {
                    let mut s = s.clone();
                    s.run_id = record.run_id.clone();
                    s.input.insert("problem".into(), json!(record.problem));
                    s
                })
                .collect();
            steps += steps_of_run.len() as u64;
            exporter.add_runs(
                &[RunData {
                    record: &record,
                    steps: &steps_of_run,
                }],
                &mut |_, text| take(text),
            );
        }
        stats = Some(exporter.finish(&mut |_, text| take(text)));
    });
    let stats = stats.unwrap();
    assert_eq!(steps, 100_000);
    assert_eq!(lines, stats.total_rows());
    assert_eq!(stats.total_rows(), 40_000);
    // A chunk is handed out as soon as it reaches the chunk size: never much more than that.
    assert!(largest_chunk < chunk + 2_048, "{largest_chunk}");
    assert!(chunks > 100, "{chunks}");
    // All the exporter keeps per row is dedup's 32-byte digest (in a hash set that doubles as it
    // grows); the rows themselves leave in chunks. Holding the files would take every byte
    // written, several times this bound.
    let bound = 100 * stats.total_rows() + (1 << 20);
    assert!(bytes > 4 * bound, "{bytes} bytes written");
    assert!(
        used.bytes_max < bound,
        "peak heap {} bytes for {bytes} bytes written",
        used.bytes_max
    );
}

#[test]
fn the_zip_holds_each_file_with_its_crc_and_python_reads_it() {
    let files: [(&str, &[u8]); 3] = [
        ("train.jsonl", b"{\"a\":1}\n{\"a\":2}\n"),
        ("test.jsonl", b""),
        ("README.md", "# Card \u{2014} \u{00e9}\n".as_bytes()),
    ];
    let stamp = DosDateTime::from_epoch_ms(START_MS);
    let bytes = zip_in_memory(&files, stamp).unwrap();
    // Chunked updates give the same archive.
    let mut zip = StoredZip::new(stamp);
    let i = zip.add_entry("train.jsonl");
    zip.update(i, b"{\"a\":1}\n");
    zip.update(i, b"{\"a\":2}\n");
    zip.add_entry("test.jsonl");
    let r = zip.add_entry("README.md");
    zip.update(r, files[2].1);
    let layout = zip.finish().unwrap();
    let mut chunked = Vec::new();
    for (header, (_, data)) in layout.local_headers.iter().zip(&files) {
        chunked.extend_from_slice(header);
        chunked.extend_from_slice(data);
    }
    chunked.extend_from_slice(&layout.trailer);
    assert_eq!(chunked, bytes);
    assert_eq!(
        layout.archive_bytes(files.iter().map(|f| f.1.len() as u64)),
        bytes.len() as u64
    );

    let dir = std::env::temp_dir().join(format!("trialogue-zip-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("data.zip");
    std::fs::write(&path, &bytes).unwrap();
    let script = r#"
import json, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z:
    assert z.testzip() is None
    print(json.dumps([[i.filename, i.compress_type, i.CRC, i.date_time[:5], z.read(i).decode("utf-8")] for i in z.infolist()]))
"#;
    let out = std::process::Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(&path)
        .output()
        .expect("python3 runs");
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let read: Value = serde_json::from_slice(&out.stdout).unwrap();
    let expected: Vec<Value> = files
        .iter()
        .map(|(name, data)| {
            json!([
                name,
                0,
                Crc32::of(data),
                [2026, 3, 1, 12, 0],
                std::str::from_utf8(data).unwrap()
            ])
        })
        .collect();
    assert_eq!(read, Value::Array(expected));
}

#[test]
fn bad_options_are_refused_with_a_reason() {
    let o = TrainingOptions {
        signals: vec![],
        ..TrainingOptions::default()
    };
    let err = Exporter::new(&o, &native, false, 1).err().unwrap();
    assert!(err.to_string().contains("signal"), "{err}");
    let o = TrainingOptions {
        judge_threshold: 2.0,
        ..TrainingOptions::default()
    };
    assert!(Exporter::new(&o, &native, false, 1).is_err());
}

/// Unzips `bytes` with Python's `zipfile` (after its own CRC check): `(name, text)` per entry.
fn python_unzip(bytes: &[u8], tag: &str) -> Vec<(String, String)> {
    let dir = std::env::temp_dir().join(format!("trialogue-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("data.zip");
    std::fs::write(&path, bytes).unwrap();
    let script = r#"
import json, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z:
    assert z.testzip() is None
    print(json.dumps([[i.filename, z.read(i).decode("utf-8")] for i in z.infolist()]))
"#;
    let out = std::process::Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(&path)
        .output()
        .expect("python3 runs");
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn the_download_archive_holds_every_split_the_provenance_and_the_card_as_exported() {
    let runs = [
        debate("run_a", "What is 2+2?", "4", &[r"\boxed{5}", r"\boxed{4}"]),
        baseline("run_b", "What is 2+2?", Some("4"), r"\boxed{3}", 0.3),
        baseline("run_c", "What is 3+3?", Some("6"), r"\boxed{6}", 0.9),
        baseline("run_d", "What is 3+3?", Some("6"), r"\boxed{7}", 0.2),
    ];
    let refs: Vec<&Made> = runs.iter().collect();
    for format in [DatasetFormat::OpenAiPreference, DatasetFormat::TrlSft] {
        let o = TrainingOptions {
            format,
            ..TrainingOptions::default()
        };
        let out = export_with(&o, &refs, 64);
        let mut archive = DatasetArchive::new(format, DosDateTime::from_epoch_ms(START_MS));
        // Chunks as the exporter would hand them out, several per file.
        let mut data: Vec<Vec<u8>> = vec![Vec::new(); archive.names().len()];
        for (file, text) in &out.files {
            for line in text.split_inclusive('\n') {
                let entry = archive
                    .add_chunk(*file, line)
                    .expect("a file of the format");
                data[entry].extend_from_slice(line.as_bytes());
            }
        }
        let card = card_of(&o, &out.stats);
        let card_entry = archive.add_card(&card);
        data[card_entry].extend_from_slice(card.as_bytes());
        let layout = archive.finish().unwrap();
        let mut bytes = Vec::new();
        for (header, entry) in layout.local_headers.iter().zip(&data) {
            bytes.extend_from_slice(header);
            bytes.extend_from_slice(entry);
        }
        bytes.extend_from_slice(&layout.trailer);

        let read = python_unzip(&bytes, "archive");
        let names: Vec<&str> = read.iter().map(|(n, _)| n.as_str()).collect();
        let mut expected = vec!["train.jsonl", "validation.jsonl", "test.jsonl"];
        if format.is_openai() {
            expected.push("provenance.jsonl");
        }
        expected.push("README.md");
        assert_eq!(names, expected, "{format:?}");
        assert_eq!(read.last().unwrap().1, card);
        for split in Split::ALL {
            let text = &read[split.index()].1;
            assert_eq!(
                Some(text),
                out.files
                    .get(&OutputFile::Split(split))
                    .or(Some(&String::new()))
            );
            let rows = validate_jsonl(format, text, limits()).unwrap();
            assert_eq!(rows as u64, out.stats.rows[split.index()]);
        }
        assert!(out.stats.total_rows() > 0, "{format:?}");
    }
}

#[test]
fn thinking_goes_into_trl_assistant_turns_only_when_asked_and_never_into_openai_formats() {
    let mut run = debate("run_t", "What is 2+2?", "4", &[r"\boxed{4}"]);
    assert_eq!(run.steps[0].agent, "solver");
    run.steps[0].metadata.thinking = Some(Thinking::Text("Two and two make four.".into()));
    let runs = [&run];

    let mut o = options(DatasetFormat::TrlSft);
    let off = export(&o, &runs).all_rows();
    assert_eq!(off.len(), 1);
    assert_eq!(off[0]["completion"][0].get("reasoning_content"), None);

    o.include_thinking = true;
    let on = export(&o, &runs).all_rows();
    assert_eq!(
        on[0]["completion"][0]["reasoning_content"],
        "Two and two make four."
    );
    assert_eq!(
        on[0]["completion"][0]["content"],
        off[0]["completion"][0]["content"]
    );

    o.sft_shape = SftShape::Messages;
    let messages = export(&o, &runs).all_rows();
    let last = messages[0]["messages"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(last["role"], "assistant");
    assert_eq!(last["reasoning_content"], "Two and two make four.");

    let mut openai = options(DatasetFormat::OpenAiSft);
    openai.include_thinking = true;
    let rows = export(&openai, &runs).all_rows();
    assert_eq!(rows.len(), 1);
    assert!(rows[0]["messages"]
        .as_array()
        .unwrap()
        .iter()
        .all(|m| m.get("reasoning_content").is_none()));
}
