//! A dataset as the run store keeps it: its summary (what the list of datasets shows), the
//! field mapping it was imported with, and its problems.

use serde::{Deserialize, Serialize};

use crate::core::dataset::{DatasetFormat, FieldMapping, Problem};

/// What the list of datasets shows about one, without its problems.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DatasetSummary {
    /// The key: [`crate::core::dataset::Dataset::content_id`] of its problems.
    pub dataset_id: String,
    /// A name for people (the file name without its extension, unless renamed).
    pub name: String,
    /// The file it was imported from.
    pub file_name: String,
    /// The format the file was read as.
    pub format: DatasetFormat,
    /// Usable problems.
    pub problem_count: usize,
    /// Rows of the file that were left out (unreadable, unmappable, duplicate ids).
    pub skipped_rows: usize,
    /// When it was saved, epoch milliseconds (UTC).
    pub created_ms: f64,
}

/// A dataset as stored: its summary, the mapping it was imported with, and its problems.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredDataset {
    /// Name, counts, dates.
    pub summary: DatasetSummary,
    /// The field mapping that made the problems.
    pub mapping: FieldMapping,
    /// The problems, in file order.
    pub problems: Vec<Problem>,
}
