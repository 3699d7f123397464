//! A batch's downloads: every trajectory of its runs as one JSONL file (chunked, through the
//! run store's export), and the per-problem summary as CSV and JSON.

use crate::core::stats::{problem_rows, rows_to_csv_with_metadata, rows_to_json};
use crate::ui::run::export::{download_runs, run_file_name, ExportError};
use crate::web::download::{download_text, DownloadError};
use crate::web::idb::{ExportFilter, ExportSummary};

use super::results::BatchResults;

/// The MIME type of the CSV summary.
pub const CSV_MIME: &str = "text/csv";
/// The MIME type of the JSON summary.
pub const JSON_MIME: &str = "application/json";

/// `<batch_id>.jsonl`, safe for file systems.
pub fn trajectories_file_name(batch_id: &str) -> String {
    run_file_name(batch_id)
}

/// `<batch_id>-problems.<extension>`, safe for file systems.
pub fn summary_file_name(batch_id: &str, extension: &str) -> String {
    let base = run_file_name(batch_id);
    let stem = base.strip_suffix(".jsonl").unwrap_or(&base);
    format!("{stem}-problems.{extension}")
}

/// Downloads the steps of the items' runs, in batch order, as one JSONL file.
pub async fn download_trajectories(
    batch_id: &str,
    results: &BatchResults,
) -> Result<ExportSummary, ExportError> {
    download_runs(
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

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test;

    #[wasm_bindgen_test]
    fn file_names_follow_the_batch_id() {
        let id = "batch_20261124_211009_ab12cd34";
        assert_eq!(
            trajectories_file_name(id),
            "batch_20261124_211009_ab12cd34.jsonl"
        );
        assert_eq!(
            summary_file_name(id, "csv"),
            "batch_20261124_211009_ab12cd34-problems.csv"
        );
        assert_eq!(summary_file_name("a/b", "json"), "a_b-problems.json");
    }
}
