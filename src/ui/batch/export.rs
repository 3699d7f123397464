//! A batch's downloads: every trajectory of its runs as one JSONL file (chunked, through the
//! run store's export), and the per-problem summary as CSV and JSON.

use crate::app::batch::results::BatchResults;
use crate::app::file_names::{summary_file_name, trajectories_file_name};
use crate::core::stats::{problem_rows, rows_to_csv_with_metadata, rows_to_json};
use crate::ui::run::export::{download_runs, ExportError};
use crate::ui::store::SharedStore;
use crate::web::download::{download_text, DownloadError};
use crate::web::idb::{ExportFilter, ExportSummary};

/// The MIME type of the CSV summary.
pub const CSV_MIME: &str = "text/csv";
/// The MIME type of the JSON summary.
pub const JSON_MIME: &str = "application/json";

/// Downloads the steps of the items' runs, in batch order, as one JSONL file (`None`: the user
/// closed the save picker).
pub async fn download_trajectories(
    store: SharedStore,
    batch_id: &str,
    results: &BatchResults,
) -> Result<Option<ExportSummary>, ExportError> {
    download_runs(
        store,
        ExportFilter::Runs(results.run_ids()),
        &trajectories_file_name(batch_id),
    )
    .await
}

/// Downloads one row per item with a run (problem, mode, answer, checks, cost, then the
/// problem's metadata: `level`, `subject`, …) as RFC 4180 CSV.
pub fn download_csv(batch_id: &str, results: &BatchResults) -> Result<(), DownloadError> {
    let rows = problem_rows(&results.results);
    download_text(
        &summary_file_name(batch_id, "csv"),
        CSV_MIME,
        &rows_to_csv_with_metadata(&rows, &results.problems),
    )
}

/// Downloads the same rows as a JSON array.
pub fn download_json(batch_id: &str, results: &BatchResults) -> Result<(), DownloadError> {
    let rows = problem_rows(&results.results);
    download_text(
        &summary_file_name(batch_id, "json"),
        JSON_MIME,
        &rows_to_json(&rows),
    )
}
