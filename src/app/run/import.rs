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

/// Takes the run the last entry of `report` belongs to out of it (entries only), for the next
/// chunk of the file may hold more of its steps: a file read in chunks then stores each run
/// whole, in one transaction, unless the file interleaves runs. Rejected lines and duplicates
/// stay in `report`.
pub fn take_open_run(report: &mut ReadReport) -> ReadReport {
    let Some(open) = report.entries.last().map(|e| e.run_id.clone()) else {
        return ReadReport::default();
    };
    let mut taken = ReadReport::default();
    let mut kept = ReadReport::default();
    let entries = std::mem::take(&mut report.entries);
    let lines = std::mem::take(&mut report.lines);
    for (entry, line) in entries.into_iter().zip(lines) {
        let side = if entry.run_id == open {
            &mut taken
        } else {
            &mut kept
        };
        side.entries.push(entry);
        side.lines.push(line);
    }
    report.entries = kept.entries;
    report.lines = kept.lines;
    taken
}

/// Puts `earlier` (held back from the previous chunk) in front of `report`'s entries.
pub fn prepend(earlier: ReadReport, report: &mut ReadReport) {
    let mut entries = earlier.entries;
    let mut lines = earlier.lines;
    entries.append(&mut report.entries);
    lines.append(&mut report.lines);
    report.entries = entries;
    report.lines = lines;
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

    fn steps(report: &ReadReport) -> Vec<(String, u64, usize)> {
        report
            .entries
            .iter()
            .zip(&report.lines)
            .map(|(e, l)| (e.run_id.clone(), e.step_id, *l))
            .collect()
    }

    #[test]
    fn the_run_a_chunk_ends_in_is_held_for_the_next_chunk() {
        let line = |run: &str, id: u64| {
            format!(
                r#"{{"timestamp":"t","run_id":"{run}","step_id":{id},"agent":"solver","action":"generate","input":{{}},"output":{{}},"metadata":{{}}}}"#
            )
        };
        let first = [line("a", 1), line("b", 1), "bad".into(), line("b", 2)].join("\n");
        let mut report = read_jsonl(&first);
        let held = take_open_run(&mut report);
        assert_eq!(steps(&report), [("a".to_string(), 1, 1)]);
        assert_eq!(
            report.rejected.len(),
            1,
            "rejected lines stay to be reported"
        );
        assert_eq!(
            steps(&held),
            [("b".to_string(), 1, 2), ("b".to_string(), 2, 4)]
        );
        let mut next = read_jsonl(&line("b", 3));
        next.lines = vec![5];
        prepend(held, &mut next);
        assert_eq!(
            steps(&next),
            [
                ("b".to_string(), 1, 2),
                ("b".to_string(), 2, 4),
                ("b".to_string(), 3, 5)
            ]
        );
        assert!(take_open_run(&mut ReadReport::default()).entries.is_empty());
    }
}
