//! Which runs of a trajectory file an import keeps aside: the runs whose id is taken are
//! imported later as copies, and only their steps are kept for that.

use std::collections::HashSet;

use crate::core::jsonl::ReadReport;

/// The run ids of `report`, each once, in order of first appearance.
pub fn distinct_run_ids(report: &ReadReport) -> Vec<String> {
    let mut seen = HashSet::new();
    report
        .entries
        .iter()
        .filter(|e| seen.insert(e.run_id.as_str()))
        .map(|e| e.run_id.clone())
        .collect()
}

/// A copy of the part of `report` that belongs to runs `ids` (entries only: its lines were
/// reported already).
pub fn only_runs(report: &ReadReport, ids: &[String]) -> ReadReport {
    let ids: HashSet<&str> = ids.iter().map(String::as_str).collect();
    let mut out = ReadReport::default();
    for (entry, line) in report.entries.iter().zip(&report.lines) {
        if ids.contains(entry.run_id.as_str()) {
            out.entries.push(entry.clone());
            out.lines.push(*line);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::jsonl::read_jsonl;

    #[test]
    fn only_the_named_runs_are_kept_for_copies() {
        let text = concat!(
            r#"{"timestamp":"t","run_id":"a","step_id":1,"agent":"solver","action":"generate","input":{},"output":{},"metadata":{}}"#,
            "\n",
            "not json\n",
            r#"{"timestamp":"t","run_id":"b","step_id":1,"agent":"solver","action":"generate","input":{},"output":{},"metadata":{}}"#,
            "\n",
            r#"{"timestamp":"t","run_id":"a","step_id":2,"agent":"judge","action":"score","input":{},"output":{},"metadata":{}}"#,
            "\n",
        );
        let report = read_jsonl(text);
        assert_eq!(report.rejected.len(), 1);
        assert_eq!(distinct_run_ids(&report), ["a", "b"]);
        let kept = only_runs(&report, &["a".to_string()]);
        let steps: Vec<(String, u64)> = kept
            .entries
            .iter()
            .map(|e| (e.run_id.clone(), e.step_id))
            .collect();
        assert_eq!(steps, [("a".to_string(), 1), ("a".to_string(), 2)]);
        assert_eq!(kept.lines, [1, 4]);
        assert!(
            kept.rejected.is_empty(),
            "rejected lines were reported by the first import"
        );
    }
}
