//! The `/training` page's address: which runs it opens with, so the Runs and Batch pages can
//! link to it pre-filtered and a filtered view can be bookmarked.
//!
//! Keys: `run` (repeated, one per chosen run), `batch`, `config` (hash), `solver`, `verifier`,
//! `judge` (models), `mode` (`debate` / `baseline`), `from` and `until` (`YYYY-MM-DD`, UTC;
//! `until` is inclusive), `completed` (`1`). Chosen runs win over every filter.

use crate::core::config::Mode;

use super::selection::{day_start_ms, RunFilter, Selection};

const DAY_MS: f64 = 86_400_000.0;

/// The selection a `/training` address asks for, from its decoded query pairs. Keys it does
/// not know and values it cannot read (a date that is not `YYYY-MM-DD`) are left out, so an
/// old or hand-edited link still opens the page.
pub fn selection_from_query<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Selection {
    let mut runs = Vec::new();
    let mut filter = RunFilter::default();
    let text = |v: &str| {
        let v = v.trim();
        (!v.is_empty()).then(|| v.to_string())
    };
    for (key, value) in pairs {
        match key {
            "run" => runs.extend(text(value)),
            "batch" => filter.batch_id = text(value),
            "config" => filter.config_hash = text(value),
            "solver" => filter.solver_model = text(value),
            "verifier" => filter.verifier_model = text(value),
            "judge" => filter.judge_model = text(value),
            "mode" => {
                filter.mode = match value.trim() {
                    "debate" => Some(Mode::Debate),
                    "baseline" => Some(Mode::Baseline),
                    _ => None,
                }
            }
            "from" => filter.from_ms = day_start_ms(value),
            "until" => filter.until_ms = day_start_ms(value).map(|start| start + DAY_MS),
            "completed" => filter.completed_only = value.trim() == "1",
            _ => {}
        }
    }
    if runs.is_empty() {
        Selection::Filter(filter)
    } else {
        Selection::Runs(runs)
    }
}

/// The query pairs of a link to the page for the runs of `batch_id`.
pub fn batch_query(batch_id: &str) -> Vec<(&'static str, String)> {
    vec![("batch", batch_id.to_string())]
}

/// The query pairs of a link to the page for the chosen `run_ids`.
pub fn runs_query(run_ids: &[String]) -> Vec<(&'static str, String)> {
    run_ids.iter().map(|id| ("run", id.clone())).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chosen_runs_win_and_filters_read_each_key() {
        let selection = selection_from_query([
            ("batch", "batch_1"),
            ("config", " ab12cd34 "),
            ("solver", "openai/gpt-4.1-mini"),
            ("mode", "baseline"),
            ("from", "2026-03-01"),
            ("until", "2026-03-01"),
            ("completed", "1"),
            ("unknown", "x"),
        ]);
        let Selection::Filter(f) = selection else {
            panic!("a filter was expected");
        };
        assert_eq!(f.batch_id.as_deref(), Some("batch_1"));
        assert_eq!(f.config_hash.as_deref(), Some("ab12cd34"));
        assert_eq!(f.solver_model.as_deref(), Some("openai/gpt-4.1-mini"));
        assert_eq!(f.mode, Some(Mode::Baseline));
        assert!(f.completed_only);
        let from = f.from_ms.unwrap();
        assert_eq!(f.until_ms.unwrap() - from, DAY_MS);

        let query = runs_query(&["r1".into(), "r2".into()]);
        let pairs: Vec<(&str, &str)> = query
            .iter()
            .map(|(k, v)| (*k, v.as_str()))
            .chain([("batch", "b")])
            .collect();
        assert_eq!(
            selection_from_query(pairs),
            Selection::Runs(vec!["r1".into(), "r2".into()])
        );
        assert_eq!(
            selection_from_query([("from", "March"), ("mode", "x")]),
            Selection::Filter(RunFilter::default())
        );
    }
}
