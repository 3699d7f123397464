//! Importing trajectory JSONL (Trialogue's or the original's): every line accounted for, and a
//! stored run never overwritten — runs whose id is taken are listed, and can be imported as
//! copies under a new id.

use web_sys::File;

use crate::app::run::import::{distinct_run_ids, only_runs};
use crate::core::jsonl::{read_jsonl, ReadReport};
use crate::web::file::{read_bytes, FileReadError};
use crate::web::idb::{ImportSummary, OnConflict, StoreError};

use crate::ui::store::SharedStore;

/// The largest trajectory file the page reads: 512 MiB. The whole text is held while it is
/// parsed, so this is a bound on memory, not on what a trajectory can be.
pub const MAX_IMPORT_BYTES: u64 = 512 * 1024 * 1024;

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
        offset: usize,
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
pub async fn import_file(store: SharedStore, file: &File) -> Result<ImportReport, ImportError> {
    let file_name = file.name();
    let bytes = read_bytes(file, MAX_IMPORT_BYTES).await?;
    let text = String::from_utf8(bytes).map_err(|e| ImportError::NotText {
        file_name: file_name.clone(),
        offset: e.utf8_error().valid_up_to(),
    })?;
    let report = read_jsonl(&text);
    drop(text);
    let accepted_lines = report.entries.len();
    let store = store.open().await?;
    // Only the runs whose id is taken are copied aside (for "import as copies"); the store
    // checks again inside each run's transaction, so a run stored meanwhile is still skipped.
    let mut taken = Vec::new();
    for id in distinct_run_ids(&report) {
        if store.run_id_taken(&id).await? {
            taken.push(id);
        }
    }
    let conflicting = only_runs(&report, &taken);
    let summary = store.import_runs(report, OnConflict::Skip).await;
    // A run deleted between the check and the import was imported: it needs no copy.
    let conflicting = only_runs(&conflicting, &summary.conflicts);
    Ok(ImportReport {
        file_name,
        accepted_lines,
        summary,
        conflicting,
    })
}

/// Imports runs that were skipped for a taken id as copies (`<id>_2`, …).
pub async fn import_copies(
    store: SharedStore,
    conflicting: ReadReport,
) -> Result<ImportSummary, ImportError> {
    let store = store.open().await?;
    Ok(store.import_runs(conflicting, OnConflict::KeepBoth).await)
}
