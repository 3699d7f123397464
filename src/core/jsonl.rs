//! Trajectory JSONL: one [`TrajectoryEntry`] per line, written a line at a time and read
//! tolerantly.
//!
//! Writing never builds a whole file in memory: [`write_entry`] / [`write_entry_io`] append one
//! line to any writer, and [`ChunkedJsonl`] groups lines into chunks of a chosen size, which is
//! how the browser export turns an IndexedDB cursor into a `Blob` part by part.
//!
//! Reading accepts our files and the original's (extra or missing optional fields, metadata
//! without our extras); each bad line is reported with its 1-based number and the reason, and
//! the other lines are kept. Lines go through the guarded reader ([`TRAJECTORY_LINE_LIMITS`]),
//! and the numbers the app adds up (costs, tokens, latencies, step ids) must be in range: a
//! cost of `1.7e308` would make every total infinite.

use std::collections::HashMap;

use serde_json::Value;

use crate::core::guard::{self, Exceeded, Limits, ReadError};
use crate::core::sorting;
use crate::core::trajectory::{key as meta, TrajectoryEntry};

/// What one line of a trajectory file may hold: 64 MiB, 64 levels of nesting, a million
/// values. A step holds a few dozen values, its texts a few hundred KB at most.
pub const TRAJECTORY_LINE_LIMITS: Limits = Limits {
    max_bytes: 64 * 1024 * 1024,
    max_depth: 64,
    max_nodes: 1_000_000,
};

/// The most a step may cost: far above any real call (a million tokens in and out at the
/// dearest listed rates cost a few hundred dollars), far below what would overflow a sum.
pub const MAX_STEP_COST_USD: f64 = 1_000_000.0;

/// The most tokens of one kind a step may count: a thousand times the largest context window.
pub const MAX_STEP_TOKENS: u64 = 1_000_000_000;

/// The longest a step may have taken, in milliseconds (a year).
pub const MAX_STEP_LATENCY_MS: f64 = 365.0 * 24.0 * 3600.0 * 1000.0;

/// The largest step id: the largest integer a JavaScript number (and so an IndexedDB key)
/// holds exactly; above it two steps could share a key.
pub const MAX_STEP_ID: u64 = (1 << 53) - 1;

/// Why an entry could not be written.
#[derive(Debug, thiserror::Error)]
pub enum JsonlWriteError {
    /// The entry could not be turned into JSON (cannot happen for entries built by Trialogue).
    #[error("step {step_id} of run {run_id} could not be written as JSON: {source}")]
    Serialize {
        /// The entry's run.
        run_id: String,
        /// The entry's step.
        step_id: u64,
        /// What serde_json said.
        source: serde_json::Error,
    },
    /// The destination refused the text.
    #[error("the trajectory file could not be written: {0}")]
    Io(#[from] std::io::Error),
    /// A `fmt::Write` destination refused the text.
    #[error("the trajectory text could not be appended")]
    Fmt(#[from] std::fmt::Error),
}

/// One entry as a JSONL line: compact JSON (no spaces) followed by `\n`.
pub fn to_line(entry: &TrajectoryEntry) -> Result<String, JsonlWriteError> {
    let mut line = serde_json::to_string(entry).map_err(|source| JsonlWriteError::Serialize {
        run_id: entry.run_id.clone(),
        step_id: entry.step_id,
        source,
    })?;
    line.push('\n');
    Ok(line)
}

/// Appends one entry as a line to a `fmt::Write` (a `String`, a formatter).
pub fn write_entry<W: std::fmt::Write + ?Sized>(
    out: &mut W,
    entry: &TrajectoryEntry,
) -> Result<(), JsonlWriteError> {
    out.write_str(&to_line(entry)?)?;
    Ok(())
}

/// Appends one entry as a line to an `io::Write` (a file, a socket, a `Vec<u8>`).
pub fn write_entry_io<W: std::io::Write + ?Sized>(
    out: &mut W,
    entry: &TrajectoryEntry,
) -> Result<(), JsonlWriteError> {
    out.write_all(to_line(entry)?.as_bytes())?;
    Ok(())
}

/// Writes entries as JSONL, handing back chunks of about `chunk_bytes` bytes each (whole lines
/// only), so an export of any size never holds more than one chunk in memory.
///
/// Two ways to use it: [`push`](Self::push) hands each full chunk out as a `String` of its
/// own; [`append`](Self::append) / [`append_stored`](Self::append_stored) fill one buffer that
/// the caller copies out ([`chunk`](Self::chunk)) and [`clear`](Self::clear)s, so a long
/// export allocates it once.
///
/// ```
/// # use trialogue::core::jsonl::ChunkedJsonl;
/// let mut chunks = ChunkedJsonl::new(64 * 1024);
/// let mut parts = Vec::new();
/// # let entries: Vec<trialogue::core::trajectory::TrajectoryEntry> = Vec::new();
/// for entry in &entries {
///     if let Some(chunk) = chunks.push(entry).unwrap() {
///         parts.push(chunk); // e.g. one Blob part
///     }
/// }
/// parts.extend(chunks.finish());
/// ```
#[derive(Debug, Clone)]
pub struct ChunkedJsonl {
    chunk_bytes: usize,
    buffer: Vec<u8>,
    lines: u64,
}

impl ChunkedJsonl {
    /// A writer whose chunks reach at least `chunk_bytes` bytes before they are handed out
    /// (the last one may be smaller; one line longer than that makes a chunk on its own).
    pub fn new(chunk_bytes: usize) -> Self {
        ChunkedJsonl {
            chunk_bytes: chunk_bytes.max(1),
            buffer: Vec::new(),
            lines: 0,
        }
    }

    /// Adds one entry; returns a full chunk when one is ready.
    pub fn push(&mut self, entry: &TrajectoryEntry) -> Result<Option<String>, JsonlWriteError> {
        Ok(if self.append(entry)? {
            Some(self.take())
        } else {
            None
        })
    }

    /// Adds one entry to the buffer; `true` when the buffer holds a full chunk, to be read
    /// with [`Self::chunk`] and then [`Self::clear`]ed.
    pub fn append(&mut self, entry: &TrajectoryEntry) -> Result<bool, JsonlWriteError> {
        serde_json::to_writer(&mut self.buffer, entry).map_err(|source| {
            JsonlWriteError::Serialize {
                run_id: entry.run_id.clone(),
                step_id: entry.step_id,
                source,
            }
        })?;
        Ok(self.end_line())
    }

    /// Adds a line Trialogue stored and [`is_stored_step_line`] accepted, as it is; `true`
    /// when the buffer holds a full chunk.
    pub fn append_stored(&mut self, line: &str) -> bool {
        self.buffer.extend_from_slice(line.as_bytes());
        self.end_line()
    }

    fn end_line(&mut self) -> bool {
        self.buffer.push(b'\n');
        self.lines += 1;
        self.is_full()
    }

    /// Whether the buffer holds a full chunk.
    pub fn is_full(&self) -> bool {
        self.buffer.len() >= self.chunk_bytes
    }

    /// The lines gathered since the last [`Self::clear`], as UTF-8 bytes.
    pub fn chunk(&self) -> &[u8] {
        &self.buffer
    }

    /// Empties the buffer, keeping its allocation for the next chunk.
    pub fn clear(&mut self) {
        self.buffer.clear();
    }

    /// Lines written so far.
    pub fn lines(&self) -> u64 {
        self.lines
    }

    /// The last, partial chunk, if anything is left.
    pub fn finish(mut self) -> Option<String> {
        (!self.buffer.is_empty()).then(|| self.take())
    }

    fn take(&mut self) -> String {
        // Only serde_json's output and `&str` lines go in, both UTF-8, so this never replaces.
        match String::from_utf8(std::mem::take(&mut self.buffer)) {
            Ok(text) => text,
            Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
        }
    }
}

/// Whether `line`, a step line Trialogue stored (its newline removed), can be exported as it
/// is: one JSON object on one line that opens with the `timestamp`, the `run_id` `run_id` and
/// the `step_id` `step_id`, in that order, as [`to_line`] writes step `step_id` of `run_id`.
///
/// Stored lines are [`to_line`]'s output, and parsing one and writing it again gives the same
/// bytes, so an export needs to parse only the lines it changes (a run's last, which carries
/// the run's facts). A line that fails this check is parsed, and reported if it is not a step.
pub fn is_stored_step_line(line: &str, run_id: &str, step_id: u64) -> bool {
    opens_as_step(line, run_id, step_id)
        && !line.contains(['\n', '\r'])
        && serde_json::from_str::<serde::de::IgnoredAny>(line).is_ok()
}

/// Whether `head`, the start of a stored line (or all of it), opens with the `timestamp`, the
/// `run_id` `run_id` and the `step_id` `step_id`, in that order, as [`to_line`] writes step
/// `step_id` of `run_id`: the part of [`is_stored_step_line`] that needs only the line's first
/// [`step_head_len`] characters.
pub fn opens_as_step(head: &str, run_id: &str, step_id: u64) -> bool {
    let Some(after_open) = head.strip_prefix(r#"{"timestamp":""#) else {
        return false;
    };
    let Some(timestamp_end) = json_string_end(after_open) else {
        return false;
    };
    let rest = &after_open[timestamp_end + 1..];
    let Some(rest) = rest.strip_prefix(r#","run_id":"#) else {
        return false;
    };
    let mut quoted_id = Vec::with_capacity(run_id.len() + 2);
    if serde_json::to_writer(&mut quoted_id, run_id).is_err() {
        return false;
    }
    let Some(rest) = rest.as_bytes().strip_prefix(quoted_id.as_slice()) else {
        return false;
    };
    let step_field = format!(r#","step_id":{step_id},"#);
    rest.starts_with(step_field.as_bytes())
}

/// How many characters (UTF-16 code units or bytes, whichever is counted) of a stored line
/// [`opens_as_step`] needs for step `step_id` of `run_id` when the timestamp is of the usual
/// length: a line whose step key starts later is not recognised from a head this long, and is
/// checked whole instead.
pub fn step_head_len(run_id: &str) -> usize {
    // `{"timestamp":"` + an ISO 8601 timestamp with microseconds and offset + `","run_id":`,
    // the id quoted (each character escaped at worst), `,"step_id":` + 20 digits + `,`.
    const AROUND_ID: usize = 14 + 40 + 12 + 2 + 11 + 20 + 1;
    AROUND_ID + 6 * run_id.len()
}

/// The byte offset of the quote that ends a JSON string whose opening quote is just before
/// `text`.
fn json_string_end(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => return Some(i),
            b'\\' => i += 2,
            _ => i += 1,
        }
    }
    None
}

/// Why one line of a JSONL file was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LineError {
    /// The line is not JSON at all.
    #[error("not valid JSON at column {column}: {message}")]
    InvalidJson {
        /// 1-based column where parsing failed.
        column: usize,
        /// The parser's explanation.
        message: String,
    },
    /// The line is JSON but not an object (e.g. an array or a bare string).
    #[error("expected a JSON object (one trajectory step), found {found}")]
    NotAnObject {
        /// What was found instead (`an array`, `a string`, …).
        found: &'static str,
    },
    /// The object lacks a field or has one of the wrong type.
    #[error("not a trajectory step: {message}")]
    NotAStep {
        /// The parser's explanation, naming the field.
        message: String,
    },
    /// `run_id` is empty, so the step cannot be put in a run.
    #[error("the run_id is empty")]
    EmptyRunId,
    /// The line is longer than [`TRAJECTORY_LINE_LIMITS`] allows.
    #[error("the line is {bytes} bytes, over the {limit}-byte limit for one step")]
    TooLong {
        /// The line's length.
        bytes: usize,
        /// The limit.
        limit: usize,
    },
    /// The line nests deeper or holds more values than [`TRAJECTORY_LINE_LIMITS`] allows.
    #[error("the step is {0}, more than a trajectory step holds")]
    TooComplex(Exceeded),
    /// A number the app adds up is missing its range (or is not a number at all).
    #[error("{field} is {found}, but {expected}")]
    OutOfRange {
        /// The field's path, e.g. `metadata.cost_usd`.
        field: String,
        /// What the line has, as written (`1.7e308`, `the text "NaN"`).
        found: String,
        /// What is allowed.
        expected: String,
    },
}

/// A line that was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {reason}")]
pub struct RejectedLine {
    /// 1-based line number in the file.
    pub line: usize,
    /// Why.
    pub reason: LineError,
}

/// A `(run_id, step_id)` that appeared more than once; the first occurrence is kept.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {duplicate_line} repeats step {step_id} of run {run_id} (first on line {first_line}); it was skipped")]
pub struct DuplicateStep {
    /// The run.
    pub run_id: String,
    /// The repeated step id.
    pub step_id: u64,
    /// Line of the occurrence that was kept.
    pub first_line: usize,
    /// Line of the occurrence that was skipped.
    pub duplicate_line: usize,
}

/// What reading a JSONL text produced.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ReadReport {
    /// The accepted entries, in file order, duplicates left out.
    pub entries: Vec<TrajectoryEntry>,
    /// The 1-based line number of each accepted entry (parallel to `entries`).
    pub lines: Vec<usize>,
    /// Lines that were not accepted, in file order.
    pub rejected: Vec<RejectedLine>,
    /// Repeated `(run_id, step_id)` pairs that were skipped.
    pub duplicates: Vec<DuplicateStep>,
}

impl ReadReport {
    /// The accepted entries grouped by run: see [`group_by_run`].
    pub fn runs(&self) -> Vec<(String, Vec<TrajectoryEntry>)> {
        group_by_run(self.entries.iter().cloned())
    }
}

/// Parses one line (without its newline) of a file being imported into an entry: through the
/// guarded reader, with the numbers checked (see [`check_numbers`]).
pub fn parse_line(line: &str) -> Result<TrajectoryEntry, LineError> {
    let value = guard::json_value(line, &TRAJECTORY_LINE_LIMITS).map_err(|e| match e {
        ReadError::TooLarge { bytes, limit } => LineError::TooLong { bytes, limit },
        ReadError::TooComplex(exceeded) => LineError::TooComplex(exceeded),
        ReadError::Syntax {
            column, message, ..
        } => LineError::InvalidJson { column, message },
        other => LineError::InvalidJson {
            column: 1,
            message: other.to_string(),
        },
    })?;
    let entry = entry_from(value)?;
    check_numbers(&entry)?;
    Ok(entry)
}

/// Reads back a line Trialogue stored itself (a step it ran, or one [`parse_line`] accepted on
/// import). Its numbers are not checked again: a run stored before a check existed stays
/// readable, and the pages draw any number.
pub fn parse_stored_line(line: &str) -> Result<TrajectoryEntry, LineError> {
    let value: Value = serde_json::from_str(line).map_err(|e| LineError::InvalidJson {
        column: e.column(),
        message: strip_position(&e.to_string()),
    })?;
    entry_from(value)
}

// serde_json appends " at line 1 column 17" to its messages; the column is reported apart and
// the line is always 1 inside a single JSONL line, so the suffix would only mislead.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(at) => message[..at].to_string(),
        None => message.to_string(),
    }
}

fn entry_from(value: Value) -> Result<TrajectoryEntry, LineError> {
    let found = match &value {
        Value::Object(_) => None,
        Value::Array(_) => Some("an array"),
        Value::String(_) => Some("a string"),
        Value::Number(_) => Some("a number"),
        Value::Bool(_) => Some("a boolean"),
        Value::Null => Some("null"),
    };
    if let Some(found) = found {
        return Err(LineError::NotAnObject { found });
    }
    let entry: TrajectoryEntry =
        serde_json::from_value(value).map_err(|e| LineError::NotAStep {
            message: e.to_string(),
        })?;
    if entry.run_id.trim().is_empty() {
        return Err(LineError::EmptyRunId);
    }
    Ok(entry)
}

/// Checks the numbers the app adds up and draws: the step id, and the cost, latency and token
/// counts in `metadata` (each may be absent or `null`; the original writes no cost).
pub fn check_numbers(entry: &TrajectoryEntry) -> Result<(), LineError> {
    if entry.step_id > MAX_STEP_ID {
        return Err(out_of_range(
            "step_id",
            &Value::from(entry.step_id),
            format!("step ids go up to {MAX_STEP_ID}"),
        ));
    }
    // As the file wrote them: a text where a number belongs is kept as read, not typed.
    let metadata = &entry.metadata.to_object();
    check_real(
        metadata,
        meta::COST_USD,
        MAX_STEP_COST_USD,
        "a step's cost in USD is from 0 to 1000000",
    )?;
    check_real(
        metadata,
        meta::LATENCY_MS,
        MAX_STEP_LATENCY_MS,
        "a step's latency in milliseconds is from 0 to a year",
    )?;
    for object in [meta::TOKENS, meta::USAGE] {
        let Some(Value::Object(counts)) = metadata.get(object) else {
            continue;
        };
        for (key, value) in counts {
            let whole = value.as_u64().is_some_and(|n| n <= MAX_STEP_TOKENS);
            if value.is_number() && !whole {
                return Err(out_of_range(
                    &format!("metadata.{object}.{key}"),
                    value,
                    format!("token counts are whole numbers from 0 to {MAX_STEP_TOKENS}"),
                ));
            }
        }
    }
    Ok(())
}

/// `metadata.<key>`: absent, `null`, or a number from 0 to `max`.
fn check_real(
    metadata: &serde_json::Map<String, Value>,
    key: &str,
    max: f64,
    expected: &str,
) -> Result<(), LineError> {
    match metadata.get(key) {
        None | Some(Value::Null) => Ok(()),
        Some(value) => match value.as_f64() {
            Some(x) if (0.0..=max).contains(&x) => Ok(()),
            _ => Err(out_of_range(
                &format!("metadata.{key}"),
                value,
                expected.to_string(),
            )),
        },
    }
}

fn out_of_range(field: &str, value: &Value, expected: String) -> LineError {
    let found = match value {
        Value::String(text) => format!("the text {text:?}, not a number"),
        Value::Number(n) => n.to_string(),
        other => format!("{other}, not a number"),
    };
    LineError::OutOfRange {
        field: field.to_string(),
        found,
        expected,
    }
}

/// Reads a whole JSONL text. Blank lines are skipped, `\r\n` endings and a leading byte-order
/// mark are accepted; every other line becomes an entry or a [`RejectedLine`].
pub fn read_jsonl(text: &str) -> ReadReport {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut report = ReadReport::default();
    let mut seen = SeenSteps::new();
    for (index, raw) in text.split('\n').enumerate() {
        take_line(&mut report, &mut seen, index + 1, raw);
    }
    report
}

/// The first line each `(run_id, step_id)` was read on, across the whole file.
type SeenSteps = HashMap<(String, u64), usize>;

/// Reads line `line_no` (its `\n` removed) into `report`: skipped when blank, else an entry,
/// a duplicate of an earlier one, or a rejected line. Both readers go through here, so a file
/// read whole or in chunks yields the same report.
fn take_line(report: &mut ReadReport, seen: &mut SeenSteps, line_no: usize, raw: &str) {
    let line = raw.strip_suffix('\r').unwrap_or(raw);
    if line.trim().is_empty() {
        return;
    }
    match parse_line(line) {
        Ok(entry) => {
            let key = (entry.run_id.clone(), entry.step_id);
            if let Some(&first_line) = seen.get(&key) {
                report.duplicates.push(DuplicateStep {
                    run_id: key.0,
                    step_id: key.1,
                    first_line,
                    duplicate_line: line_no,
                });
            } else {
                seen.insert(key, line_no);
                report.entries.push(entry);
                report.lines.push(line_no);
            }
        }
        Err(reason) => report.rejected.push(RejectedLine {
            line: line_no,
            reason,
        }),
    }
}

/// Bytes that are not UTF-8, found while reading a file in chunks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the file is not UTF-8 text (invalid bytes at byte {offset})")]
pub struct NotUtf8 {
    /// Where the first invalid byte is, from the start of the file (a character cut off by
    /// the end of the file counts as invalid where it starts).
    pub offset: u64,
}

/// Checks that a file given in chunks is UTF-8, holding at most the 3 bytes of a character
/// split between two chunks.
#[derive(Debug, Clone, Default)]
pub struct Utf8Check {
    carry: Vec<u8>,
    offset: u64,
}

impl Utf8Check {
    /// A check at the start of a file.
    pub fn new() -> Self {
        Self::default()
    }

    /// Checks the next chunk.
    pub fn push(&mut self, bytes: &[u8]) -> Result<(), NotUtf8> {
        let joined;
        let bytes = if self.carry.is_empty() {
            bytes
        } else {
            joined = [std::mem::take(&mut self.carry).as_slice(), bytes].concat();
            &joined
        };
        match std::str::from_utf8(bytes) {
            Ok(_) => {
                self.offset += bytes.len() as u64;
                Ok(())
            }
            // A character the chunk cuts off: its first bytes wait for the next chunk.
            Err(e) if e.error_len().is_none() => {
                let valid = e.valid_up_to();
                self.offset += valid as u64;
                self.carry = bytes[valid..].to_vec();
                Ok(())
            }
            Err(e) => Err(NotUtf8 {
                offset: self.offset + e.valid_up_to() as u64,
            }),
        }
    }

    /// Ends the file: a character still cut off is invalid.
    pub fn finish(self) -> Result<(), NotUtf8> {
        if self.carry.is_empty() {
            Ok(())
        } else {
            Err(NotUtf8 {
                offset: self.offset,
            })
        }
    }
}

/// Reads a JSONL file given in chunks of any size, with the same result as [`read_jsonl`] on
/// the whole text: the report of each chunk holds the lines it completed (a line, or a UTF-8
/// character, split between chunks is read once the chunk that ends it arrives), with their
/// numbers in the file, and a step repeated in a later chunk is a duplicate. Only the line
/// being read and the `(run_id, step_id)` pairs seen so far are held, never the file.
#[derive(Debug, Clone, Default)]
pub struct JsonlStreamReader {
    /// The bytes of the line not ended yet.
    pending: Vec<u8>,
    /// The file offset of `pending`'s first byte.
    pending_start: u64,
    /// Lines ended so far.
    lines_read: usize,
    seen: SeenSteps,
}

impl JsonlStreamReader {
    /// A reader at the start of a file.
    pub fn new() -> Self {
        Self::default()
    }

    /// Reads the next chunk; the report holds the lines it ends.
    pub fn push(&mut self, bytes: &[u8]) -> Result<ReadReport, NotUtf8> {
        let mut report = ReadReport::default();
        let mut rest = bytes;
        while let Some(end) = rest.iter().position(|&b| b == b'\n') {
            let (line, after) = (&rest[..end], &rest[end + 1..]);
            if self.pending.is_empty() {
                self.read_line(&mut report, line)?;
            } else {
                let mut whole = std::mem::take(&mut self.pending);
                whole.extend_from_slice(line);
                self.read_line(&mut report, &whole)?;
            }
            rest = after;
        }
        self.pending.extend_from_slice(rest);
        Ok(report)
    }

    /// Ends the file: reads its last line if it has no newline.
    pub fn finish(mut self) -> Result<ReadReport, NotUtf8> {
        let mut report = ReadReport::default();
        let last = std::mem::take(&mut self.pending);
        self.read_line(&mut report, &last)?;
        Ok(report)
    }

    fn read_line(&mut self, report: &mut ReadReport, bytes: &[u8]) -> Result<(), NotUtf8> {
        let start = self.pending_start;
        // The byte-order mark that may open the file is not part of its first line.
        let text = match (self.lines_read, bytes.strip_prefix("\u{feff}".as_bytes())) {
            (0, Some(after)) => after,
            _ => bytes,
        };
        let skipped = (bytes.len() - text.len()) as u64;
        let text = std::str::from_utf8(text).map_err(|e| NotUtf8 {
            offset: start + skipped + e.valid_up_to() as u64,
        })?;
        self.lines_read += 1;
        self.pending_start = start + bytes.len() as u64 + 1;
        take_line(report, &mut self.seen, self.lines_read, text);
        Ok(())
    }
}

/// Groups entries by `run_id`, runs in order of first appearance, each run's entries sorted by
/// `step_id` (files concatenated from several exports interleave runs).
pub fn group_by_run(
    entries: impl IntoIterator<Item = TrajectoryEntry>,
) -> Vec<(String, Vec<TrajectoryEntry>)> {
    let mut order: Vec<(String, Vec<TrajectoryEntry>)> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    for entry in entries {
        match index.get(&entry.run_id) {
            Some(&i) => order[i].1.push(entry),
            None => {
                index.insert(entry.run_id.clone(), order.len());
                order.push((entry.run_id.clone(), vec![entry]));
            }
        }
    }
    for (_, steps) in &mut order {
        sorting::sort_by_key(steps, |e| e.step_id);
    }
    order
}

/// The `(run_id, step_id)` pairs that occur more than once in `entries`, each once, in order of
/// their second occurrence.
pub fn duplicate_steps(entries: &[TrajectoryEntry]) -> Vec<(String, u64)> {
    let mut counts: HashMap<(&str, u64), u32> = HashMap::new();
    let mut out = Vec::new();
    for entry in entries {
        let count = counts.entry((&entry.run_id, entry.step_id)).or_insert(0);
        *count += 1;
        if *count == 2 {
            out.push((entry.run_id.clone(), entry.step_id));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"{"timestamp":"t","run_id":"run_a","step_id":1,"agent":"solver","action":"generate","input":{},"output":{},"metadata":{}}"#;

    #[test]
    fn a_line_is_compact_json_with_one_newline() {
        let entry = parse_line(GOOD).unwrap();
        let line = to_line(&entry).unwrap();
        assert!(line.ends_with("}\n"));
        assert_eq!(line.matches('\n').count(), 1);
        assert!(!line.contains(": ") && !line.contains(", "));
        assert!(line.contains(r#""reward":null,"terminal":false,"success":null"#));
    }

    #[test]
    fn bad_lines_are_reported_with_their_number_and_the_rest_kept() {
        let text = format!("{GOOD}\n\n[1,2]\n{{\"run_id\": \"x\"}}\n{{oops\n");
        let report = read_jsonl(&text);
        assert_eq!(report.entries.len(), 1);
        assert_eq!(report.lines, vec![1]);
        let lines: Vec<usize> = report.rejected.iter().map(|r| r.line).collect();
        assert_eq!(lines, vec![3, 4, 5]);
        assert_eq!(
            report.rejected[0].reason,
            LineError::NotAnObject { found: "an array" }
        );
        assert!(
            matches!(&report.rejected[1].reason, LineError::NotAStep { message } if message.contains("timestamp"))
        );
        assert!(matches!(
            report.rejected[2].reason,
            LineError::InvalidJson { column: 2, .. }
        ));
        assert!(report.rejected[2]
            .to_string()
            .starts_with("line 5: not valid JSON at column 2"));
    }

    #[test]
    fn duplicates_keep_the_first_and_name_both_lines() {
        let text = format!("{GOOD}\r\n{GOOD}\r\n");
        let report = read_jsonl(&text);
        assert_eq!(report.entries.len(), 1);
        assert_eq!(
            report.duplicates,
            vec![DuplicateStep {
                run_id: "run_a".into(),
                step_id: 1,
                first_line: 1,
                duplicate_line: 2
            }]
        );
        let both = vec![report.entries[0].clone(), report.entries[0].clone()];
        assert_eq!(duplicate_steps(&both), vec![("run_a".to_string(), 1)]);
    }

    #[test]
    fn chunks_hold_whole_lines_and_reach_the_size_asked() {
        let entry = parse_line(GOOD).unwrap();
        let line_len = to_line(&entry).unwrap().len();
        let mut chunks = ChunkedJsonl::new(line_len * 2);
        assert_eq!(chunks.push(&entry).unwrap(), None);
        let first = chunks.push(&entry).unwrap().unwrap();
        assert_eq!(first.len(), line_len * 2);
        assert_eq!(chunks.push(&entry).unwrap(), None);
        assert_eq!(chunks.lines(), 3);
        assert_eq!(chunks.finish().unwrap().len(), line_len);
        assert_eq!(ChunkedJsonl::new(10).finish(), None);
    }

    #[test]
    fn empty_run_id_is_rejected() {
        let line = GOOD.replace("run_a", " ");
        assert_eq!(parse_line(&line), Err(LineError::EmptyRunId));
    }
    #[test]
    fn a_stored_line_is_exported_as_is_only_when_it_is_the_step_it_is_keyed_as() {
        let mut entry = parse_line(GOOD).unwrap();
        entry.run_id = "run \"quoted\" \\ é".into();
        entry.step_id = 12;
        entry.timestamp = "2025-01-01T00:00:00\"x\\".into();
        let line = to_line(&entry).unwrap();
        let stored = line.trim_end_matches('\n');
        assert!(is_stored_step_line(stored, &entry.run_id, 12));
        // Parsed and written again, it is the same bytes: what exporting it as is relies on.
        assert_eq!(to_line(&parse_stored_line(stored).unwrap()).unwrap(), line);

        assert!(!is_stored_step_line(stored, &entry.run_id, 1));
        assert!(!is_stored_step_line(stored, &entry.run_id, 120));
        assert!(!is_stored_step_line(stored, "run", 12));
        let cut = &stored[..stored.len() - 1];
        assert!(!is_stored_step_line(cut, &entry.run_id, 12), "not JSON");
        let trailing = format!("{stored} {{}}");
        assert!(!is_stored_step_line(&trailing, &entry.run_id, 12));
        let two_lines = stored.replacen(",\"agent\"", ",\n\"agent\"", 1);
        assert!(!is_stored_step_line(&two_lines, &entry.run_id, 12));
        assert!(!is_stored_step_line("{not json", "run_c", 4));
        assert!(!is_stored_step_line("", "run_c", 4));
        let spaced = stored.replacen("{\"timestamp\":", "{ \"timestamp\":", 1);
        assert!(!is_stored_step_line(&spaced, &entry.run_id, 12));
    }

    #[test]
    fn a_stored_lines_head_is_enough_to_know_the_step_it_opens_as() {
        let mut entry = parse_line(GOOD).unwrap();
        entry.run_id = "run \"quoted\" \\ é".into();
        entry.step_id = u64::from(u32::MAX) * 1000;
        entry.timestamp = "2025-01-01T00:00:00.000000+00:00".into();
        let line = to_line(&entry).unwrap();
        let head: String = line.chars().take(step_head_len(&entry.run_id)).collect();
        assert!(opens_as_step(&head, &entry.run_id, entry.step_id));
        assert!(!opens_as_step(&head, &entry.run_id, 12));
        assert!(!opens_as_step(&head, "run", entry.step_id));
        let step_key_end = line.find(",\"agent\"").unwrap() + 1;
        assert!(opens_as_step(
            &line[..step_key_end],
            &entry.run_id,
            entry.step_id
        ));
        assert!(!opens_as_step(
            &line[..step_key_end - 1],
            &entry.run_id,
            entry.step_id
        ));
        assert!(!opens_as_step("{not json", "run_c", 4));
    }

    #[test]
    fn the_reused_buffer_gives_the_lines_push_gives() {
        let entry = parse_line(GOOD).unwrap();
        let line = to_line(&entry).unwrap();
        let mut chunks = ChunkedJsonl::new(line.len() + 1);
        assert!(!chunks.append(&entry).unwrap());
        assert!(chunks.append_stored(line.trim_end_matches('\n')));
        assert_eq!(chunks.chunk(), format!("{line}{line}").as_bytes());
        chunks.clear();
        assert!(chunks.chunk().is_empty());
        assert_eq!(chunks.lines(), 2);
        assert!(!chunks.append(&entry).unwrap());
        assert_eq!(chunks.finish(), Some(line));
    }
}
