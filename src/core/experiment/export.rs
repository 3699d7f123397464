//! The matrix as files: CSV (one row per config) and JSON (rows, pairs and the front).

use serde::{Deserialize, Serialize};

use crate::core::stats::{csv_field, neutralize_formula};

use super::matrix::ConfigRow;
use super::pairs::PairComparison;
use super::pareto::ParetoPoint;

/// Everything the Experiments page shows of one experiment's results.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MatrixExport {
    /// The experiment's id (or, comparing batches, theirs joined by `+`).
    pub experiment_id: String,
    /// The field varied, if any.
    pub varied_field: Option<String>,
    /// One per config.
    pub rows: Vec<ConfigRow>,
    /// Every pair of configs.
    pub pairs: Vec<PairComparison>,
    /// Accuracy against cost, the front marked.
    pub pareto: Vec<ParetoPoint>,
}

/// The CSV columns, in order.
pub const MATRIX_COLUMNS: [&str; 22] = [
    "label",
    "config_hash",
    "batch_id",
    "runs",
    "completed",
    "correct",
    "checked",
    "accuracy",
    "accuracy_low",
    "accuracy_high",
    "mean_judge_score",
    "verifier_pass_rate",
    "mean_iterations",
    "total_tokens",
    "cost_usd",
    "cost_complete",
    "correct_per_usd",
    "latency_p50_ms",
    "latency_p90_ms",
    "paid_calls",
    "reused_calls",
    "on_pareto_front",
];

impl MatrixExport {
    /// As pretty-printed JSON.
    pub fn to_json(&self) -> String {
        // The export is plain data with string keys: serializing it cannot fail.
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// One RFC 4180 line per config after the header (CRLF endings), numbers as Rust prints
    /// them, an unknown value empty; text cells that a spreadsheet would run are neutralized.
    pub fn to_csv(&self) -> String {
        let mut out = String::new();
        out.push_str(&MATRIX_COLUMNS.join(","));
        out.push_str("\r\n");
        let num = |x: Option<f64>| x.map(|v| v.to_string()).unwrap_or_default();
        for (i, row) in self.rows.iter().enumerate() {
            let on_front = self
                .pareto
                .iter()
                .find(|p| p.arm == i)
                .map(|p| p.on_front.to_string())
                .unwrap_or_default();
            let cells = [
                row.label.clone(),
                row.config_hash.clone(),
                row.batch_id.clone(),
                row.runs.to_string(),
                row.completed.to_string(),
                row.accuracy
                    .map(|a| a.successes.to_string())
                    .unwrap_or_default(),
                row.accuracy
                    .map(|a| a.trials.to_string())
                    .unwrap_or_default(),
                num(row.accuracy.map(|a| a.rate)),
                num(row.accuracy.map(|a| a.low)),
                num(row.accuracy.map(|a| a.high)),
                num(row.mean_judge_score),
                num(row.verifier_pass_rate.map(|p| p.rate)),
                num(row.mean_iterations),
                row.total_tokens.to_string(),
                num(row.cost_usd),
                row.cost_complete.to_string(),
                num(row.correct_per_usd),
                num(row.latency_p50_ms),
                num(row.latency_p90_ms),
                row.paid_calls.to_string(),
                row.reused_calls.to_string(),
                on_front,
            ];
            let line: Vec<String> = cells
                .iter()
                .map(|c| csv_field(&neutralize_formula(c)).into_owned())
                .collect();
            out.push_str(&line.join(","));
            out.push_str("\r\n");
        }
        out
    }
}
