//! The names of downloaded files: the form each export documents, with characters that file
//! systems refuse replaced.

use crate::app::format::day_text;

/// `trialogue-runs-<YYYY-MM-DD>.jsonl` for an export made at `now_ms`.
pub fn all_runs_file_name(now_ms: f64) -> String {
    format!("trialogue-runs-{}.jsonl", day_text(now_ms))
}

/// `<run_id>.jsonl`, with characters that file systems refuse replaced by `_`.
pub fn run_file_name(run_id: &str) -> String {
    let safe: String = run_id
        .chars()
        .map(|c| {
            if c.is_control() || matches!(c, '/' | '\\' | ':' | '*' | '?' | '"' | '<' | '>' | '|') {
                '_'
            } else {
                c
            }
        })
        .collect();
    format!("{safe}.jsonl")
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_follow_the_documented_forms() {
        // 2026-11-24T21:10:09.123Z
        assert_eq!(
            all_runs_file_name(1_795_554_609_123.0),
            "trialogue-runs-2026-11-24.jsonl"
        );
        assert_eq!(
            run_file_name("run_20261124_211009_ab12cd34"),
            "run_20261124_211009_ab12cd34.jsonl"
        );
        assert_eq!(run_file_name("a/b:c"), "a_b_c.jsonl");
    }

    #[test]
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
