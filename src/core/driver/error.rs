//! Why a run or a batch could not be started or resumed: one error for both, whichever page
//! asked. When it is returned nothing was called, and nothing stored was changed.

use std::fmt;

use crate::core::batch::BatchError;
use crate::core::budget::InvalidLimit;
use crate::core::pipeline::{ResumeError, SinkError};
use crate::core::trajectory::RunStatus;

/// A run or a batch, named in a refusal.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Work {
    /// The run with this id.
    Run(String),
    /// The batch with this id.
    Batch(String),
}

impl Work {
    /// The way another tab lets the user steer it: a run is followed, a batch paused.
    fn steered_by(&self) -> &'static str {
        match self {
            Work::Run(_) => "follow",
            Work::Batch(_) => "pause",
        }
    }
}

impl fmt::Display for Work {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Work::Run(id) => write!(f, "run {id}"),
            Work::Batch(id) => write!(f, "batch {id}"),
        }
    }
}

/// Why a run or a batch could not be started or resumed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum StartError {
    /// This tab is driving another one already (one run and one batch at a time).
    #[error("{work} is still going in this tab; wait for it to finish or cancel it first")]
    Busy {
        /// What is going.
        work: Work,
    },
    /// The check for work a closed tab left behind has not finished.
    #[error("the run store is still being opened; try again in a moment")]
    NotReady,
    /// A run needs a problem.
    #[error("enter a problem to solve first")]
    EmptyProblem,
    /// The config has problems.
    #[error("the configuration has {count} problem{}; fix {} on the Configure page first", if *count == 1 { "" } else { "s" }, if *count == 1 { "it" } else { "them" })]
    InvalidConfig {
        /// How many problems.
        count: usize,
    },
    /// The batch as asked does not hold (concurrency, no problems, duplicates, unknown ids).
    #[error("{0}")]
    Batch(#[from] BatchError),
    /// A budget of the config is not an amount that can be used.
    #[error("{0}; fix it on the Configure page")]
    Budget(#[from] InvalidLimit),
    /// The store failed (its message says what was being done).
    #[error("{0}")]
    Storage(#[from] SinkError),
    /// A config's batch of an experiment in provider batch mode, asked to go on alone: its
    /// rounds are the experiment's (shared with its other configs), so it goes on with them.
    #[error("batch {batch_id} is one config of the experiment “{experiment}”, whose configs go through the providers' batch APIs together; resume the experiment on the Experiments page")]
    ExperimentInRounds {
        /// The batch asked for.
        batch_id: String,
        /// The experiment's name.
        experiment: String,
    },
    /// The run or batch is not stored.
    #[error("{work} is not stored (it may have been deleted in another tab)")]
    NotFound {
        /// What was asked for.
        work: Work,
    },
    /// A completed run has nothing left to do.
    #[error("run {run_id} is already completed; there is nothing to resume")]
    AlreadyCompleted {
        /// The run asked for.
        run_id: String,
    },
    /// The run's judge step is stored: the run is over, though not `completed` (a run that
    /// produced no answer is `failed` after its judge step).
    #[error("run {run_id} is over: its judge step is saved (it ended {status}); there is nothing to resume, start a new run instead")]
    AlreadyJudged {
        /// The run asked for.
        run_id: String,
        /// How it ended.
        status: RunStatus,
    },
    /// The run was imported without its config, and the config offered is another one.
    #[error("run {run_id} was imported from a file without its configuration (config hash {config_hash}); load a config with that hash on the Configure page to resume it (the current one has hash {current_hash})")]
    NoConfig {
        /// The run asked for.
        run_id: String,
        /// The hash the run's steps carry.
        config_hash: String,
        /// The hash of the config offered (empty when none was).
        current_hash: String,
    },
    /// Another open tab of the app is driving it (it holds its lock).
    #[error("{work} is going in another tab of this app; {} or cancel it there (it can be resumed here once that tab has stopped it or is closed)", work.steered_by())]
    OtherTab {
        /// What was asked for.
        work: Work,
    },
    /// The run belongs to a batch that is going (in this tab or another), which drives it.
    #[error("run {run_id} belongs to batch {batch_id}, which is going now and finishes the run itself; pause or cancel the batch first to resume the run on its own")]
    BatchGoing {
        /// The run asked for.
        run_id: String,
        /// Its batch.
        batch_id: String,
    },
    /// The stored batch is marked running, and not by this tab.
    #[error("batch {batch_id} is running in another tab of this browser; continue it there, or close that tab and reload this one")]
    RunningElsewhere {
        /// The batch.
        batch_id: String,
    },
    /// The dataset the batch runs is no longer stored.
    #[error("the dataset {dataset_name} ({dataset_id}) of batch {batch_id} is no longer stored; import the same file again (same problems, same id) to resume the batch")]
    NoDataset {
        /// The batch.
        batch_id: String,
        /// The dataset's id.
        dataset_id: String,
        /// The dataset's name.
        dataset_name: String,
    },
    /// A fork was asked from a step the run does not have.
    #[error("run {run_id} has no step {step_id} to fork from (it has {steps} step{})", if *steps == 1 { "" } else { "s" })]
    NoSuchStep {
        /// The source run.
        run_id: String,
        /// The step asked for.
        step_id: u64,
        /// How many steps the run has.
        steps: usize,
    },
    /// A re-judge was asked of a run whose judge step is not stored.
    #[error("run {run_id} has no judge step to judge again (it ended {status} before its judge); resume it, or fork it instead")]
    NotJudged {
        /// The source run.
        run_id: String,
        /// How it ended.
        status: RunStatus,
    },
    /// The stored steps are not the ones the config's loop makes.
    #[error("run {run_id} cannot be resumed: {error}")]
    Resume {
        /// The run asked for.
        run_id: String,
        /// What does not fit.
        error: ResumeError,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_name_the_work_and_what_to_do() {
        let run = Work::Run("run_a".into());
        let batch = Work::Batch("batch_b".into());
        assert_eq!(
            StartError::OtherTab { work: run.clone() }.to_string(),
            "run run_a is going in another tab of this app; follow or cancel it there (it can be \
             resumed here once that tab has stopped it or is closed)"
        );
        assert!(StartError::OtherTab {
            work: batch.clone()
        }
        .to_string()
        .starts_with("batch batch_b is going in another tab of this app; pause or cancel"));
        assert_eq!(
            StartError::NotFound { work: batch }.to_string(),
            "batch batch_b is not stored (it may have been deleted in another tab)"
        );
        assert_eq!(
            StartError::InvalidConfig { count: 1 }.to_string(),
            "the configuration has 1 problem; fix it on the Configure page first"
        );
        assert_eq!(
            StartError::InvalidConfig { count: 3 }.to_string(),
            "the configuration has 3 problems; fix them on the Configure page first"
        );
    }
}
