//! The export: runs in, problem by problem; rows built, split, deduplicated, validated and
//! written in chunks; counts for the page and the card out.
//!
//! Runs come in groups of one problem ([`problem_groups`]), so pairing across runs needs only
//! one problem's runs in memory, and rows leave as chunks of whole lines of about
//! `chunk_bytes` each: a large selection is never one string. The same exporter with
//! writing off gives the page's live counts.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::answers::RunData;
use super::dedup::Dedup;
use super::formats::{provenance_value, row_value, validate_row, Limits};
use super::options::{DatasetFormat, OptionsError, TrainingOptions};
use super::prompt::StructuredModes;
use super::rows::{DropReason, Drops, PairKind, Row, RowBody, RowBuilder};
use super::split::{normalise_problem, Split};
use crate::core::trajectory::RunRecord;

/// A file of the download.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum OutputFile {
    /// A split's rows.
    Split(Split),
    /// OpenAI formats: each row's provenance, by split and line.
    Provenance,
}

impl OutputFile {
    /// The file's name inside the archive.
    pub fn name(self) -> &'static str {
        match self {
            OutputFile::Split(Split::Train) => "train.jsonl",
            OutputFile::Split(Split::Validation) => "validation.jsonl",
            OutputFile::Split(Split::Test) => "test.jsonl",
            OutputFile::Provenance => "provenance.jsonl",
        }
    }

    /// The files a dataset in `format` has, in archive order (the card comes after them).
    pub fn all(format: DatasetFormat) -> Vec<OutputFile> {
        let mut files: Vec<OutputFile> = Split::ALL.into_iter().map(OutputFile::Split).collect();
        if format.is_openai() {
            files.push(OutputFile::Provenance);
        }
        files
    }
}

/// The name of the dataset card in the archive.
pub const CARD_FILE: &str = "README.md";

/// What an export counted: the page shows some, the card all.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ExportStats {
    /// Rows written per split (train, validation, test).
    pub rows: [u64; 3],
    /// Rows per split and label: `[split][0]` bad, `[split][1]` good (rows that have a label).
    pub labels: [[u64; 2]; 3],
    /// Distinct problems per split.
    pub problems: [u64; 3],
    /// Preference rows by how the pair was found.
    pub pairs: BTreeMap<&'static str, u64>,
    /// Candidates dropped, by reason.
    pub drops: Drops,
    /// Runs selected.
    pub runs_selected: u64,
    /// Selected runs that gave at least one row.
    pub runs_used: u64,
    /// Selected runs without a stored config (imported).
    pub runs_without_config: u64,
    /// Cost of the selected runs, USD (steps with a known price).
    pub cost_selected_usd: f64,
    /// Cost of the runs that gave rows, USD.
    pub cost_used_usd: f64,
    /// Whether every used run's cost was complete.
    pub cost_complete: bool,
    /// Models by role (`solver`, `verifier`, `judge`) over the runs that gave rows.
    pub models: BTreeMap<&'static str, BTreeSet<String>>,
    /// Config hashes of the runs that gave rows.
    pub config_hashes: BTreeSet<String>,
    /// Critic rows: verdicts written, false passes, false fails.
    pub critic: CriticStats,
    /// Rewards written, for the card's mean.
    pub reward_sum: f64,
}

/// The verifier's mistakes among the critic rows written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CriticStats {
    /// Verdicts written.
    pub verdicts: u64,
    /// Passed answers that were wrong.
    pub false_passes: u64,
    /// Failed answers that were right.
    pub false_fails: u64,
}

impl ExportStats {
    /// Rows written in all.
    pub fn total_rows(&self) -> u64 {
        self.rows.iter().sum()
    }

    /// Candidates dropped in all.
    pub fn total_dropped(&self) -> u64 {
        self.drops.values().sum()
    }
}

/// Why the export stopped.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ExportError {
    /// The options cannot be used.
    #[error(transparent)]
    Options(#[from] OptionsError),
}

/// Groups runs by problem (normalised text), groups and runs in a stable order, so each group
/// can be read and exported on its own.
pub fn problem_groups(mut runs: Vec<RunRecord>) -> Vec<Vec<RunRecord>> {
    let mut keyed: Vec<(String, RunRecord)> = runs
        .drain(..)
        .map(|r| (normalise_problem(&r.problem), r))
        .collect();
    keyed.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.run_id.cmp(&b.1.run_id)));
    let mut groups: Vec<Vec<RunRecord>> = Vec::new();
    let mut last: Option<String> = None;
    for (key, run) in keyed {
        if last.as_ref() != Some(&key) {
            groups.push(Vec::new());
            last = Some(key);
        }
        if let Some(group) = groups.last_mut() {
            group.push(run);
        }
    }
    groups
}

/// Lines waiting to be handed out as a chunk, per file.
#[derive(Debug, Default)]
struct Pending {
    text: String,
    lines: u64,
}

/// Builds a dataset run group by run group.
pub struct Exporter<'o> {
    options: &'o TrainingOptions,
    builder: RowBuilder<'o>,
    dedup: Dedup,
    stats: ExportStats,
    writing: bool,
    chunk_bytes: usize,
    pending: BTreeMap<OutputFile, Pending>,
}

impl<'o> Exporter<'o> {
    /// An exporter for `options`. With `writing` off it only counts (the page's live counts);
    /// with it on, rows are handed out in chunks of about `chunk_bytes` bytes of whole lines.
    pub fn new(
        options: &'o TrainingOptions,
        modes: &'o dyn StructuredModes,
        writing: bool,
        chunk_bytes: usize,
    ) -> Result<Self, ExportError> {
        options.validate()?;
        let pending = OutputFile::all(options.format)
            .into_iter()
            .map(|f| (f, Pending::default()))
            .collect();
        Ok(Exporter {
            options,
            builder: RowBuilder::new(options, modes),
            dedup: Dedup::new(),
            stats: ExportStats {
                cost_complete: true,
                ..ExportStats::default()
            },
            writing,
            chunk_bytes: chunk_bytes.max(1),
            pending,
        })
    }

    /// The counts so far.
    pub fn stats(&self) -> &ExportStats {
        &self.stats
    }

    /// Adds the runs of one problem (or several whole problems); chunks that fill up are handed
    /// to `emit`. Every run of a problem must come in the same call (as [`problem_groups`] gives
    /// them): problems are counted per call, so the exporter keeps no list of them.
    pub fn add_runs(&mut self, runs: &[RunData<'_>], emit: &mut dyn FnMut(OutputFile, String)) {
        for run in runs {
            self.stats.runs_selected += 1;
            self.stats.cost_selected_usd += run.record.cost_usd.unwrap_or(0.0);
            if run.record.config.is_none() {
                self.stats.runs_without_config += 1;
            }
        }
        let mut rows = Vec::new();
        let mut drops = Drops::new();
        self.builder
            .build(runs, &mut |row| rows.push(row), &mut drops);
        for (reason, n) in drops {
            *self.stats.drops.entry(reason).or_default() += n;
        }
        let mut used: BTreeSet<String> = BTreeSet::new();
        let mut problems: [BTreeSet<String>; 3] = Default::default();
        for row in rows {
            if let Some(split) = self.write_row(&row, emit) {
                problems[split.index()].insert(normalise_problem(&row.problem));
                used.extend(row.provenance.origins.into_iter().map(|o| o.run_id));
            }
        }
        for (count, seen) in self.stats.problems.iter_mut().zip(problems) {
            *count += seen.len() as u64;
        }
        for run in runs.iter().filter(|r| used.contains(&r.record.run_id)) {
            let record = run.record;
            self.stats.runs_used += 1;
            self.stats.cost_used_usd += record.cost_usd.unwrap_or(0.0);
            self.stats.cost_complete &= record.cost_complete;
            self.stats.config_hashes.insert(record.config_hash.clone());
            let models = super::rows::Models::of(run);
            for (role, model) in [
                ("solver", models.solver),
                ("verifier", models.verifier),
                ("judge", models.judge),
            ] {
                if let Some(model) = model {
                    self.stats.models.entry(role).or_default().insert(model);
                }
            }
        }
    }

    /// Dedups, validates and writes one row; the split it was written to, if it was.
    fn write_row(&mut self, row: &Row, emit: &mut dyn FnMut(OutputFile, String)) -> Option<Split> {
        if !self.dedup.is_new(row.content_parts()) {
            *self.stats.drops.entry(DropReason::Duplicate).or_default() += 1;
            return None;
        }
        let value = row_value(row, self.options);
        let limits = Limits {
            token_limit: self.options.token_limit,
        };
        if validate_row(self.options.format, &value, limits).is_err() {
            *self.stats.drops.entry(DropReason::Invalid).or_default() += 1;
            return None;
        }
        let split = self.options.split.split_of(&row.problem);
        let i = split.index();
        self.stats.rows[i] += 1;
        if let Some(label) = row.label() {
            self.stats.labels[i][usize::from(label)] += 1;
        }
        match &row.body {
            RowBody::Pair { .. } => {
                let kind = match row.provenance.pairing {
                    Some(PairKind::AcrossRuns) => "across_runs",
                    _ => "within_run",
                };
                *self.stats.pairs.entry(kind).or_default() += 1;
            }
            RowBody::Critic {
                passed,
                answer_correct,
                ..
            } => {
                let c = &mut self.stats.critic;
                c.verdicts += 1;
                c.false_passes += u64::from(*passed && !answer_correct);
                c.false_fails += u64::from(!passed && *answer_correct);
            }
            RowBody::Reward { reward, .. } => self.stats.reward_sum += reward,
            _ => {}
        }
        if self.writing {
            let line = self.stats.rows[i];
            self.push_line(OutputFile::Split(split), &value, emit);
            if self.options.format.is_openai() {
                let provenance = provenance_value(row, split.as_str(), line);
                self.push_line(OutputFile::Provenance, &provenance, emit);
            }
        }
        Some(split)
    }

    fn push_line(
        &mut self,
        file: OutputFile,
        value: &Value,
        emit: &mut dyn FnMut(OutputFile, String),
    ) {
        let Some(pending) = self.pending.get_mut(&file) else {
            return;
        };
        // A JSON value always serializes.
        pending
            .text
            .push_str(&serde_json::to_string(value).unwrap_or_default());
        pending.text.push('\n');
        pending.lines += 1;
        if pending.text.len() >= self.chunk_bytes {
            emit(file, std::mem::take(&mut pending.text));
        }
    }

    /// Hands out what is left of every file and returns the counts.
    pub fn finish(mut self, emit: &mut dyn FnMut(OutputFile, String)) -> ExportStats {
        for (file, pending) in std::mem::take(&mut self.pending) {
            if !pending.text.is_empty() {
                emit(file, pending.text);
            }
        }
        self.stats
    }
}
