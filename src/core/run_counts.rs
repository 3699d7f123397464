//! How many runs are stored in each status: the Runs page's counts, kept up to date by every
//! change that stores, re-statuses or deletes a run (the store keeps one record of them, in the
//! transaction of the change), so that the page reads one record instead of counting runs.

use serde::{Deserialize, Serialize};

use crate::core::trajectory::RunStatus;

/// Runs stored per status. A status no run is in counts 0 (and may be absent from the stored
/// record: a record of an older build that knew fewer statuses reads the same).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct RunCounts {
    /// Runs being made.
    pub running: u64,
    /// Runs the judge ended.
    pub completed: u64,
    /// Runs that stopped on an error.
    pub failed: u64,
    /// Runs the user cancelled.
    pub cancelled: u64,
    /// Runs cut off by a closed page.
    pub interrupted: u64,
    /// Runs a budget stopped.
    pub budget_exceeded: u64,
}

/// A change to the counts that is impossible from where they stand (a run leaves a status no
/// run is counted in): the stored counts had drifted from the runs, and must be counted again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the run counts say no run is {0}, yet one left that status: they must be counted again")]
pub struct CountsDrifted(pub RunStatus);

impl RunCounts {
    /// The counts of `per_status` (each status with its number of runs; a status given twice
    /// adds up).
    pub fn of(per_status: impl IntoIterator<Item = (RunStatus, u64)>) -> RunCounts {
        let mut counts = RunCounts::default();
        for (status, n) in per_status {
            *counts.slot(status) += n;
        }
        counts
    }

    /// Runs in `status`.
    pub fn in_status(&self, status: RunStatus) -> u64 {
        match status {
            RunStatus::Running => self.running,
            RunStatus::Completed => self.completed,
            RunStatus::Failed => self.failed,
            RunStatus::Cancelled => self.cancelled,
            RunStatus::Interrupted => self.interrupted,
            RunStatus::BudgetExceeded => self.budget_exceeded,
        }
    }

    /// Every run stored.
    pub fn total(&self) -> u64 {
        self.running
            + self.completed
            + self.failed
            + self.cancelled
            + self.interrupted
            + self.budget_exceeded
    }

    /// Runs in `status`, or every run when `None` (the Runs page's status filter).
    pub fn matching(&self, status: Option<RunStatus>) -> u64 {
        status.map_or_else(|| self.total(), |s| self.in_status(s))
    }

    /// Counts one run going from status `from` to status `to`, `None` standing for "not
    /// stored": `(None, Some(s))` a run stored, `(Some(s), None)` a run deleted, `(Some(a),
    /// Some(b))` a run re-statused (nothing changes when `a == b`).
    ///
    /// Refused, with the counts left as they were, when `from` counts no run: the record had
    /// drifted from the runs, and a count kept from there would stay wrong.
    pub fn apply(
        &mut self,
        from: Option<RunStatus>,
        to: Option<RunStatus>,
    ) -> Result<(), CountsDrifted> {
        if from == to {
            return Ok(());
        }
        if let Some(from) = from {
            let slot = self.slot(from);
            *slot = slot.checked_sub(1).ok_or(CountsDrifted(from))?;
        }
        if let Some(to) = to {
            *self.slot(to) += 1;
        }
        Ok(())
    }

    fn slot(&mut self, status: RunStatus) -> &mut u64 {
        match status {
            RunStatus::Running => &mut self.running,
            RunStatus::Completed => &mut self.completed,
            RunStatus::Failed => &mut self.failed,
            RunStatus::Cancelled => &mut self.cancelled,
            RunStatus::Interrupted => &mut self.interrupted,
            RunStatus::BudgetExceeded => &mut self.budget_exceeded,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_stored_restatused_and_deleted_moves_one_count_at_a_time() {
        let mut counts = RunCounts::default();
        counts.apply(None, Some(RunStatus::Running)).unwrap();
        counts.apply(None, Some(RunStatus::Running)).unwrap();
        assert_eq!((counts.running, counts.total()), (2, 2));

        counts
            .apply(Some(RunStatus::Running), Some(RunStatus::Completed))
            .unwrap();
        counts
            .apply(Some(RunStatus::Running), Some(RunStatus::Interrupted))
            .unwrap();
        assert_eq!(counts.in_status(RunStatus::Running), 0);
        assert_eq!(counts.in_status(RunStatus::Completed), 1);
        assert_eq!(counts.matching(Some(RunStatus::Interrupted)), 1);
        assert_eq!(counts.matching(None), 2);

        counts.apply(Some(RunStatus::Completed), None).unwrap();
        assert_eq!(counts, RunCounts::of([(RunStatus::Interrupted, 1)]));
    }

    #[test]
    fn a_run_saved_again_in_the_same_status_changes_nothing() {
        let mut counts = RunCounts::of([(RunStatus::Failed, 3)]);
        counts
            .apply(Some(RunStatus::Failed), Some(RunStatus::Failed))
            .unwrap();
        counts.apply(None, None).unwrap();
        assert_eq!(counts, RunCounts::of([(RunStatus::Failed, 3)]));
    }

    #[test]
    fn leaving_a_status_no_run_is_counted_in_is_refused_and_changes_nothing() {
        let mut counts = RunCounts::of([(RunStatus::Completed, 1)]);
        let before = counts;
        assert_eq!(
            counts.apply(Some(RunStatus::Running), Some(RunStatus::Completed)),
            Err(CountsDrifted(RunStatus::Running))
        );
        assert_eq!(
            counts.apply(Some(RunStatus::Cancelled), None),
            Err(CountsDrifted(RunStatus::Cancelled))
        );
        assert_eq!(counts, before);
    }

    #[test]
    fn counts_of_every_status_add_up_and_round_trip_as_json() {
        let counts = RunCounts::of([
            (RunStatus::Running, 1),
            (RunStatus::Completed, 7),
            (RunStatus::Failed, 2),
            (RunStatus::Cancelled, 1),
            (RunStatus::Interrupted, 4),
            (RunStatus::BudgetExceeded, 5),
            (RunStatus::Completed, 3),
        ]);
        assert_eq!(counts.completed, 10);
        assert_eq!(counts.total(), 23);
        let json = serde_json::to_string(&counts).unwrap();
        assert_eq!(serde_json::from_str::<RunCounts>(&json).unwrap(), counts);
    }

    #[test]
    fn a_record_missing_a_status_reads_it_as_zero() {
        let counts: RunCounts = serde_json::from_str(r#"{"completed":2,"running":1}"#).unwrap();
        assert_eq!(
            counts,
            RunCounts::of([(RunStatus::Completed, 2), (RunStatus::Running, 1)])
        );
        assert_eq!(counts.in_status(RunStatus::BudgetExceeded), 0);
    }
}
