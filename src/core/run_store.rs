//! Where a run's records and steps are kept ([`RunStore`]), and the sink through which the
//! run's driver (a batch item, or the run page) commits each step with the record counting it
//! ([`RunSink`]).

use std::cell::RefCell;
use std::collections::{BTreeMap, HashSet};

use crate::core::pipeline::{SinkError, TrajectorySink};
use crate::core::sorting;
use crate::core::trajectory::{run_id, RunRecord, TrajectoryEntry};

/// Where runs are kept: the run records and their steps. IndexedDB in the browser,
/// [`MemoryRunStore`] in tests.
// Futures are not `Send` in the browser, by design.
#[allow(async_fn_in_trait)]
pub trait RunStore {
    /// Commits one step of the run whose stored record is `record`, together with that record
    /// counting the step, and returns the new record. The caller drives the run and so holds
    /// its current record: nothing is read first.
    async fn append_step(
        &self,
        record: &RunRecord,
        entry: &TrajectoryEntry,
    ) -> Result<RunRecord, SinkError>;
    /// Stores a new run's record unless a run with its id is stored already: `Ok(false)`, and
    /// nothing written, when the id is taken. One round trip: a batch creates a run per item.
    async fn create_run_if_free(&self, record: &RunRecord) -> Result<bool, SinkError>;
    /// Replaces a run's record.
    async fn put_run(&self, record: &RunRecord) -> Result<(), SinkError>;
    /// A run's record, if stored.
    async fn get_run(&self, run_id: &str) -> Result<Option<RunRecord>, SinkError>;
    /// A run's committed steps, in step order.
    async fn steps(&self, run_id: &str) -> Result<Vec<TrajectoryEntry>, SinkError>;
}

/// Stores new run `record` under the first free id of the original's form for its start time
/// and config (`run_<date>_<time>_<hash>`, then `_2`, `_3`, … for runs started in the same
/// second), which it sets in `record.run_id`.
///
/// Each try is one `create_if_free` round trip (`Ok(false)`: the id is taken), so two tabs
/// never get the same id. `tried` keeps every id tried, reserved before its try: creations
/// going on together (a batch's items) skip each other's, and later ones do not try a taken
/// id again, which would cost a whole transaction.
pub async fn create_under_free_id<E>(
    record: &mut RunRecord,
    tried: &RefCell<HashSet<String>>,
    mut create_if_free: impl AsyncFnMut(&RunRecord) -> Result<bool, E>,
) -> Result<(), E> {
    loop {
        let candidate = {
            let mut tried = tried.borrow_mut();
            let id = run_id(record.created_ms, &record.config_hash, |id| {
                tried.contains(id)
            });
            tried.insert(id.clone());
            id
        };
        record.run_id = candidate;
        if create_if_free(record).await? {
            return Ok(());
        }
    }
}

/// Runs and steps in memory (tests, the demo).
#[derive(Debug, Default)]
pub struct MemoryRunStore {
    runs: RefCell<BTreeMap<String, RunRecord>>,
    steps: RefCell<Vec<TrajectoryEntry>>,
}

impl MemoryRunStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Stores a run and its steps as they are (to set up a resume).
    pub fn insert(&self, record: RunRecord, steps: Vec<TrajectoryEntry>) {
        self.runs.borrow_mut().insert(record.run_id.clone(), record);
        self.steps.borrow_mut().extend(steps);
    }

    /// Every run record, by run id.
    pub fn records(&self) -> Vec<RunRecord> {
        self.runs.borrow().values().cloned().collect()
    }

    /// A run's record.
    pub fn record(&self, run_id: &str) -> Option<RunRecord> {
        self.runs.borrow().get(run_id).cloned()
    }

    /// A run's steps in step order.
    pub fn steps_of(&self, run_id: &str) -> Vec<TrajectoryEntry> {
        let mut steps: Vec<TrajectoryEntry> = self
            .steps
            .borrow()
            .iter()
            .filter(|e| e.run_id == run_id)
            .cloned()
            .collect();
        sorting::sort_by_key(&mut steps, |e| e.step_id);
        steps
    }
}

impl RunStore for MemoryRunStore {
    async fn append_step(
        &self,
        record: &RunRecord,
        entry: &TrajectoryEntry,
    ) -> Result<RunRecord, SinkError> {
        let mut steps = self.steps.borrow_mut();
        if steps
            .iter()
            .any(|e| e.run_id == entry.run_id && e.step_id == entry.step_id)
        {
            return Err(SinkError::new(format!(
                "step {} of run {} is already stored",
                entry.step_id, entry.run_id
            )));
        }
        steps.push(entry.clone());
        let mut updated = record.clone();
        updated.add_step(entry, record.updated_ms);
        self.runs
            .borrow_mut()
            .insert(updated.run_id.clone(), updated.clone());
        Ok(updated)
    }

    async fn create_run_if_free(&self, record: &RunRecord) -> Result<bool, SinkError> {
        let mut runs = self.runs.borrow_mut();
        if runs.contains_key(&record.run_id) {
            return Ok(false);
        }
        runs.insert(record.run_id.clone(), record.clone());
        Ok(true)
    }

    async fn put_run(&self, record: &RunRecord) -> Result<(), SinkError> {
        self.runs
            .borrow_mut()
            .insert(record.run_id.clone(), record.clone());
        Ok(())
    }

    async fn get_run(&self, run_id: &str) -> Result<Option<RunRecord>, SinkError> {
        Ok(self.record(run_id))
    }

    async fn steps(&self, run_id: &str) -> Result<Vec<TrajectoryEntry>, SinkError> {
        Ok(self.steps_of(run_id))
    }
}

/// The sink of one run: each step is committed together with the run's record counting it,
/// from the record held here (see [`RunStore::append_step`]). The run's driver hands it the
/// record once stored, before the first step.
pub struct RunSink<'a, S> {
    store: &'a S,
    record: RefCell<Option<RunRecord>>,
    last_call_done: Option<&'a dyn Fn()>,
}

impl<'a, S: RunStore> RunSink<'a, S> {
    /// A sink into `store` that holds no record yet.
    pub fn new(store: &'a S) -> Self {
        RunSink {
            store,
            record: RefCell::new(None),
            last_call_done: None,
        }
    }

    /// Calls `done` as the run's terminal step (the judge's) comes in to be stored, before it
    /// is: that step's call was the run's last, so whoever limits the calls in flight may count
    /// the run out while its last step is committed.
    pub fn on_last_call(mut self, done: &'a dyn Fn()) -> Self {
        self.last_call_done = Some(done);
        self
    }

    /// Takes over `record`, the run's record as stored now.
    pub fn hold(&self, record: RunRecord) {
        self.record.replace(Some(record));
    }

    /// The run's record as stored now (after the last committed step).
    pub fn record(&self) -> Option<RunRecord> {
        self.record.borrow().clone()
    }
}

impl<S: RunStore> TrajectorySink for RunSink<'_, S> {
    async fn append(&self, entry: &TrajectoryEntry) -> Result<(), SinkError> {
        if entry.terminal {
            if let Some(done) = self.last_call_done {
                done();
            }
        }
        let Some(current) = self.record.take() else {
            return Err(SinkError::new(format!(
                "step {} of run {} has no stored run record to count it in",
                entry.step_id, entry.run_id
            )));
        };
        let result = self.store.append_step(&current, entry).await;
        self.record.replace(Some(match &result {
            Ok(updated) => updated.clone(),
            Err(_) => current,
        }));
        result.map(drop)
    }
}
