//! Exporting stored steps as trajectory JSONL, one chunk at a time, pulled by the caller
//! ([`JsonlExport::next_chunk`]): the next steps are read only once the caller has written the
//! chunk before, so a slow disk slows the reads down instead of letting chunks pile up in
//! memory, whatever the size of the store.
//!
//! Steps are read in key order, in batches of about [`BATCH_BYTES`], each batch with the
//! records of its runs in one short read-only transaction. A stored line goes out as it was
//! stored ([`is_stored_step_line`]); only a run's last line, which carries the run's facts
//! ([`run_facts::stamp`]), is parsed and written again.

use std::collections::{HashMap, VecDeque};

use indexed_db_futures::prelude::*;
use indexed_db_futures::transaction::TransactionMode;
use indexed_db_futures::KeyRange;
use wasm_bindgen::JsValue;

use crate::core::jsonl::{is_stored_step_line, ChunkedJsonl};
use crate::core::run_facts;
use crate::core::trajectory::TrajectoryEntry;

use super::error::{from_idb, StoreError};
use super::records::{run_step_bounds, step_key, RunRow, StepRow};
use super::schema::{RUNS, STEPS};
use super::{request, store, TrajectoryStore};

/// About how many bytes of steps one read transaction takes: enough that a large export is a
/// few hundred transactions, little enough that a batch of long steps stays small in memory.
const BATCH_BYTES: usize = 2 * 1024 * 1024;

/// The fewest and the most steps one read asks for (the count follows the lines' length).
const BATCH_STEPS: (u32, u32) = (16, 2048);

/// The steps the first read asks for, before the lines' length is known.
const FIRST_BATCH_STEPS: u32 = 256;

/// Which runs to export.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExportFilter {
    /// Every stored step, runs in id order (which is start-time order for Trialogue's ids).
    All,
    /// These runs, in this order; ids with no steps add nothing.
    Runs(Vec<String>),
}

/// What an export wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ExportSummary {
    /// Runs with at least one step written.
    pub runs: u64,
    /// Lines (steps) written.
    pub steps: u64,
    /// Chunks handed out.
    pub chunks: u64,
    /// Bytes handed out (UTF-8).
    pub bytes: u64,
}

/// An export under way: see [`TrajectoryStore::export_jsonl`].
pub struct JsonlExport<'s> {
    store: &'s TrajectoryStore,
    /// Key ranges not read to their end yet, each `(low, high)`; no `high`: to the last key.
    ranges: VecDeque<(JsValue, Option<JsValue>)>,
    /// The last key read in the first range.
    after: Option<JsValue>,
    /// How many steps the next read asks for.
    batch_steps: u32,
    /// Steps read and not written yet, in key order.
    pending: VecDeque<StepRow>,
    /// The step before `pending`'s first, held until the next one shows whether it ends its
    /// run.
    held: Option<StepRow>,
    /// The stored records (raw) of the runs of the batch read last, and of `held`'s run.
    records: HashMap<String, JsValue>,
    out: ChunkedJsonl,
    /// Whether `out` holds the chunk handed out last (cleared before the next is gathered).
    handed_out: bool,
    last_run: Option<String>,
    summary: ExportSummary,
}

impl TrajectoryStore {
    /// An export of the steps `filter` chooses as JSONL, one line per step, runs in the
    /// filter's order and each run's steps in step order, in chunks of about `chunk_bytes`
    /// bytes (whole lines; see [`ChunkedJsonl`]). Each run's last line carries the run's facts
    /// from its record ([`run_facts::stamp`]). Nothing is read until the first
    /// [`JsonlExport::next_chunk`].
    pub fn export_jsonl(&self, filter: &ExportFilter, chunk_bytes: usize) -> JsonlExport<'_> {
        let ranges = match filter {
            // Step keys are arrays, and the empty array sorts before every other array.
            ExportFilter::All => VecDeque::from([(js_sys::Array::new().into(), None)]),
            ExportFilter::Runs(ids) => ids
                .iter()
                .map(|id| {
                    let (low, high) = run_step_bounds(id);
                    (low, Some(high))
                })
                .collect(),
        };
        JsonlExport {
            store: self,
            ranges,
            after: None,
            batch_steps: FIRST_BATCH_STEPS,
            pending: VecDeque::new(),
            held: None,
            records: HashMap::new(),
            out: ChunkedJsonl::new(chunk_bytes),
            handed_out: false,
            last_run: None,
            summary: ExportSummary::default(),
        }
    }
}

impl JsonlExport<'_> {
    /// The next chunk, as UTF-8 bytes; `None` once every step is out. The chunk is valid until
    /// the next call, whose reads wait until then: write it before asking for the next one.
    pub async fn next_chunk(&mut self) -> Result<Option<&[u8]>, StoreError> {
        if self.handed_out {
            self.out.clear();
            self.handed_out = false;
        }
        while !self.out.is_full() {
            if let Some(step) = self.pending.pop_front() {
                if let Some(previous) = self.held.replace(step) {
                    let ends_run = self
                        .held
                        .as_ref()
                        .is_some_and(|next| next.run_id != previous.run_id);
                    self.write(previous, ends_run)?;
                }
            } else if !self.read_batch().await? {
                if let Some(last) = self.held.take() {
                    self.write(last, true)?;
                }
                break;
            }
        }
        if self.out.chunk().is_empty() {
            return Ok(None);
        }
        self.handed_out = true;
        self.summary.chunks += 1;
        self.summary.bytes += self.out.chunk().len() as u64;
        Ok(Some(self.out.chunk()))
    }

    /// What has been handed out so far; once [`Self::next_chunk`] gave `None`, the whole
    /// export.
    pub fn summary(&self) -> ExportSummary {
        self.summary
    }

    /// Writes `step` into the chunk; `ends_run` when it is its run's last.
    fn write(&mut self, step: StepRow, ends_run: bool) -> Result<(), StoreError> {
        if self.last_run.as_deref() != Some(step.run_id.as_str()) {
            self.summary.runs += 1;
            self.last_run = Some(step.run_id.clone());
        }
        self.summary.steps += 1;
        let record = match ends_run {
            true => self.records.get(&step.run_id).cloned(),
            false => None,
        };
        if record.is_none() && is_stored_step_line(&step.line, &step.run_id, step.step_id) {
            self.out.append_stored(&step.line);
            return Ok(());
        }
        let mut entry = step.into_entry()?;
        if let Some(record) = record {
            run_facts::stamp(&mut entry, &RunRow::decode(record)?);
        }
        self.out
            .append(&entry)
            .map_err(|e| encode_failed(&entry, e))?;
        Ok(())
    }

    /// Reads the next batch of steps into `pending`, with their runs' records; `false` when
    /// every range has been read.
    async fn read_batch(&mut self) -> Result<bool, StoreError> {
        let op = "exporting steps";
        while let Some((low, high)) = self.ranges.front() {
            let range = match (self.after.clone(), high.clone()) {
                (None, None) => KeyRange::LowerBound(low.clone(), false),
                (None, Some(high)) => KeyRange::Bound(low.clone(), false, high, false),
                (Some(last), None) => KeyRange::LowerBound(last, true),
                (Some(last), Some(high)) => KeyRange::Bound(last, true, high, false),
            };
            let tx = self
                .store
                .transaction(&[STEPS, RUNS], TransactionMode::Readonly, op)?;
            let rows = request(
                store(&tx, STEPS, op)?
                    .get_all::<JsValue>()
                    .with_query::<JsValue, _>(range)
                    .with_limit(self.batch_steps)
                    .primitive(),
                op,
            )
            .await
            .map_err(|(e, _)| e)?;
            let rows = rows
                .into_iter()
                .map(|row| StepRow::read(row.map_err(|e| from_idb(op, &e))?))
                .collect::<Result<Vec<_>, _>>()?;
            let (Some(first), Some(last)) = (rows.first(), rows.last()) else {
                self.next_range();
                continue;
            };
            if rows.len() < self.batch_steps as usize {
                self.next_range();
            } else {
                self.after = Some(step_key(&last.run_id, last.step_id));
            }
            // The records of every run from the batch's first to its last: one request.
            let runs = request(
                store(&tx, RUNS, op)?
                    .get_all::<JsValue>()
                    .with_query::<JsValue, _>(KeyRange::Bound(
                        JsValue::from_str(&first.run_id),
                        false,
                        JsValue::from_str(&last.run_id),
                        false,
                    ))
                    .primitive(),
                op,
            )
            .await
            .map_err(|(e, _)| e)?;
            let held_record = self
                .held
                .as_ref()
                .and_then(|held| Some((held.run_id.clone(), self.records.remove(&held.run_id)?)));
            self.records.clear();
            for run in runs {
                let run = run.map_err(|e| from_idb(op, &e))?;
                if let Some(id) = js_sys::Reflect::get(&run, &JsValue::from_str("run_id"))
                    .ok()
                    .and_then(|id| id.as_string())
                {
                    self.records.insert(id, run);
                }
            }
            if let Some((id, record)) = held_record {
                self.records.entry(id).or_insert(record);
            }
            let bytes: usize = rows.iter().map(|row| row.line.len() + 1).sum();
            let per_step = (bytes / rows.len()).max(1);
            self.batch_steps =
                ((BATCH_BYTES / per_step) as u32).clamp(BATCH_STEPS.0, BATCH_STEPS.1);
            self.pending.extend(rows);
            return Ok(true);
        }
        Ok(false)
    }

    fn next_range(&mut self) {
        self.ranges.pop_front();
        self.after = None;
    }
}

fn encode_failed(entry: &TrajectoryEntry, e: crate::core::jsonl::JsonlWriteError) -> StoreError {
    StoreError::Encode {
        what: format!("step {} of run {}", entry.step_id, entry.run_id),
        reason: e.to_string(),
    }
}
