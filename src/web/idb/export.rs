//! Exporting stored steps as trajectory JSONL, one chunk at a time, pulled by the caller
//! ([`JsonlExport::next_chunk`]): the next steps are read only once the caller has written the
//! chunk before, so a slow disk slows the reads down instead of letting chunks pile up in
//! memory, whatever the size of the store.
//!
//! Steps are read in key order, in batches of about [`BATCH_BYTES`], each batch with the
//! records of its runs in one short read-only transaction. A stored line goes out as it was
//! stored, and without entering wasm: the line read from the store is a JS string, encoded as
//! UTF-8 by the browser straight into the chunk's buffer ([`JsChunk`]), and only the line's
//! head (its step key, [`opens_as_step`]) is copied into Rust. Only a run's last line, which
//! carries the run's facts ([`run_facts::stamp`]), and a line that does not open as the step it
//! is keyed as are parsed and written again.

use std::collections::{HashMap, VecDeque};
use std::rc::Rc;

use indexed_db_futures::prelude::*;
use indexed_db_futures::transaction::TransactionMode;
use indexed_db_futures::KeyRange;
use js_sys::{JsString, Uint8Array};
use wasm_bindgen::prelude::*;

use crate::core::jsonl::{opens_as_step, step_head_len, to_line};
use crate::core::run_facts;
use crate::core::trajectory::TrajectoryEntry;

use super::error::{from_idb, StoreError};
use super::records::{run_step_bounds, step_key, text_field, RunRow, StepRow, MAX_STEP_ID};
use super::schema::{RUNS, STEPS};
use super::{request, store, TrajectoryStore};

/// About how many bytes of steps one read transaction takes: enough that each read is worth its
/// round trip to the database, little enough that what a read leaves for the collector (its
/// records, as the browser's and as JS objects) stays small, since that, not the file, is what
/// an export's memory follows.
const BATCH_BYTES: usize = 256 * 1024;

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
    /// Lines parsed and written again rather than let out as stored: each run's last (it
    /// carries the run's facts), and any line that did not open as the step it is keyed as.
    pub rewritten: u64,
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
    pending: VecDeque<StoredStep>,
    /// The step before `pending`'s first, held until the next one shows whether it ends its
    /// run.
    held: Option<StoredStep>,
    /// The stored records (raw) of the runs of the batch read last, and of `held`'s run.
    records: HashMap<Rc<str>, JsValue>,
    out: JsChunk,
    last_run: Option<Rc<str>>,
    fields: RowFields,
    summary: ExportSummary,
}

/// A step read from the store, its line still the store's JS string.
struct StoredStep {
    /// Shared by the steps of a run read in one batch.
    run_id: Rc<str>,
    step_id: u64,
    line: JsString,
    /// The line's length in UTF-16 code units.
    units: u32,
}

/// The names of a step record's fields, made once as JS strings rather than once per read.
struct RowFields {
    run_id: JsValue,
    step_id: JsValue,
    line: JsValue,
}

impl RowFields {
    fn new() -> Self {
        Self {
            run_id: JsValue::from_str("run_id"),
            step_id: JsValue::from_str("step_id"),
            line: JsValue::from_str("line"),
        }
    }
}

/// How many chunks an export hands out before it writes into the first one's bytes again: a
/// chunk is valid until this many more have been taken, so a writer may keep this many less
/// one under way.
pub const CHUNKS_KEPT: usize = 3;

#[wasm_bindgen]
extern "C" {
    /// `TextEncoder`: a JS string to its UTF-8 bytes, in the browser's own code. (Handing the
    /// string itself to the file stream is slower: it goes through a Blob.)
    type Utf8Encoder;
    #[wasm_bindgen(constructor, js_class = "TextEncoder")]
    fn new() -> Utf8Encoder;
    /// Writes `text` as UTF-8 into `into`, as much of it as fits.
    #[wasm_bindgen(method, js_name = encodeInto, js_class = "TextEncoder")]
    fn encode_into(this: &Utf8Encoder, text: &JsString, into: &Uint8Array) -> Encoded;

    /// What `encodeInto` did.
    type Encoded;
    /// The bytes it wrote.
    #[wasm_bindgen(method, getter)]
    fn written(this: &Encoded) -> u32;
}

/// The chunk being gathered, as UTF-8 encoded by the browser straight from each stored line's
/// JS string (a stored line is never copied into wasm and back), into one of
/// [`CHUNKS_KEPT`] buffers used in turn: an export makes no new buffer (and no joined string)
/// per chunk, so its garbage does not pile up between collections.
struct JsChunk {
    chunk_bytes: usize,
    buffers: Vec<Uint8Array>,
    /// The buffer being filled.
    current: usize,
    /// Its bytes written so far.
    filled: u32,
    /// UTF-16 code units gathered, newlines included: never more than the UTF-8 bytes they
    /// encode to, so a chunk cut at `chunk_bytes` units holds at least `chunk_bytes` bytes.
    units: usize,
    encoder: Utf8Encoder,
}

/// The most UTF-8 bytes one UTF-16 code unit encodes to.
const UTF8_PER_UNIT: u32 = 3;

impl JsChunk {
    fn new(chunk_bytes: usize) -> Self {
        Self {
            chunk_bytes: chunk_bytes.max(1),
            buffers: Vec::with_capacity(CHUNKS_KEPT),
            current: 0,
            filled: 0,
            units: 0,
            encoder: Utf8Encoder::new(),
        }
    }

    /// Adds `line`, `units` UTF-16 code units long, and its newline.
    fn push(&mut self, line: &JsString, units: u32) {
        let need = self
            .filled
            .saturating_add(units.saturating_mul(UTF8_PER_UNIT))
            .saturating_add(1);
        let buffer = self.buffer_of(need);
        let room = buffer.subarray(self.filled, buffer.length());
        self.filled += self.encoder.encode_into(line, &room).written();
        buffer.set_index(self.filled, b'\n');
        self.filled += 1;
        self.units += units as usize + 1;
    }

    /// The buffer being filled, made (or grown, keeping its bytes) to hold `need` bytes.
    fn buffer_of(&mut self, need: u32) -> Uint8Array {
        if self.current == self.buffers.len() {
            let size = (self.chunk_bytes as u32).saturating_add(1 << 16).max(need);
            self.buffers.push(Uint8Array::new_with_length(size));
        }
        let buffer = &mut self.buffers[self.current];
        if buffer.length() < need {
            let grown = Uint8Array::new_with_length(need.max(buffer.length().saturating_mul(2)));
            grown.set(&buffer.subarray(0, self.filled), 0);
            *buffer = grown;
        }
        buffer.clone()
    }

    fn is_full(&self) -> bool {
        self.units >= self.chunk_bytes
    }

    /// The lines gathered, each ended by a newline, as UTF-8; `None` when there are none. The
    /// bytes stay as they are until [`CHUNKS_KEPT`] more chunks have been taken.
    fn take(&mut self) -> Option<Uint8Array> {
        if self.filled == 0 {
            return None;
        }
        let chunk = self.buffers[self.current].subarray(0, self.filled);
        self.current = (self.current + 1) % CHUNKS_KEPT;
        self.filled = 0;
        self.units = 0;
        Some(chunk)
    }
}

impl TrajectoryStore {
    /// An export of the steps `filter` chooses as JSONL, one line per step, runs in the
    /// filter's order and each run's steps in step order, in chunks of whole lines of at least
    /// `chunk_bytes` UTF-16 code units (so at least as many bytes) but the last. Each run's
    /// last line carries the run's facts from its record ([`run_facts::stamp`]). Nothing is
    /// read until the first [`JsonlExport::next_chunk`].
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
            out: JsChunk::new(chunk_bytes),
            last_run: None,
            fields: RowFields::new(),
            summary: ExportSummary::default(),
        }
    }
}

impl JsonlExport<'_> {
    /// The next chunk (whole lines, each ended by a newline), as UTF-8 bytes; `None` once
    /// every step is out. Nothing more is read until the next call. The bytes are the
    /// export's own and stay as they are until [`CHUNKS_KEPT`] more chunks have been taken:
    /// write or copy them before then.
    pub async fn next_chunk(&mut self) -> Result<Option<Uint8Array>, StoreError> {
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
        let Some(chunk) = self.out.take() else {
            return Ok(None);
        };
        self.summary.chunks += 1;
        self.summary.bytes += u64::from(chunk.length());
        Ok(Some(chunk))
    }

    /// What has been handed out so far; once [`Self::next_chunk`] gave `None`, the whole
    /// export.
    pub fn summary(&self) -> ExportSummary {
        self.summary
    }

    /// Writes `step` into the chunk; `ends_run` when it is its run's last.
    fn write(&mut self, step: StoredStep, ends_run: bool) -> Result<(), StoreError> {
        if self.last_run.as_ref() != Some(&step.run_id) {
            self.summary.runs += 1;
            self.last_run = Some(step.run_id.clone());
        }
        self.summary.steps += 1;
        let record = match ends_run {
            true => self.records.get(&step.run_id).cloned(),
            false => None,
        };
        if record.is_none() && is_stored_step(&step) {
            self.out.push(&step.line, step.units);
            return Ok(());
        }
        self.summary.rewritten += 1;
        let mut entry = StepRow {
            run_id: step.run_id.to_string(),
            step_id: step.step_id,
            line: step.line.into(),
        }
        .into_entry()?;
        if let Some(record) = record {
            run_facts::stamp(&mut entry, &RunRow::decode(record)?);
        }
        let mut line = to_line(&entry).map_err(|e| encode_failed(&entry, e))?;
        line.pop(); // the newline, which the chunk adds
        let units = line.encode_utf16().count() as u32;
        self.out.push(&JsString::from(line), units);
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
            let mut run: Option<(JsValue, Rc<str>)> = None;
            let rows = rows
                .into_iter()
                .map(|row| {
                    let row = row.map_err(|e| from_idb(op, &e))?;
                    self.fields.step(row, &mut run)
                })
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
                    self.records.insert(id.into(), run);
                }
            }
            if let Some((id, record)) = held_record {
                self.records.entry(id).or_insert(record);
            }
            let bytes: usize = rows.iter().map(|row| row.units as usize + 1).sum();
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

impl RowFields {
    /// The step in `row`, a raw record of the steps store; `run` is the run id of the row
    /// before (as read and as text), so the steps of a run share one copy of it.
    fn step(
        &self,
        row: JsValue,
        run: &mut Option<(JsValue, Rc<str>)>,
    ) -> Result<StoredStep, StoreError> {
        let get = |field: &JsValue| js_sys::Reflect::get(&row, field).ok();
        let (Some(run_value), Some(step_id), Some(line)) = (
            get(&self.run_id),
            get(&self.step_id).and_then(|id| id.as_f64()),
            get(&self.line).and_then(|line| line.dyn_into::<JsString>().ok()),
        ) else {
            return Err(not_a_step_error(row));
        };
        let run_id = match run {
            Some((value, id)) if *value == run_value => id.clone(),
            _ => {
                let Some(id) = run_value.as_string() else {
                    return Err(not_a_step_error(row));
                };
                let id: Rc<str> = id.into();
                *run = Some((run_value, id.clone()));
                id
            }
        };
        if step_id.fract() != 0.0 || !(0.0..=MAX_STEP_ID as f64).contains(&step_id) {
            return Err(not_a_step(&row));
        }
        let units = line.length();
        Ok(StoredStep {
            run_id,
            step_id: step_id as u64,
            line,
            units,
        })
    }
}

/// Why `row` is not a step: [`StepRow::read`]'s reason where it has one.
fn not_a_step_error(row: JsValue) -> StoreError {
    match StepRow::read(row.clone()) {
        Err(e) => e,
        Ok(_) => not_a_step(&row),
    }
}

fn not_a_step(row: &JsValue) -> StoreError {
    StoreError::Corrupt {
        store: STEPS,
        key: format!(
            "[{}, {}]",
            text_field(row, "run_id"),
            text_field(row, "step_id")
        ),
        reason: "the record is not a step of a run".into(),
    }
}

/// Whether `step`'s line can go out as stored: it opens as the step it is keyed as
/// ([`opens_as_step`]), read from its head alone, and still ends its object. Stored lines are
/// written by [`to_line`] alone (one compact JSON object, no newline), so this is the check
/// that the record is the step it is keyed as and was not cut short, without copying the
/// whole line into wasm to parse it; a line that fails it is parsed, and reported if it is
/// not that step.
fn is_stored_step(step: &StoredStep) -> bool {
    let units = step.units;
    let head_len = step_head_len(&step.run_id).min(units as usize) as u32;
    let head = String::from(step.line.slice(0, head_len));
    let ends_object = match units.checked_sub(1) {
        Some(last) if last >= head_len => step.line.slice(last, units) == "}",
        _ => head.ends_with('}'),
    };
    ends_object && opens_as_step(&head, &step.run_id, step.step_id)
}

fn encode_failed(entry: &TrajectoryEntry, e: crate::core::jsonl::JsonlWriteError) -> StoreError {
    StoreError::Encode {
        what: format!("step {} of run {}", entry.step_id, entry.run_id),
        reason: e.to_string(),
    }
}
