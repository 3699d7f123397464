//! Reading the selected runs through [`Exporter`], for the page's counts and its download.
//!
//! Runs are read one problem at a time (all runs of a problem at once, which pairing across
//! runs needs), so the store is never read whole; the download's files leave the exporter as
//! chunks that become parts of one `Blob`, with the ZIP's headers between them, so neither a
//! file nor the archive is ever one string.

use std::collections::BTreeMap;

use wasm_bindgen::JsValue;

use crate::app::format::day_text;
use crate::core::training::card::{dataset_card, CardInput};
use crate::core::training::export::ExportError;
use crate::core::training::prompt::StructuredModes;
use crate::core::training::zip::{DosDateTime, ZipError};
use crate::core::training::{
    problem_groups, DatasetArchive, ExportStats, Exporter, OutputFile, RunData, Selection,
    TrainingOptions,
};
use crate::core::trajectory::RunRecord;
use crate::ui::store::SharedStore;
use crate::web::download::{download_parts, DownloadError};
use crate::web::idb::{StoreError, TrajectoryStore};

/// Bytes per chunk of a file (whole lines), as the trajectory export uses.
const CHUNK_BYTES: usize = 256 * 1024;

/// The MIME type of the download.
const ZIP_MIME: &str = "application/zip";

/// Why counting or downloading stopped.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TrainingError {
    /// Reading the store failed.
    #[error("the stored runs could not be read: {0}")]
    Store(#[from] StoreError),
    /// The options cannot be used.
    #[error(transparent)]
    Options(#[from] ExportError),
    /// No stored run matches the source and filters.
    #[error("no stored run matches the source and filters; widen the filters or pick other runs")]
    NoRuns,
    /// The runs gave no row.
    #[error("the {runs} selected runs give no row with these options ({dropped} candidates dropped); the counts show why: try another signal, format or pairing")]
    NoRows {
        /// Runs selected.
        runs: u64,
        /// Candidates dropped.
        dropped: u64,
    },
    /// The archive could not be laid out.
    #[error(transparent)]
    Zip(#[from] ZipError),
    /// The browser refused the download.
    #[error(transparent)]
    Download(#[from] DownloadError),
}

/// The stored runs `selection` picks.
async fn selected_runs(
    store: &TrajectoryStore,
    selection: &Selection,
) -> Result<Vec<RunRecord>, TrainingError> {
    let runs: Vec<RunRecord> = store
        .list_runs()
        .await?
        .into_iter()
        .filter(|r| selection.matches(r))
        .collect();
    if runs.is_empty() {
        return Err(TrainingError::NoRuns);
    }
    Ok(runs)
}

/// Feeds the selected runs to an exporter, one problem's runs at a time.
async fn drive(
    store: SharedStore,
    selection: &Selection,
    options: &TrainingOptions,
    modes: &dyn StructuredModes,
    writing: bool,
    emit: &mut dyn FnMut(OutputFile, String),
) -> Result<ExportStats, TrainingError> {
    let store = store.open().await?;
    let runs = selected_runs(&store, selection).await?;
    let mut exporter = Exporter::new(options, modes, writing, CHUNK_BYTES)?;
    for group in problem_groups(runs) {
        let ids: Vec<String> = group.iter().map(|r| r.run_id.clone()).collect();
        let steps = store.steps_of_runs(&ids).await?;
        let data: Vec<RunData<'_>> = group
            .iter()
            .zip(&steps)
            .map(|(record, steps)| RunData { record, steps })
            .collect();
        exporter.add_runs(&data, emit);
    }
    Ok(exporter.finish(emit))
}

/// What a dataset with `options` made from `selection` would hold, without writing it.
pub async fn count(
    store: SharedStore,
    selection: &Selection,
    options: &TrainingOptions,
    modes: &dyn StructuredModes,
) -> Result<ExportStats, TrainingError> {
    drive(store, selection, options, modes, false, &mut |_, _| {}).await
}

/// `trialogue-<format>-<YYYY-MM-DD>.zip` for an export made at `now_ms`.
pub fn file_name(options: &TrainingOptions, now_ms: f64) -> String {
    format!(
        "trialogue-{}-{}.zip",
        options.format.as_str(),
        day_text(now_ms)
    )
}

/// Builds the dataset and its card and offers them as one ZIP download.
pub async fn download(
    store: SharedStore,
    selection: &Selection,
    options: &TrainingOptions,
    modes: &dyn StructuredModes,
    now_ms: f64,
) -> Result<ExportStats, TrainingError> {
    let mut archive = DatasetArchive::new(options.format, DosDateTime::from_epoch_ms(now_ms));
    let mut parts: BTreeMap<usize, js_sys::Array> = BTreeMap::new();
    let stats = drive(
        store,
        selection,
        options,
        modes,
        true,
        &mut |file, chunk| {
            if let Some(entry) = archive.add_chunk(file, &chunk) {
                parts
                    .entry(entry)
                    .or_insert_with(js_sys::Array::new)
                    .push(&JsValue::from_str(&chunk));
            }
        },
    )
    .await?;
    if stats.total_rows() == 0 {
        return Err(TrainingError::NoRows {
            runs: stats.runs_selected,
            dropped: stats.total_dropped(),
        });
    }
    let card = dataset_card(CardInput {
        options,
        selection: &selection.describe(),
        stats: &stats,
        created_ms: now_ms,
    });
    let card_entry = archive.add_card(&card);
    parts
        .entry(card_entry)
        .or_insert_with(js_sys::Array::new)
        .push(&JsValue::from_str(&card));
    let layout = archive.finish()?;
    let blob = js_sys::Array::new();
    for (entry, header) in layout.local_headers.iter().enumerate() {
        blob.push(&js_sys::Uint8Array::from(header.as_slice()));
        if let Some(chunks) = parts.get(&entry) {
            for chunk in chunks.iter() {
                blob.push(&chunk);
            }
        }
    }
    blob.push(&js_sys::Uint8Array::from(layout.trailer.as_slice()));
    download_parts(&file_name(options, now_ms), ZIP_MIME, &blob)?;
    Ok(stats)
}
