//! Importing trajectory JSONL (Trialogue's or the original's): every line accounted for, and a
//! stored run never overwritten — runs whose id is taken are listed, and can be imported as
//! copies under a new id.

use web_sys::File;

use crate::app::run::import::{prepend, take_open_run};
use crate::core::clock::Clock;
use crate::core::jsonl::{JsonlStreamReader, NotUtf8, ReadReport, Utf8Check};
use crate::web::clock::BrowserClock;
use crate::web::file::{read_slice, FileReadError};
use crate::web::idb::{ImportSummary, OnConflict, StoreError, StreamedImport, TrajectoryStore};

use crate::ui::store::SharedStore;

/// The largest trajectory file the page imports: 512 MiB. The file is read a chunk at a time,
/// but the steps of runs whose id is taken are kept for "import as copies", so this bounds
/// what that can hold.
pub const MAX_IMPORT_BYTES: u64 = 512 * 1024 * 1024;

/// How much of the file is read, parsed and stored at a time. Each chunk is parsed in one go
/// on the main thread, so this bounds how long the page stops answering; the event loop runs
/// between chunks.
const CHUNK_BYTES: u64 = 1024 * 1024;

/// Why an import stopped before storing anything.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImportError {
    /// The file could not be read.
    #[error(transparent)]
    Read(#[from] FileReadError),
    /// The file is not UTF-8 text.
    #[error("{file_name} is not UTF-8 text (invalid bytes at byte {offset}); trajectory files are JSON Lines in UTF-8")]
    NotText {
        /// The file.
        file_name: String,
        /// Where the first invalid byte is.
        offset: u64,
    },
    /// The store could not be opened.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What one import did.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ImportReport {
    /// The file's name.
    pub file_name: String,
    /// Lines read as steps (duplicates left out).
    pub accepted_lines: usize,
    /// What the store did, with the reader's rejected lines and duplicates.
    pub summary: ImportSummary,
    /// The steps of the runs whose ids were taken, kept so they can be imported as copies.
    pub conflicting: ReadReport,
}

impl ImportReport {
    /// Steps stored by this import.
    pub fn imported_steps(&self) -> u64 {
        self.summary.imported.iter().map(|r| r.steps).sum()
    }
}

/// Reads `file` and imports its runs, skipping (and listing) runs whose id is stored already.
///
/// The file is read, parsed and stored a chunk at a time, with the event loop let run between
/// chunks, so the page keeps answering and never holds the file whole. It is checked to be
/// UTF-8 first (a quick read through), so a file that is not text stores nothing.
pub async fn import_file(store: SharedStore, file: &File) -> Result<ImportReport, ImportError> {
    let file_name = file.name();
    // File sizes are whole numbers of bytes that fit an f64 exactly up to 2^53.
    let size = file.size().max(0.0) as u64;
    if size > MAX_IMPORT_BYTES {
        return Err(FileReadError::TooLarge {
            file_name,
            size,
            max: MAX_IMPORT_BYTES,
        }
        .into());
    }
    let not_text = |e: NotUtf8| ImportError::NotText {
        file_name: file_name.clone(),
        offset: e.offset,
    };
    let mut check = Utf8Check::new();
    for (start, end) in chunks(size) {
        check
            .push(&read_slice(file, start, end).await?)
            .map_err(not_text)?;
        let_the_page_run().await;
    }
    check.finish().map_err(not_text)?;

    let store = store.open().await?;
    let mut reader = JsonlStreamReader::new();
    let mut import = StreamedImport::new();
    let mut accepted_lines = 0;
    let mut held = ReadReport::default();
    for (start, end) in chunks(size) {
        let bytes = read_slice(file, start, end).await?;
        let mut report = reader.push(&bytes).map_err(not_text)?;
        drop(bytes);
        accepted_lines += report.entries.len();
        prepend(std::mem::take(&mut held), &mut report);
        held = take_open_run(&mut report);
        store_chunk(&store, &mut import, report).await;
        let_the_page_run().await;
    }
    let mut last = reader.finish().map_err(not_text)?;
    accepted_lines += last.entries.len();
    prepend(held, &mut last);
    store_chunk(&store, &mut import, last).await;
    Ok(ImportReport {
        file_name,
        accepted_lines,
        summary: import.summary,
        conflicting: import.conflicting,
    })
}

async fn store_chunk(store: &TrajectoryStore, import: &mut StreamedImport, report: ReadReport) {
    if report.entries.is_empty() && report.rejected.is_empty() && report.duplicates.is_empty() {
        return;
    }
    store.import_chunk(import, report).await;
}

/// The byte ranges of a file of `size` bytes, [`CHUNK_BYTES`] each.
fn chunks(size: u64) -> impl Iterator<Item = (u64, u64)> {
    (0..size)
        .step_by(CHUNK_BYTES as usize)
        .map(move |start| (start, (start + CHUNK_BYTES).min(size)))
}

/// Lets the browser handle input and paint before the next chunk.
async fn let_the_page_run() {
    BrowserClock::new().sleep(0).await;
}

/// Imports runs that were skipped for a taken id as copies (`<id>_2`, …).
pub async fn import_copies(
    store: SharedStore,
    conflicting: ReadReport,
) -> Result<ImportSummary, ImportError> {
    let store = store.open().await?;
    Ok(store.import_runs(conflicting, OnConflict::KeepBoth).await)
}
