//! Writes a small dataset in each TRL format, for the test that loads them with Hugging Face
//! `datasets` (`tests/training/test_trl_datasets.py`).
//!
//! Usage: `cargo run --example training-sample -- OUT_DIR`
//!
//! The runs are made by the real loop against a scripted model (a debate whose first draft is
//! wrong and whose revision is right; baselines right and wrong on the same problem), so every
//! kind of row is there: SFT answers, pairs within a run and across runs, labelled answers,
//! critiques and rewards. Each format goes to `OUT_DIR/<format>/{train,validation,test}.jsonl`
//! with every row in train (the split is not what is tested there).

use std::collections::BTreeMap;
use std::future::Future;
use std::path::Path;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use trialogue::core::clock::ManualClock;
use trialogue::core::config::{Mode, PipelineConfig};
use trialogue::core::llm::chat::StructuredMode;
use trialogue::core::pipeline::{MemorySink, Pipeline, RunInput};
use trialogue::core::scripted::ScriptedLlm;
use trialogue::core::training::options::SftShape;
use trialogue::core::training::{
    problem_groups, DatasetFormat, Exporter, OutputFile, RunData, SplitPlan, TrainingOptions,
};
use trialogue::core::trajectory::{RunRecord, TrajectoryEntry};

// 2026-03-01T12:00:00Z
const START_MS: f64 = 1_772_366_400_000.0;

/// A scripted model, a manual clock and memory sinks never wait: one poll finishes the run.
fn ready<T>(future: impl Future<Output = T>) -> T {
    let mut future = pin!(future);
    match future
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()))
    {
        Poll::Ready(value) => value,
        Poll::Pending => panic!("a scripted run waited"),
    }
}

fn run(
    id: &str,
    problem: &str,
    truth: &str,
    config: &PipelineConfig,
    llm: ScriptedLlm,
) -> (RunRecord, Vec<TrajectoryEntry>) {
    let clock = ManualClock::starting_at(START_MS);
    let sink = MemorySink::new();
    let input = RunInput {
        run_id: id.into(),
        problem: problem.into(),
        ground_truth: Some(truth.into()),
    };
    let outcome = ready(Pipeline::new(config, &llm, &clock, &sink).run(&input));
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
    (record, outcome.entries)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let out = std::env::args()
        .nth(1)
        .ok_or("usage: training-sample OUT_DIR")?;
    let mut debate = PipelineConfig {
        mode: Mode::Debate,
        ..PipelineConfig::default()
    };
    debate.solver.system_prompt = "You solve math problems.".into();
    let mut baseline = debate.clone();
    baseline.mode = Mode::Baseline;
    let runs = [
        run(
            "run_debate",
            "What is 2+2?",
            "4",
            &debate,
            ScriptedLlm::builder()
                .solve(r"It is \boxed{5}.")
                .verify(false, "2+2 is not 5.")
                .solve(r"It is \boxed{4}.")
                .verify(true, "Correct.")
                .judge(0.9)
                .build(),
        ),
        run(
            "run_right",
            "What is 3+3?",
            "6",
            &baseline,
            ScriptedLlm::builder()
                .solve(r"It is \boxed{6}.")
                .judge(0.9)
                .build(),
        ),
        run(
            "run_wrong",
            "What is 3+3?",
            "6",
            &baseline,
            ScriptedLlm::builder()
                .solve(r"It is \boxed{7}.")
                .judge(0.2)
                .build(),
        ),
    ];
    let native = |_: &str| Some(StructuredMode::Native);
    let groups = problem_groups(runs.iter().map(|(r, _)| r.clone()).collect());
    let steps: BTreeMap<&str, &[TrajectoryEntry]> = runs
        .iter()
        .map(|(r, s)| (r.run_id.as_str(), s.as_slice()))
        .collect();
    let shapes = [
        (DatasetFormat::TrlSft, SftShape::PromptCompletion, "trl-sft"),
        (
            DatasetFormat::TrlSft,
            SftShape::Messages,
            "trl-sft-messages",
        ),
        (
            DatasetFormat::TrlPreference,
            SftShape::default(),
            "trl-preference",
        ),
        (
            DatasetFormat::TrlUnpaired,
            SftShape::default(),
            "trl-unpaired",
        ),
        (DatasetFormat::Critic, SftShape::default(), "critic"),
        (DatasetFormat::Reward, SftShape::default(), "reward"),
    ];
    for (format, sft_shape, name) in shapes {
        let options = TrainingOptions {
            format,
            sft_shape,
            split: SplitPlan {
                seed: 0,
                validation: 0.0,
                test: 0.0,
            },
            ..TrainingOptions::default()
        };
        let mut exporter = Exporter::new(&options, &native, true, 64 * 1024)?;
        let mut files: BTreeMap<OutputFile, String> = BTreeMap::new();
        let mut emit = |file: OutputFile, chunk: String| {
            files.entry(file).or_default().push_str(&chunk);
        };
        for group in &groups {
            let data: Vec<RunData<'_>> = group
                .iter()
                .map(|record| RunData {
                    record,
                    steps: steps.get(record.run_id.as_str()).copied().unwrap_or(&[]),
                })
                .collect();
            exporter.add_runs(&data, &mut emit);
        }
        exporter.finish(&mut emit);
        let dir = Path::new(&out).join(name);
        std::fs::create_dir_all(&dir)?;
        for file in OutputFile::all(format) {
            let text = files.get(&file).map(String::as_str).unwrap_or("");
            std::fs::write(dir.join(file.name()), text)?;
        }
    }
    Ok(())
}
