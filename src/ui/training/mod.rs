//! The training-data export in the browser: the selected runs read from the store problem by
//! problem, through core's exporter, into live counts or one ZIP download.

pub mod export;

use crate::app::costs::overview::query_escape;
use crate::core::training::query::{batch_query, runs_query};

fn href(pairs: Vec<(&'static str, String)>) -> String {
    let query: Vec<String> = pairs
        .into_iter()
        .map(|(k, v)| format!("{k}={}", query_escape(&v)))
        .collect();
    format!("/training?{}", query.join("&"))
}

/// The `/training` address for the runs of batch `batch_id`.
pub fn batch_href(batch_id: &str) -> String {
    href(batch_query(batch_id))
}

/// The `/training` address for the chosen runs.
pub fn runs_href(run_ids: &[String]) -> String {
    href(runs_query(run_ids))
}
