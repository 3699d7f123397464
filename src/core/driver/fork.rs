//! Fork and re-judge: a new run made from a stored one, through the same drive as every run.
//!
//! - **Fork** ([`RunDriver::fork`]): the source's steps before step N are copied into a new
//!   run, each marked with `metadata.forked_from` (the source run and step), then the loop goes
//!   on live from step N with the edited config, as a resumed run would.
//! - **Re-judge** ([`RunDriver::rejudge`]): a fork at the source's judge step with another judge
//!   config, so the judge's call is the only one made.
//!
//! Why a re-judge is a derived run and not a new record kind beside the source: the source's
//! record and steps are never written, so its JSONL export stays byte for byte what it was;
//! and the new judgement is a complete run of its own, with the carried steps and the new
//! judge step, so it shows, prices, budgets and exports like any run (its JSONL is the source's
//! trajectory judged again, each carried step saying where it came from).
//!
//! The source is only read. Every check (the step exists, the carried steps fit the edited
//! config's loop) is made before anything is stored, so a refusal stores nothing.

use crate::core::clock::Clock;
use crate::core::config::{JudgeConfig, PipelineConfig};
use crate::core::pipeline::LoopState;
use crate::core::run_store::RunStore;
use crate::core::sorting;
use crate::core::trajectory::{DerivationKind, RunOrigin, RunRecord, StepOrigin, TrajectoryEntry};

use super::error::{StartError, Work};
use super::locks::TabLocks;
use super::run::{Drive, Finished, LlmSource, RunDriver, RunEvent};
use super::spend::Uncommitted;

/// A new run to make from a stored one.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Fork<'f> {
    /// The source run's record (only read).
    pub source: &'f RunRecord,
    /// The source run's steps, any order (only read).
    pub steps: &'f [TrajectoryEntry],
    /// The first step called live; the steps before it are carried over.
    pub at_step: u64,
    /// The config the new run goes on with (the source's, edited).
    pub config: &'f PipelineConfig,
}

/// One run of a set judged again ([`RunDriver::rejudge_all`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Rejudged {
    /// The source run.
    pub source_run: String,
    /// Its judge's score.
    pub score_was: Option<f64>,
    /// The new run's record, or why there is none.
    pub result: Result<RunRecord, StartError>,
}

/// The source's config with `judge` in place of its judge: what a re-judge runs with.
pub fn rejudge_config(source: &PipelineConfig, judge: JudgeConfig) -> PipelineConfig {
    PipelineConfig {
        judge,
        ..source.clone()
    }
}

impl<L: LlmSource, C: Clock, S: RunStore, K: TabLocks> RunDriver<'_, L, C, S, K> {
    /// Forks stored run `fork.source` at step `fork.at_step` into a new run and drives it to its
    /// end: steps `1..at_step` are copied (with `forked_from` provenance), the rest called live
    /// with `fork.config`. The source is never changed.
    pub async fn fork(&self, fork: Fork<'_>) -> Result<Finished, StartError> {
        self.derive(fork, DerivationKind::Fork).await
    }

    /// Judges stored run `source` again with `judge`: every step but the judge's is carried
    /// into a new run, and the judge's call is the only one made. The source is never changed.
    pub async fn rejudge(
        &self,
        source: &RunRecord,
        steps: &[TrajectoryEntry],
        judge: JudgeConfig,
    ) -> Result<Finished, StartError> {
        let Some(config) = &source.config else {
            return Err(StartError::NoConfig {
                run_id: source.run_id.clone(),
                config_hash: source.config_hash.clone(),
                current_hash: String::new(),
            });
        };
        let Some(judge_step) = steps.iter().find(|e| e.terminal).map(|e| e.step_id) else {
            return Err(StartError::NotJudged {
                run_id: source.run_id.clone(),
                status: source.status,
            });
        };
        let config = rejudge_config(config, judge);
        let fork = Fork {
            source,
            steps,
            at_step: judge_step,
            config: &config,
        };
        self.derive(fork, DerivationKind::Rejudge).await
    }

    /// Judges each of `runs` (records with their steps) again with `judge`, one after the
    /// other, each into a new run (a batch's re-judge); a run that cannot be judged again is
    /// reported, and the others go on.
    pub async fn rejudge_all<'r>(
        &self,
        runs: impl IntoIterator<Item = (&'r RunRecord, &'r [TrajectoryEntry])>,
        judge: &JudgeConfig,
    ) -> Vec<Rejudged> {
        let mut out = Vec::new();
        for (source, steps) in runs {
            let result = self
                .rejudge(source, steps, judge.clone())
                .await
                .map(|finished| finished.record);
            out.push(Rejudged {
                source_run: source.run_id.clone(),
                score_was: source.judge_score,
                result,
            });
        }
        out
    }

    async fn derive(&self, fork: Fork<'_>, kind: DerivationKind) -> Result<Finished, StartError> {
        let source = fork.source;
        let mut steps = fork.steps.to_vec();
        sorting::sort_by_key(&mut steps, |e| e.step_id);
        if fork.at_step == 0 || !steps.iter().any(|e| e.step_id == fork.at_step) {
            return Err(StartError::NoSuchStep {
                run_id: source.run_id.clone(),
                step_id: fork.at_step,
                steps: steps.len(),
            });
        }
        let mut carried: Vec<TrajectoryEntry> = steps
            .into_iter()
            .filter(|e| e.step_id < fork.at_step)
            .collect();
        for entry in &mut carried {
            entry.metadata.forked_from = Some(StepOrigin {
                run_id: source.run_id.clone(),
                step_id: entry.step_id,
            });
        }
        // Checked before anything is stored: steps that do not fit the edited config's loop
        // (a fork past the new max iterations, a baseline config over debate steps) refuse.
        LoopState::replay(
            fork.config.mode,
            fork.config.max_iterations,
            &source.run_id,
            &carried,
        )
        .map_err(|error| StartError::Resume {
            run_id: source.run_id.clone(),
            error,
        })?;
        // The carried steps were paid by the source: the new run's budget is for its own calls.
        let run_gate = self.run_gate(fork.config, 0.0)?;
        let mut record = RunRecord::start(
            "",
            fork.config,
            fork.config.config_hash(),
            source.problem.clone(),
            source.ground_truth.clone(),
            self.clock.now_ms(),
        );
        record.derived_from = Some(RunOrigin {
            kind,
            run_id: source.run_id.clone(),
            step_id: fork.at_step,
        });
        self.store.create_run_under_free_id(&mut record).await?;
        let _lock = self.locks.claim(&Work::Run(record.run_id.clone())).await;
        for entry in &mut carried {
            entry.run_id.clone_from(&record.run_id);
            record = self.store.append_step(&record, entry).await?;
        }
        self.emit(&RunEvent::Started {
            record: &record,
            committed: &carried,
        });
        let drive = Drive {
            config: fork.config,
            record,
            committed: Some(carried),
            carried: Uncommitted::default(),
            run_gate,
            first_call_stored: false,
        };
        self.drive(drive).await
    }
}
