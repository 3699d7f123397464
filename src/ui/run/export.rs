//! Downloading trajectories as JSONL, built chunk by chunk from the store's cursor.
//!
//! Where the browser has a save picker, each chunk is written to the picked file before the next
//! is read, so memory stays flat whatever the size. Elsewhere the chunks are written the same
//! way into a file of the origin's own storage, which is then downloaded ([`spool_file`]).
//! Browsers with neither get a `Blob` of the chunks ([`BlobParts`]): never one string, but all
//! of it in memory until the download starts.

use crate::web::download::{BlobParts, DownloadError};
use crate::web::idb::{ExportFilter, ExportSummary, StoreError, TrajectoryStore, CHUNKS_KEPT};
use crate::web::save_file::{
    pick_save_file, SaveFileError, SavePick, StreamedFile, WRITES_IN_FLIGHT,
};
use crate::web::spool_file::spool_file;

use crate::ui::store::SharedStore;

/// Bytes per chunk (whole lines): big enough that each write to the file is worth its round
/// trip to the browser, small enough that the few under way hold little.
pub const CHUNK_BYTES: usize = 512 * 1024;

/// The MIME type of trajectory files.
pub const JSONL_MIME: &str = "application/x-ndjson";

/// What an export's status line says when the user closed the save picker: not an error.
pub const EXPORT_CANCELLED: &str = "Export cancelled: no file was written.";

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
    /// The picked file could not be opened or written.
    #[error(transparent)]
    SaveFile(#[from] SaveFileError),
}

/// Exports the runs `filter` selects as `file_name`: streamed into a file the user picks where
/// the browser can, offered as a download otherwise. `None` when the user closed the picker.
/// Call it first in a click's handler: the picker needs the click's user activation.
pub async fn download_runs(
    store: SharedStore,
    filter: ExportFilter,
    file_name: &str,
) -> Result<Option<ExportSummary>, ExportError> {
    match pick_save_file(file_name, JSONL_MIME).await? {
        SavePick::Cancelled => Ok(None),
        SavePick::Stream(file) => stream_runs(store, filter, file).await.map(Some),
        SavePick::Unsupported => match spool_file(file_name).await {
            Some(spooled) => {
                let summary = stream_runs(store, filter, spooled.file).await?;
                spooled.spool.download(file_name).await?;
                Ok(Some(summary))
            }
            None => blob_runs(store, filter, file_name).await.map(Some),
        },
    }
}

/// Writes each chunk into `file` as the store hands it out; the next chunk is read once the
/// file has taken this one ([`StreamedFile::write`] keeps few writes under way), so memory
/// stays flat however slow the disk, and a failed write stops the reads.
async fn stream_runs(
    store: SharedStore,
    filter: ExportFilter,
    mut file: StreamedFile,
) -> Result<ExportSummary, ExportError> {
    let selected = matches!(filter, ExportFilter::Runs(_));
    let written = match store.open().await {
        Ok(store) => write_chunks(&store, &filter, &mut file).await,
        Err(e) => Err(e.into()),
    };
    match written {
        Ok(summary) if summary.steps > 0 => {
            file.finish().await?;
            Ok(summary)
        }
        Ok(_) => {
            file.discard().await;
            Err(ExportError::Empty { selected })
        }
        Err(e) => {
            file.discard().await;
            Err(e)
        }
    }
}

// A chunk's bytes are the export's until it has handed out `CHUNKS_KEPT` more: the file may
// still be writing the ones before this one while the next is gathered.
const _: () = assert!(WRITES_IN_FLIGHT < CHUNKS_KEPT);

async fn write_chunks(
    store: &TrajectoryStore,
    filter: &ExportFilter,
    file: &mut StreamedFile,
) -> Result<ExportSummary, ExportError> {
    let mut export = store.export_jsonl(filter, CHUNK_BYTES);
    while let Some(chunk) = export.next_chunk().await? {
        file.write(&chunk).await?;
    }
    Ok(export.summary())
}

/// Builds the whole file as a `Blob` of chunks and offers it as a download.
async fn blob_runs(
    store: SharedStore,
    filter: ExportFilter,
    file_name: &str,
) -> Result<ExportSummary, ExportError> {
    let selected = matches!(filter, ExportFilter::Runs(_));
    let store = store.open().await?;
    let mut export = store.export_jsonl(&filter, CHUNK_BYTES);
    let mut parts = BlobParts::new();
    while let Some(chunk) = export.next_chunk().await? {
        // Copied: the export writes into these bytes again a few chunks on.
        parts.push(&chunk.slice(0, chunk.length()));
    }
    let summary = export.summary();
    if summary.steps == 0 {
        return Err(ExportError::Empty { selected });
    }
    parts.download(file_name, JSONL_MIME)?;
    Ok(summary)
}
