//! Where runs and batches are kept ([`RunStore`], [`BatchStore`]), and the sink through which
//! the run driver ([`crate::core::driver`]) commits each step with the record counting it
//! ([`RunSink`]).

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap, HashSet};

use crate::core::batch::{BatchRecord, BatchStatus};
use crate::core::dataset::Problem;
use crate::core::driver::startup::{StartupStore, INTERRUPTED_MESSAGE};
use crate::core::in_flight::InFlightCall;
use crate::core::pipeline::{SinkError, TrajectorySink};
use crate::core::sorting;
use crate::core::trajectory::{run_id, RunRecord, RunStatus, TrajectoryEntry};

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
    /// Stores new run `record` under the first free id for its start time and config, which
    /// it sets in `record.run_id` (see [`create_under_free_id`]; the ids this store tried are
    /// not tried again, so runs created together, a batch's items, skip each other's).
    async fn create_run_under_free_id(&self, record: &mut RunRecord) -> Result<(), SinkError>;
    /// [`RunStore::create_run_under_free_id`], then [`RunStore::begin_call`] of the run's
    /// first call (whose `run_id` it sets), in one write where the store can. Returns whether
    /// `first_call` is stored: a run created without it is `Ok`, and the loop records the call
    /// again before sending it.
    async fn create_run_before_call(
        &self,
        record: &mut RunRecord,
        first_call: &mut InFlightCall,
    ) -> Result<bool, SinkError> {
        self.create_run_under_free_id(record).await?;
        first_call.run_id.clone_from(&record.run_id);
        Ok(self.begin_call(first_call).await.is_ok())
    }
    /// Replaces a run's record.
    async fn put_run(&self, record: &RunRecord) -> Result<(), SinkError>;
    /// A run's record, if stored.
    async fn get_run(&self, run_id: &str) -> Result<Option<RunRecord>, SinkError>;
    /// A run's committed steps, in step order.
    async fn steps(&self, run_id: &str) -> Result<Vec<TrajectoryEntry>, SinkError>;
    /// Stores `call` durably before its first request is sent (see [`crate::core::in_flight`]).
    /// [`RunStore::append_step`] removes the call of the step it commits, in the same write.
    async fn begin_call(&self, call: &InFlightCall) -> Result<(), SinkError>;
    /// [`RunStore::append_step`], then [`RunStore::begin_call`] of `next_call` (the call the
    /// step leads to), in one write where the store can. Returns the new record and whether
    /// `next_call` is stored: a step committed without it is `Ok`, and the loop records the
    /// call again before sending it.
    async fn append_step_before_call(
        &self,
        record: &RunRecord,
        entry: &TrajectoryEntry,
        next_call: &InFlightCall,
    ) -> Result<(RunRecord, bool), SinkError> {
        let updated = self.append_step(record, entry).await?;
        let stored = self.begin_call(next_call).await.is_ok();
        Ok((updated, stored))
    }
    /// The calls of run `run_id` stored as in flight.
    async fn in_flight_calls(&self, run_id: &str) -> Result<Vec<InFlightCall>, SinkError>;
    /// Replaces a run's record and removes every call of the run stored as in flight, in one
    /// write: the record counts them from now on (a run's final summary, a recovery).
    async fn put_run_settling_calls(&self, record: &RunRecord) -> Result<(), SinkError>;
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

/// Where batches, and the datasets they run, are kept beside their runs.
// Futures are not `Send` in the browser, by design.
#[allow(async_fn_in_trait)]
pub trait BatchStore: RunStore {
    /// Stores a batch's record, replacing the one with the same id.
    async fn put_batch(&self, record: &BatchRecord) -> Result<(), SinkError>;
    /// A batch's record, if stored.
    async fn get_batch(&self, batch_id: &str) -> Result<Option<BatchRecord>, SinkError>;
    /// The ids of every stored batch.
    async fn batch_ids(&self) -> Result<HashSet<String>, SinkError>;
    /// The problems of a stored dataset, in file order; `None` when it is not stored.
    async fn dataset_problems(&self, dataset_id: &str) -> Result<Option<Vec<Problem>>, SinkError>;
    /// The records of the runs tagged with batch `batch_id`.
    async fn batch_runs(&self, batch_id: &str) -> Result<Vec<RunRecord>, SinkError>;
}

/// Runs, steps, batches and datasets in memory (tests).
#[derive(Debug, Default)]
pub struct MemoryRunStore {
    runs: RefCell<BTreeMap<String, RunRecord>>,
    steps: RefCell<Vec<TrajectoryEntry>>,
    tried_run_ids: RefCell<HashSet<String>>,
    batches: RefCell<BTreeMap<String, BatchRecord>>,
    datasets: RefCell<HashMap<String, Vec<Problem>>>,
    in_flight: RefCell<BTreeMap<String, InFlightCall>>,
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

    /// Stores a dataset's problems under `dataset_id`.
    pub fn insert_dataset(&self, dataset_id: &str, problems: Vec<Problem>) {
        self.datasets
            .borrow_mut()
            .insert(dataset_id.to_string(), problems);
    }

    /// A batch's record.
    pub fn batch(&self, batch_id: &str) -> Option<BatchRecord> {
        self.batches.borrow().get(batch_id).cloned()
    }

    /// Stores a new run's record unless a run with its id is stored already: `false`, and
    /// nothing written, when the id is taken.
    pub fn create_run_if_free(&self, record: &RunRecord) -> bool {
        let mut runs = self.runs.borrow_mut();
        if runs.contains_key(&record.run_id) {
            return false;
        }
        runs.insert(record.run_id.clone(), record.clone());
        true
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
        self.in_flight
            .borrow_mut()
            .remove(&crate::core::in_flight::in_flight_key(
                &entry.run_id,
                entry.step_id,
            ));
        let mut updated = record.clone();
        updated.add_step(entry, record.updated_ms);
        self.runs
            .borrow_mut()
            .insert(updated.run_id.clone(), updated.clone());
        Ok(updated)
    }

    async fn create_run_under_free_id(&self, record: &mut RunRecord) -> Result<(), SinkError> {
        create_under_free_id(record, &self.tried_run_ids, async |r: &RunRecord| {
            Ok(self.create_run_if_free(r))
        })
        .await
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

    async fn begin_call(&self, call: &InFlightCall) -> Result<(), SinkError> {
        self.in_flight.borrow_mut().insert(call.key(), call.clone());
        Ok(())
    }

    async fn in_flight_calls(&self, run_id: &str) -> Result<Vec<InFlightCall>, SinkError> {
        Ok(self
            .in_flight
            .borrow()
            .values()
            .filter(|c| c.run_id == run_id)
            .cloned()
            .collect())
    }

    async fn put_run_settling_calls(&self, record: &RunRecord) -> Result<(), SinkError> {
        self.in_flight
            .borrow_mut()
            .retain(|_, c| c.run_id != record.run_id);
        self.put_run(record).await
    }
}

impl BatchStore for MemoryRunStore {
    async fn put_batch(&self, record: &BatchRecord) -> Result<(), SinkError> {
        self.batches
            .borrow_mut()
            .insert(record.spec.batch_id.clone(), record.clone());
        Ok(())
    }

    async fn get_batch(&self, batch_id: &str) -> Result<Option<BatchRecord>, SinkError> {
        Ok(self.batch(batch_id))
    }

    async fn batch_ids(&self) -> Result<HashSet<String>, SinkError> {
        Ok(self.batches.borrow().keys().cloned().collect())
    }

    async fn dataset_problems(&self, dataset_id: &str) -> Result<Option<Vec<Problem>>, SinkError> {
        Ok(self.datasets.borrow().get(dataset_id).cloned())
    }

    async fn batch_runs(&self, batch_id: &str) -> Result<Vec<RunRecord>, SinkError> {
        Ok(self
            .runs
            .borrow()
            .values()
            .filter(|r| r.batch_id.as_deref() == Some(batch_id))
            .cloned()
            .collect())
    }
}

/// The start-up check over memory, as the browser's store does it.
impl StartupStore for MemoryRunStore {
    async fn running_runs(&self) -> Result<Vec<(String, Option<String>)>, SinkError> {
        Ok(self
            .runs
            .borrow()
            .values()
            .filter(|r| r.status == RunStatus::Running)
            .map(|r| (r.run_id.clone(), r.batch_id.clone()))
            .collect())
    }

    async fn mark_runs_interrupted(
        &self,
        ids: &[String],
        now_ms: f64,
    ) -> Result<Vec<String>, SinkError> {
        let mut runs = self.runs.borrow_mut();
        let mut marked = Vec::new();
        for id in ids {
            if let Some(run) = runs.get_mut(id).filter(|r| r.status == RunStatus::Running) {
                run.status = RunStatus::Interrupted;
                run.message = Some(INTERRUPTED_MESSAGE.to_string());
                run.updated_ms = now_ms;
                marked.push(id.clone());
            }
        }
        Ok(marked)
    }

    async fn runs_with_calls_in_flight(&self) -> Result<Vec<String>, SinkError> {
        let mut ids: Vec<String> = self
            .in_flight
            .borrow()
            .values()
            .map(|c| c.run_id.clone())
            .collect();
        ids.sort();
        ids.dedup();
        Ok(ids)
    }

    async fn unfinished_batch_ids(&self) -> Result<Vec<String>, SinkError> {
        Ok(self
            .batches
            .borrow()
            .values()
            .filter(|b| matches!(b.status, BatchStatus::Running | BatchStatus::Paused))
            .map(|b| b.spec.batch_id.clone())
            .collect())
    }

    async fn mark_batches_interrupted(
        &self,
        ids: &[String],
        now_ms: f64,
    ) -> Result<Vec<String>, SinkError> {
        let mut batches = self.batches.borrow_mut();
        let mut marked = Vec::new();
        for id in ids {
            let unfinished = batches
                .get_mut(id)
                .filter(|b| matches!(b.status, BatchStatus::Running | BatchStatus::Paused));
            if let Some(batch) = unfinished {
                batch.mark_interrupted(now_ms);
                marked.push(id.clone());
            }
        }
        Ok(marked)
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

    /// Reads the run's record as stored now without copying it.
    pub fn with_record<T>(&self, read: impl FnOnce(Option<&RunRecord>) -> T) -> T {
        read(self.record.borrow().as_ref())
    }
}

impl<S: RunStore> TrajectorySink for RunSink<'_, S> {
    async fn call_started(&self, call: &InFlightCall) -> Result<(), SinkError> {
        self.store.begin_call(call).await
    }

    async fn append(&self, entry: &TrajectoryEntry) -> Result<(), SinkError> {
        self.commit(entry, None).await.map(drop)
    }

    async fn append_before_call(
        &self,
        entry: &TrajectoryEntry,
        next_call: &InFlightCall,
    ) -> Result<bool, SinkError> {
        self.commit(entry, Some(next_call)).await
    }
}

impl<S: RunStore> RunSink<'_, S> {
    /// Commits `entry` with the record counting it (and `next_call` in flight, if given);
    /// returns whether `next_call` is stored.
    async fn commit(
        &self,
        entry: &TrajectoryEntry,
        next_call: Option<&InFlightCall>,
    ) -> Result<bool, SinkError> {
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
        let result = match next_call {
            Some(call) => {
                self.store
                    .append_step_before_call(&current, entry, call)
                    .await
            }
            None => self
                .store
                .append_step(&current, entry)
                .await
                .map(|r| (r, false)),
        };
        match result {
            Ok((updated, stored)) => {
                self.record.replace(Some(updated));
                Ok(stored)
            }
            Err(e) => {
                self.record.replace(Some(current));
                Err(e)
            }
        }
    }
}
