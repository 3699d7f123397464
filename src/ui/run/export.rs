//! Downloading trajectories as JSONL, built chunk by chunk from the store's cursor.
//!
//! The file never exists as one string: each chunk the store hands out becomes one part of a
//! JavaScript array, and the `Blob` is made from that list of parts.

use wasm_bindgen::JsValue;

use crate::web::download::{download_parts, DownloadError};
use crate::web::idb::{ExportFilter, ExportSummary, StoreError};

use crate::ui::store::SharedStore;

/// Bytes per chunk (whole lines): big enough that a large export is a few hundred parts, small
/// enough that no single string is large.
pub const CHUNK_BYTES: usize = 256 * 1024;

/// The MIME type of trajectory files.
pub const JSONL_MIME: &str = "application/x-ndjson";

/// Why an export did not produce a file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExportError {
    /// Reading the store failed.
    #[error("the export stopped: {0}")]
    Store(#[from] StoreError),
    /// There was nothing to write.
    #[error("there are no stored steps to export{}", if *selected { " for the selected runs" } else { "" })]
    Empty {
        /// Whether only some runs were asked for.
        selected: bool,
    },
    /// The browser refused to start the download.
    #[error(transparent)]
    Download(#[from] DownloadError),
}

/// Exports the runs `filter` selects as `file_name`, and offers it as a download.
pub async fn download_runs(
    store: SharedStore,
    filter: ExportFilter,
    file_name: &str,
) -> Result<ExportSummary, ExportError> {
    let selected = matches!(filter, ExportFilter::Runs(_));
    let store = store.open().await?;
    let parts = js_sys::Array::new();
    let summary = store
        .export_jsonl(&filter, CHUNK_BYTES, |chunk| {
            parts.push(&JsValue::from_str(&chunk));
        })
        .await?;
    if summary.steps == 0 {
        return Err(ExportError::Empty { selected });
    }
    download_parts(file_name, JSONL_MIME, &parts)?;
    Ok(summary)
}
