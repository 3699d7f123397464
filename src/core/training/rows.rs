//! Rows of every kind, built from a problem's runs, and the reasons candidates are dropped.
//!
//! A builder sees all runs of one problem at once (see [`super::export`]), which is what
//! pairing across runs needs and all the memory it needs.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use super::answers::{same_answer, RunAnswers, RunData, SolverAnswer};
use super::options::{
    AnswerRendering, AnswerScope, DatasetFormat, PairPrompt, Pairing, RewardSource, Signal,
    TrainingOptions,
};
use super::prompt::{step_prompt, Prompt, PromptOrigin, StructuredModes};
use crate::core::answer::extract_answer;
use crate::core::config::Mode;
use crate::core::role::AgentRole;
use crate::core::trajectory::TrajectoryEntry;

/// The models of a run's three agents, as configured (or as its steps recorded them).
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Models {
    /// The solver's model.
    pub solver: Option<String>,
    /// The verifier's model (none in a baseline run).
    pub verifier: Option<String>,
    /// The judge's model.
    pub judge: Option<String>,
}

impl Models {
    /// The models of `run`: its config's, else the first each role's steps recorded.
    pub fn of(run: &RunData<'_>) -> Models {
        if let Some(c) = &run.record.config {
            return Models {
                solver: Some(c.solver.model.clone()),
                verifier: (c.mode == Mode::Debate).then(|| c.verifier.model.clone()),
                judge: Some(c.judge.model.clone()),
            };
        }
        let of_role = |role: AgentRole| {
            run.steps
                .iter()
                .find(|s| s.role() == Some(role))
                .and_then(|s| s.metadata.model.clone())
        };
        Models {
            solver: of_role(AgentRole::Solver),
            verifier: of_role(AgentRole::Verifier),
            judge: of_role(AgentRole::Judge),
        }
    }
}

/// Where a row's material came from: one run and its steps.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Origin {
    /// The run.
    pub run_id: String,
    /// The steps the row is made of (the answer's; for critic rows the answer's and the
    /// verdict's).
    pub step_ids: Vec<u64>,
    /// The run's config hash.
    pub config_hash: String,
    /// The batch that ran it, if any.
    pub batch_id: Option<String>,
    /// Debate or baseline.
    pub mode: Mode,
    /// The agents' models.
    pub models: Models,
}

/// How a preference pair was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PairKind {
    /// A rejected draft and the accepted revision of one run.
    WithinRun,
    /// A good and a bad answer of two runs to the identical first-turn prompt.
    AcrossRuns,
}

/// Every row's provenance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Provenance {
    /// The runs and steps (a pair: the chosen answer's first, then the rejected one's).
    pub origins: Vec<Origin>,
    /// What decided the label, pair or reward (`ground_truth+verifier`, `judge`, …).
    pub source: String,
    /// Where the prompt came from.
    pub prompt: PromptOrigin,
    /// For pairs: how the pair was found.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pairing: Option<PairKind>,
}

/// Rewards in the original's `reward` field semantics, one per role, 1.0 or 0.0 (`None` when
/// not known for this answer).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct RoleRewards {
    /// The answer is correct.
    pub solver: Option<f64>,
    /// The verifier's verdict on it agreed with the ground truth.
    pub verifier: Option<f64>,
    /// The judge's acceptance (score ≥ threshold) agreed with the ground truth (final answers).
    pub judge: Option<f64>,
}

/// What a row says beyond its prompt.
#[derive(Debug, Clone, PartialEq)]
pub enum RowBody {
    /// SFT: the answer.
    Completion(String),
    /// Preference: the better and the worse answer to the prompt.
    Pair {
        /// The accepted / good answer.
        chosen: String,
        /// The rejected / bad answer.
        rejected: String,
    },
    /// Unpaired preference: an answer and whether it is good.
    Labelled {
        /// The answer.
        completion: String,
        /// Good (true) or bad.
        label: bool,
    },
    /// Critic: the verifier's critique, labelled by whether its verdict agreed with the
    /// ground truth.
    Critic {
        /// The verifier's output.
        completion: String,
        /// The verdict agreed with the ground truth.
        label: bool,
        /// The verifier passed the answer.
        passed: bool,
        /// The answer is correct.
        answer_correct: bool,
    },
    /// Reward: an answer, its reward and the per-role rewards.
    Reward {
        /// The answer.
        completion: String,
        /// The reward, in [0, 1].
        reward: f64,
        /// Per-role rewards.
        rewards: RoleRewards,
    },
    /// Plain: the answer and every field known about it.
    Plain {
        /// The answer.
        completion: String,
        /// Everything else, by name.
        fields: Map<String, Value>,
    },
}

/// One row of a dataset, before it is written in a format.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// The problem text (decides the split).
    pub problem: String,
    /// The prompt.
    pub prompt: Prompt,
    /// The rest.
    pub body: RowBody,
    /// Where it came from.
    pub provenance: Provenance,
    /// The thinking behind the answer(s), when the options include it.
    pub thinking: RowThinking,
}

/// The thinking the provider returned with a row's answers (as readable text), kept only when
/// [`TrainingOptions::include_thinking`] is on.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RowThinking {
    /// The answer's (for a pair, the chosen answer's).
    pub answer: Option<String>,
    /// A pair's rejected answer's.
    pub rejected: Option<String>,
}

impl Row {
    /// The row with the thinking behind its answer (and a pair's rejected answer).
    pub fn with_thinking(mut self, answer: Option<String>, rejected: Option<String>) -> Self {
        self.thinking = RowThinking { answer, rejected };
        self
    }

    /// The row's label, for the card's counts per label (SFT rows are all good; pairs and
    /// rewards have none).
    pub fn label(&self) -> Option<bool> {
        match &self.body {
            RowBody::Completion(_) => Some(true),
            RowBody::Labelled { label, .. } | RowBody::Critic { label, .. } => Some(*label),
            RowBody::Plain { fields, .. } => fields.get("label").and_then(Value::as_bool),
            RowBody::Pair { .. } | RowBody::Reward { .. } => None,
        }
    }

    /// The texts duplicates are found by: the prompt's messages, then the answer(s).
    pub fn content_parts(&self) -> Vec<&str> {
        let mut parts: Vec<&str> = self.prompt.contents().collect();
        match &self.body {
            RowBody::Completion(c)
            | RowBody::Labelled { completion: c, .. }
            | RowBody::Critic { completion: c, .. }
            | RowBody::Reward { completion: c, .. }
            | RowBody::Plain { completion: c, .. } => parts.push(c),
            RowBody::Pair { chosen, rejected } => {
                parts.push(chosen);
                parts.push(rejected);
            }
        }
        parts
    }
}

/// Why a candidate did not become a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DropReason {
    /// The run's exact prompts are unknown (imported from a trajectory file, or its provider is
    /// not set up now).
    NoExactPrompt,
    /// A step's output is not the agent's shape.
    Unreadable,
    /// SFT with final answers only: a revision before the final answer.
    NotFinal,
    /// SFT: an answer the signal rejects.
    Rejected,
    /// The signal cannot judge the answer (no ground truth, no verdict, or not the final answer
    /// for the judge).
    NoLabel,
    /// Within a run: no rejected draft followed by an accepted revision.
    NoContrast,
    /// Across runs: every answer to the prompt has the same label.
    Tie,
    /// Across runs: an answer left without a partner of the other label.
    Unmatched,
    /// A pair whose two answers are equal after normalisation.
    EqualAnswers,
    /// Critic: a verdict on a run without a ground truth.
    NoGroundTruth,
    /// Reward: the chosen reward is not known for the answer.
    NoReward,
    /// The same prompt and answer(s) as a row already written.
    Duplicate,
    /// The row breaks its format's rules (see the validators).
    Invalid,
}

impl DropReason {
    /// The reason's name in the card and in `data-*` attributes.
    pub fn as_str(self) -> &'static str {
        match self {
            DropReason::NoExactPrompt => "no_exact_prompt",
            DropReason::Unreadable => "unreadable",
            DropReason::NotFinal => "not_final",
            DropReason::Rejected => "rejected",
            DropReason::NoLabel => "no_label",
            DropReason::NoContrast => "no_contrast",
            DropReason::Tie => "tie",
            DropReason::Unmatched => "unmatched",
            DropReason::EqualAnswers => "equal_answers",
            DropReason::NoGroundTruth => "no_ground_truth",
            DropReason::NoReward => "no_reward",
            DropReason::Duplicate => "duplicate",
            DropReason::Invalid => "invalid",
        }
    }

    /// What was dropped and why, as the card says it.
    pub fn describe(self) -> &'static str {
        match self {
            DropReason::NoExactPrompt => "answers of runs whose exact prompt is unknown: runs imported from a trajectory file hold no config, or the provider that served them is not set up in Settings",
            DropReason::Unreadable => "steps whose output is not the agent's structured output",
            DropReason::NotFinal => "revisions before a run's final answer (final answers only)",
            DropReason::Rejected => "answers the signal rejects",
            DropReason::NoLabel => "answers the signal cannot judge (no ground truth, no verifier verdict, or, for the judge, not the final answer)",
            DropReason::NoContrast => "runs without a rejected draft followed by an accepted revision",
            DropReason::Tie => "first-turn answers to a prompt whose answers all share one label (ties)",
            DropReason::Unmatched => "first-turn answers left without a partner of the other label",
            DropReason::EqualAnswers => "pairs whose two answers are equal after normalisation",
            DropReason::NoGroundTruth => "verifier verdicts on runs without a ground truth",
            DropReason::NoReward => "answers whose chosen reward is not known",
            DropReason::Duplicate => "rows with the same prompt and answer(s) as a row already written (SHA-256)",
            DropReason::Invalid => "rows that break the format's documented rules",
        }
    }
}

/// Counts of dropped candidates, by reason.
pub type Drops = BTreeMap<DropReason, u64>;

fn drop(drops: &mut Drops, reason: DropReason, n: u64) {
    if n > 0 {
        *drops.entry(reason).or_default() += n;
    }
}

/// Whether `signal` accepts the answer (`None`: it cannot say).
pub fn signal_accepts(answer: &SolverAnswer<'_>, signal: Signal, threshold: f64) -> Option<bool> {
    match signal {
        Signal::GroundTruth => answer.correct,
        Signal::Verifier => answer.verdict.as_ref().map(|v| v.output.passed),
        Signal::Judge => answer
            .judgement
            .as_ref()
            .map(|j| j.output.score >= threshold),
    }
}

/// The answer's label under several signals required together: good when every one accepts
/// it, bad when any one rejects it, unknown otherwise.
pub fn label(answer: &SolverAnswer<'_>, signals: &[Signal], threshold: f64) -> Option<bool> {
    let mut all_known = true;
    for &signal in signals {
        match signal_accepts(answer, signal, threshold) {
            Some(false) => return Some(false),
            Some(true) => {}
            None => all_known = false,
        }
    }
    all_known.then_some(true)
}

/// The per-role rewards of an answer.
pub fn role_rewards(answer: &SolverAnswer<'_>, threshold: f64) -> RoleRewards {
    let unit = |b: bool| if b { 1.0 } else { 0.0 };
    RoleRewards {
        solver: answer.correct.map(unit),
        verifier: answer.verdict.as_ref().and_then(|v| v.agreed).map(unit),
        judge: match (&answer.judgement, answer.correct) {
            (Some(j), Some(correct)) => Some(unit((j.output.score >= threshold) == correct)),
            _ => None,
        },
    }
}

/// The answer's reward from `source`, when known.
pub fn reward(answer: &SolverAnswer<'_>, source: RewardSource) -> Option<f64> {
    let truth = answer.correct.map(|c| if c { 1.0 } else { 0.0 });
    let verifier = answer.verdict.as_ref().map(|v| {
        let confidence = v.output.confidence.clamp(0.0, 1.0);
        if v.output.passed {
            confidence
        } else {
            1.0 - confidence
        }
    });
    let judge = answer
        .judgement
        .as_ref()
        .map(|j| j.output.score.clamp(0.0, 1.0));
    match source {
        RewardSource::GroundTruth => truth,
        RewardSource::Verifier => verifier,
        RewardSource::Judge => judge,
        RewardSource::Combined => {
            let known: Vec<f64> = [truth, verifier, judge].into_iter().flatten().collect();
            (!known.is_empty()).then(|| known.iter().sum::<f64>() / known.len() as f64)
        }
    }
}

/// The solver's answer as an assistant message holds it.
pub fn render_answer(answer: &SolverAnswer<'_>, rendering: AnswerRendering) -> String {
    match rendering {
        AnswerRendering::Json => object_json(&answer.step.output),
        AnswerRendering::Solution => answer.output.solution.clone(),
        AnswerRendering::SolutionWithReasoning if answer.output.reasoning.trim().is_empty() => {
            answer.output.solution.clone()
        }
        AnswerRendering::SolutionWithReasoning => {
            format!("{}\n\n{}", answer.output.reasoning, answer.output.solution)
        }
    }
}

fn object_json(object: &Map<String, Value>) -> String {
    // A map of JSON values always serializes.
    serde_json::to_string(object).unwrap_or_default()
}

/// Builds the rows of one problem's runs for the chosen options.
pub struct RowBuilder<'o> {
    options: &'o TrainingOptions,
    modes: &'o dyn StructuredModes,
}

impl<'o> RowBuilder<'o> {
    /// A builder for `options`, reading providers' structured-output modes from `modes`.
    pub fn new(options: &'o TrainingOptions, modes: &'o dyn StructuredModes) -> Self {
        RowBuilder { options, modes }
    }

    /// The rows of `runs` (all about one problem), handed to `out`; drops are counted.
    pub fn build(&self, runs: &[RunData<'_>], out: &mut dyn FnMut(Row), drops: &mut Drops) {
        let mut read: Vec<RunAnswers<'_>> = Vec::with_capacity(runs.len());
        for run in runs {
            let answers = RunAnswers::read(*run);
            drop(drops, DropReason::Unreadable, answers.unreadable);
            if run.record.config.is_none() {
                drop(
                    drops,
                    DropReason::NoExactPrompt,
                    answers.answers.len() as u64,
                );
                continue;
            }
            read.push(answers);
        }
        let format = self.options.format;
        if format.is_preference() {
            if self.options.pairing != Pairing::AcrossRuns {
                for run in &read {
                    self.pair_within(run, out, drops);
                }
            }
            if self.options.pairing != Pairing::WithinRuns {
                self.pair_across(&read, out, drops);
            }
            return;
        }
        for run in &read {
            for answer in &run.answers {
                let row = match format {
                    DatasetFormat::TrlSft | DatasetFormat::OpenAiSft => self.sft(run, answer),
                    DatasetFormat::TrlUnpaired => self.unpaired(run, answer),
                    DatasetFormat::Critic => self.critic(run, answer),
                    DatasetFormat::Reward => self.reward(run, answer),
                    DatasetFormat::Plain => self.plain(run, answer),
                    DatasetFormat::TrlPreference | DatasetFormat::OpenAiPreference => continue,
                };
                match row {
                    Ok(Some(row)) => out(row),
                    Ok(None) => {}
                    Err(reason) => drop(drops, reason, 1),
                }
            }
        }
    }

    fn label(&self, answer: &SolverAnswer<'_>) -> Option<bool> {
        label(answer, &self.options.signals, self.options.judge_threshold)
    }

    fn prompt_of(
        &self,
        run: &RunAnswers<'_>,
        step: &TrajectoryEntry,
    ) -> Result<Prompt, DropReason> {
        step_prompt(run.run.record, step, self.modes)
            .map(|p| p.prompt)
            .map_err(|_| DropReason::NoExactPrompt)
    }

    fn origin(&self, run: &RunAnswers<'_>, step_ids: Vec<u64>) -> Origin {
        let record = run.run.record;
        Origin {
            run_id: record.run_id.clone(),
            step_ids,
            config_hash: record.config_hash.clone(),
            batch_id: record.batch_id.clone(),
            mode: record.mode,
            models: Models::of(&run.run),
        }
    }

    fn provenance(
        &self,
        origins: Vec<Origin>,
        source: String,
        pairing: Option<PairKind>,
    ) -> Provenance {
        Provenance {
            origins,
            source,
            prompt: PromptOrigin::Rerendered,
            pairing,
        }
    }

    fn row(
        &self,
        run: &RunAnswers<'_>,
        prompt: Prompt,
        body: RowBody,
        provenance: Provenance,
    ) -> Row {
        Row {
            problem: run.run.record.problem.clone(),
            prompt,
            body,
            provenance,
            thinking: RowThinking::default(),
        }
    }

    /// The readable thinking `step` stored, when the options include thinking.
    fn thinking(&self, step: &TrajectoryEntry) -> Option<String> {
        if !self.options.include_thinking {
            return None;
        }
        step.metadata
            .thinking
            .as_ref()
            .map(|t| t.text())
            .filter(|t| !t.trim().is_empty())
    }

    fn sft(
        &self,
        run: &RunAnswers<'_>,
        answer: &SolverAnswer<'_>,
    ) -> Result<Option<Row>, DropReason> {
        if self.options.scope == AnswerScope::FinalOnly && !answer.is_final {
            return Err(DropReason::NotFinal);
        }
        match self.label(answer) {
            None => return Err(DropReason::NoLabel),
            Some(false) => return Err(DropReason::Rejected),
            Some(true) => {}
        }
        let prompt = self.prompt_of(run, answer.step)?;
        let provenance = self.provenance(
            vec![self.origin(run, vec![answer.step.step_id])],
            self.options.signal_names(),
            None,
        );
        let body = RowBody::Completion(render_answer(answer, self.options.rendering));
        Ok(Some(
            self.row(run, prompt, body, provenance)
                .with_thinking(self.thinking(answer.step), None),
        ))
    }

    fn unpaired(
        &self,
        run: &RunAnswers<'_>,
        answer: &SolverAnswer<'_>,
    ) -> Result<Option<Row>, DropReason> {
        let label = self.label(answer).ok_or(DropReason::NoLabel)?;
        let prompt = self.prompt_of(run, answer.step)?;
        let provenance = self.provenance(
            vec![self.origin(run, vec![answer.step.step_id])],
            self.options.signal_names(),
            None,
        );
        let body = RowBody::Labelled {
            completion: render_answer(answer, self.options.rendering),
            label,
        };
        Ok(Some(
            self.row(run, prompt, body, provenance)
                .with_thinking(self.thinking(answer.step), None),
        ))
    }

    fn critic(
        &self,
        run: &RunAnswers<'_>,
        answer: &SolverAnswer<'_>,
    ) -> Result<Option<Row>, DropReason> {
        let Some(verdict) = &answer.verdict else {
            return Ok(None);
        };
        let (Some(correct), Some(agreed)) = (answer.correct, verdict.agreed) else {
            return Err(DropReason::NoGroundTruth);
        };
        let prompt = self.prompt_of(run, verdict.step)?;
        let completion = match self.options.rendering {
            AnswerRendering::Json => object_json(&verdict.step.output),
            AnswerRendering::Solution | AnswerRendering::SolutionWithReasoning => {
                verdict.output.critique.clone()
            }
        };
        let provenance = self.provenance(
            vec![self.origin(run, vec![answer.step.step_id, verdict.step.step_id])],
            Signal::GroundTruth.as_str().to_string(),
            None,
        );
        let body = RowBody::Critic {
            completion,
            label: agreed,
            passed: verdict.output.passed,
            answer_correct: correct,
        };
        Ok(Some(
            self.row(run, prompt, body, provenance)
                .with_thinking(self.thinking(verdict.step), None),
        ))
    }

    fn reward(
        &self,
        run: &RunAnswers<'_>,
        answer: &SolverAnswer<'_>,
    ) -> Result<Option<Row>, DropReason> {
        let value = reward(answer, self.options.reward).ok_or(DropReason::NoReward)?;
        let prompt = self.prompt_of(run, answer.step)?;
        let provenance = self.provenance(
            vec![self.origin(run, vec![answer.step.step_id])],
            self.options.reward.as_str().to_string(),
            None,
        );
        let body = RowBody::Reward {
            completion: render_answer(answer, self.options.rendering),
            reward: value,
            rewards: role_rewards(answer, self.options.judge_threshold),
        };
        Ok(Some(
            self.row(run, prompt, body, provenance)
                .with_thinking(self.thinking(answer.step), None),
        ))
    }

    fn plain(
        &self,
        run: &RunAnswers<'_>,
        answer: &SolverAnswer<'_>,
    ) -> Result<Option<Row>, DropReason> {
        let prompt = self.prompt_of(run, answer.step)?;
        let threshold = self.options.judge_threshold;
        let labels: Map<String, Value> = Signal::ALL
            .into_iter()
            .map(|s| {
                (
                    s.as_str().to_string(),
                    json!(signal_accepts(answer, s, threshold)),
                )
            })
            .collect();
        let rewards = role_rewards(answer, threshold);
        let fields = json!({
            "problem": run.run.record.problem,
            "ground_truth": run.run.record.ground_truth,
            "iteration": answer.iteration,
            "is_final": answer.is_final,
            "output": Value::Object(answer.step.output.clone()),
            "solution": answer.output.solution,
            "reasoning": answer.output.reasoning,
            "confidence": answer.output.confidence,
            "extracted_answer": extract_answer(&answer.output.solution),
            "correct": answer.correct,
            "verdict": answer.verdict.as_ref().map(|v| json!({
                "passed": v.output.passed,
                "critique": v.output.critique,
                "confidence": v.output.confidence,
                "agreed_with_ground_truth": v.agreed,
            })),
            "judge_score": answer.judgement.as_ref().map(|j| j.output.score),
            "labels": labels,
            "label": self.label(answer),
            "rewards": rewards,
        });
        let Value::Object(fields) = fields else {
            return Ok(None);
        };
        let provenance = self.provenance(
            vec![self.origin(run, vec![answer.step.step_id])],
            self.options.signal_names(),
            None,
        );
        let body = RowBody::Plain {
            completion: render_answer(answer, self.options.rendering),
            fields,
        };
        Ok(Some(
            self.row(run, prompt, body, provenance)
                .with_thinking(self.thinking(answer.step), None),
        ))
    }

    /// The pair of one run: the first accepted answer that follows a rejected one, against the
    /// rejected draft just before it.
    fn pair_within(&self, run: &RunAnswers<'_>, out: &mut dyn FnMut(Row), drops: &mut Drops) {
        let labels: Vec<Option<bool>> = run.answers.iter().map(|a| self.label(a)).collect();
        let found = labels.iter().enumerate().find_map(|(j, l)| {
            if *l != Some(true) {
                return None;
            }
            labels[..j]
                .iter()
                .rposition(|l| *l == Some(false))
                .map(|i| (i, j))
        });
        let Some((i, j)) = found else {
            if !run.answers.is_empty() {
                drop(drops, DropReason::NoContrast, 1);
            }
            return;
        };
        let (rejected, chosen) = (&run.answers[i], &run.answers[j]);
        if same_answer(&chosen.output.solution, &rejected.output.solution) {
            drop(drops, DropReason::EqualAnswers, 1);
            return;
        }
        let prompt_step = match self.options.pair_prompt {
            PairPrompt::FirstTurn => match run.first_answer() {
                Some(first) => first.step,
                None => {
                    drop(drops, DropReason::NoExactPrompt, 1);
                    return;
                }
            },
            PairPrompt::CritiqueConditioned => chosen.step,
        };
        let prompt = match self.prompt_of(run, prompt_step) {
            Ok(prompt) => prompt,
            Err(reason) => {
                drop(drops, reason, 1);
                return;
            }
        };
        let origin = self.origin(run, vec![chosen.step.step_id, rejected.step.step_id]);
        let provenance = self.provenance(
            vec![origin],
            self.options.signal_names(),
            Some(PairKind::WithinRun),
        );
        let body = RowBody::Pair {
            chosen: render_answer(chosen, self.options.rendering),
            rejected: render_answer(rejected, self.options.rendering),
        };
        out(self
            .row(run, prompt, body, provenance)
            .with_thinking(self.thinking(chosen.step), self.thinking(rejected.step)));
    }

    /// Pairs across runs: the first-turn answers of every run, grouped by their exact prompt;
    /// in each group good and bad answers are paired one to one in run-id order.
    fn pair_across(&self, runs: &[RunAnswers<'_>], out: &mut dyn FnMut(Row), drops: &mut Drops) {
        struct Candidate<'r, 'a> {
            run: &'r RunAnswers<'a>,
            answer: &'r SolverAnswer<'a>,
            good: bool,
        }
        let mut groups: Vec<(Prompt, Vec<Candidate<'_, '_>>)> = Vec::new();
        let mut ordered: Vec<&RunAnswers<'_>> = runs.iter().collect();
        ordered.sort_by(|a, b| a.run.record.run_id.cmp(&b.run.record.run_id));
        for run in ordered {
            let Some(answer) = run.first_answer() else {
                continue;
            };
            let Some(good) = self.label(answer) else {
                drop(drops, DropReason::NoLabel, 1);
                continue;
            };
            let prompt = match self.prompt_of(run, answer.step) {
                Ok(prompt) => prompt,
                Err(reason) => {
                    drop(drops, reason, 1);
                    continue;
                }
            };
            let candidate = Candidate { run, answer, good };
            match groups.iter_mut().find(|(p, _)| *p == prompt) {
                Some((_, members)) => members.push(candidate),
                None => groups.push((prompt, vec![candidate])),
            }
        }
        for (prompt, members) in groups {
            let (goods, bads): (Vec<_>, Vec<_>) = members.into_iter().partition(|c| c.good);
            if goods.is_empty() || bads.is_empty() {
                drop(drops, DropReason::Tie, (goods.len() + bads.len()) as u64);
                continue;
            }
            drop(
                drops,
                DropReason::Unmatched,
                goods.len().abs_diff(bads.len()) as u64,
            );
            for (chosen, rejected) in goods.iter().zip(&bads) {
                if same_answer(
                    &chosen.answer.output.solution,
                    &rejected.answer.output.solution,
                ) {
                    drop(drops, DropReason::EqualAnswers, 1);
                    continue;
                }
                let origins = vec![
                    self.origin(chosen.run, vec![chosen.answer.step.step_id]),
                    self.origin(rejected.run, vec![rejected.answer.step.step_id]),
                ];
                let provenance = self.provenance(
                    origins,
                    self.options.signal_names(),
                    Some(PairKind::AcrossRuns),
                );
                let body = RowBody::Pair {
                    chosen: render_answer(chosen.answer, self.options.rendering),
                    rejected: render_answer(rejected.answer, self.options.rendering),
                };
                out(self
                    .row(chosen.run, prompt.clone(), body, provenance)
                    .with_thinking(
                        self.thinking(chosen.answer.step),
                        self.thinking(rejected.answer.step),
                    ));
            }
        }
    }
}
