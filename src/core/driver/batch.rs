//! [`BatchDriver`]: a batch's lifecycle. Its record is stored under a free id before the first
//! item starts (or, resumed, brought up to date with its stored runs), its items run through
//! the scheduler, each through the [`RunDriver`](super::RunDriver) ([`PipelineRunner`]), under
//! one batch budget; the record is saved as it goes ([`super::saver`]) and once more at the end.
//!
//! The batch's lock is held while it is driven; its runs are driven under it.

use std::cell::RefCell;
use std::rc::Rc;

use crate::core::batch::mirror::RecordMirror;
use crate::core::batch::runner::PipelineRunner;
use crate::core::batch::scheduler::{BatchControl, BatchEvent, Scheduler, SchedulerOptions};
use crate::core::batch::slots::{SharedSlots, SlottedRunner};
use crate::core::batch::{batch_id, BatchRecord, BatchSpec, BatchStatus, ItemKey};
use crate::core::budget::{BudgetGate, InvalidLimit};
use crate::core::clock::Clock;
use crate::core::config::PipelineConfig;
use crate::core::dataset::Problem;
use crate::core::pipeline::{PipelineEvent, SinkError};
use crate::core::pricing::Pricer;
use crate::core::run_store::BatchStore;

use super::error::{StartError, Work};
use super::locks::{Claim, NoLocks, TabLocks};
use super::run::LlmSource;
use super::saver::Saver;
use super::wait::join;

/// The least time between two saves of a running batch's record, ms, by default.
pub const SAVE_INTERVAL_MS: f64 = 500.0;

/// By default, the interval grows by this much per item of the batch, ms: each save writes
/// every item, so a save per interval would cost the page more the larger the batch. What a
/// closed tab loses by it is the record's last item updates, which resuming reads back from
/// the runs.
pub const SAVE_INTERVAL_MS_PER_ITEM: f64 = 0.5;

/// The default least time between two saves of a running batch of `items` items, ms.
pub fn default_save_interval_ms(items: usize) -> f64 {
    SAVE_INTERVAL_MS.max(items as f64 * SAVE_INTERVAL_MS_PER_ITEM)
}

/// What the driver reports while it drives a batch.
#[derive(Debug, Clone, Copy)]
pub enum BatchProgress<'e> {
    /// The batch's record is stored and its items start next.
    Started {
        /// The record as stored.
        record: &'e BatchRecord,
        /// The batch budget in force, USD.
        budget_usd: Option<f64>,
        /// The batch budget's gate (raised while the batch is paused); `None` when nothing is
        /// priced.
        gate: Option<&'e Rc<BudgetGate>>,
    },
    /// The scheduler reported `event`; `record` is the batch right after it.
    Batch {
        /// What happened.
        event: &'e BatchEvent,
        /// The batch's record now.
        record: &'e BatchRecord,
    },
    /// The loop of item `index` reported progress.
    Item {
        /// The item's position.
        index: usize,
        /// The item.
        key: &'e ItemKey,
        /// What happened.
        event: &'e PipelineEvent,
    },
    /// A save of the batch's record failed (its runs are stored step by step all the same).
    SaveFailed(&'e SinkError),
}

/// Drives batches. Every input is borrowed but the prices, which are shared.
pub struct BatchDriver<'a, L, C, S, K = NoLocks> {
    llm: &'a L,
    clock: &'a C,
    store: &'a S,
    locks: &'a K,
    pricer: Option<Rc<Pricer>>,
    listener: Option<&'a dyn Fn(&BatchProgress<'_>)>,
    options: SchedulerOptions,
    /// Set by [`with_save_interval`](BatchDriver::with_save_interval); by default
    /// [`default_save_interval_ms`].
    save_interval_ms: Option<f64>,
    mirror: Rc<RefCell<RecordMirror>>,
    /// Slots shared with other batches driven beside this one, and this batch's position.
    slots: Option<(Rc<SharedSlots>, usize)>,
}

impl<'a, L: LlmSource, C: Clock, S: BatchStore> BatchDriver<'a, L, C, S, NoLocks> {
    /// A driver calling the LLM `llm` makes for each batch's config, timed by `clock`, storing
    /// into `store`; without locks, prices or listener until given, saving the record at most
    /// every [`default_save_interval_ms`] of its items.
    pub fn new(llm: &'a L, clock: &'a C, store: &'a S) -> Self {
        BatchDriver {
            llm,
            clock,
            store,
            locks: &NoLocks,
            pricer: None,
            listener: None,
            options: SchedulerOptions::default(),
            save_interval_ms: None,
            mirror: Rc::default(),
            slots: None,
        }
    }
}

impl<'a, L: LlmSource, C: Clock, S: BatchStore, K: TabLocks> BatchDriver<'a, L, C, S, K> {
    /// Holds each batch's lock from `locks` while driving it.
    pub fn with_locks<K2: TabLocks>(self, locks: &'a K2) -> BatchDriver<'a, L, C, S, K2> {
        BatchDriver {
            llm: self.llm,
            clock: self.clock,
            store: self.store,
            locks,
            pricer: self.pricer,
            listener: self.listener,
            options: self.options,
            save_interval_ms: self.save_interval_ms,
            mirror: self.mirror,
            slots: self.slots,
        }
    }

    /// Prices every step, and holds the batch to its budget and each run to its own.
    pub fn with_pricer(mut self, pricer: Rc<Pricer>) -> Self {
        self.pricer = Some(pricer);
        self
    }

    /// Reports progress to `listener`.
    pub fn with_listener(mut self, listener: &'a dyn Fn(&BatchProgress<'_>)) -> Self {
        self.listener = Some(listener);
        self
    }

    /// Tunes the scheduler.
    pub fn with_scheduler_options(mut self, options: SchedulerOptions) -> Self {
        self.options = options;
        self
    }

    /// This driver's inputs, reporting to `listener` instead and following its batch in a
    /// mirror of its own: one batch of a larger whole (an experiment's config).
    pub fn reporting_to<'b>(
        &'b self,
        listener: &'b dyn Fn(&BatchProgress<'_>),
    ) -> BatchDriver<'b, L, C, S, K> {
        BatchDriver {
            llm: self.llm,
            clock: self.clock,
            store: self.store,
            locks: self.locks,
            pricer: self.pricer.clone(),
            listener: Some(listener),
            options: self.options,
            save_interval_ms: self.save_interval_ms,
            mirror: Rc::default(),
            slots: self.slots.clone(),
        }
    }

    /// Runs each item holding one of `slots`, shared with batches driven beside this one, as
    /// the batch at `position` among them (its items wait behind theirs of a lower index).
    pub fn with_shared_slots(mut self, slots: Rc<SharedSlots>, position: usize) -> Self {
        self.slots = Some((slots, position));
        self
    }

    /// The record of the batch going, as of its last event: what a page that shows it later
    /// reads (it copies only what each event changed, so following it costs the same however
    /// large the batch).
    pub fn mirror(&self) -> Rc<RefCell<RecordMirror>> {
        Rc::clone(&self.mirror)
    }

    /// Saves the running record at most every `interval_ms`.
    pub fn with_save_interval(mut self, interval_ms: f64) -> Self {
        self.save_interval_ms = Some(interval_ms);
        self
    }

    /// Stores a new batch of `spec` under a free id (its id is chosen again among the stored
    /// ones) and drives it over `problems` to its end, or until `control` cancels it; returns
    /// its last record.
    pub async fn start(
        &self,
        mut spec: BatchSpec,
        problems: &[Problem],
        control: BatchControl,
    ) -> Result<BatchRecord, StartError> {
        let budget_usd = spec.config.batch_budget_usd;
        let gate = self.gate(&spec.config, budget_usd, 0.0)?;
        let taken = self.store.batch_ids().await?;
        spec.batch_id = batch_id(spec.created_ms, &spec.config_hash, |id| taken.contains(id));
        // Held while the batch is driven, so another tab's start-up leaves it running. A fresh
        // id's lock is free.
        let _lock = self.locks.claim(&Work::Batch(spec.batch_id.clone())).await;
        let record = BatchRecord::new(spec);
        self.store.put_batch(&record).await?;
        Ok(self
            .drive(record, problems, control, budget_usd, gate)
            .await)
    }

    /// Continues stored batch `batch_id`: its items are brought up to date with its stored
    /// runs, and the unfinished ones run (a stopped run goes on from its last committed step);
    /// with `retry_failed`, failed items run again too. `offered_budget_usd` (the current
    /// config's batch budget) applies when it raises the batch's own ([`raised_budget`]).
    pub async fn resume(
        &self,
        batch_id: &str,
        retry_failed: bool,
        offered_budget_usd: Option<f64>,
        control: BatchControl,
    ) -> Result<BatchRecord, StartError> {
        let work = Work::Batch(batch_id.to_string());
        let _lock = match self.locks.claim(&work).await {
            Claim::Taken => return Err(StartError::OtherTab { work }),
            held => held,
        };
        let Some(mut record) = self.store.get_batch(batch_id).await? else {
            return Err(StartError::NotFound { work });
        };
        if matches!(record.status, BatchStatus::Running | BatchStatus::Paused) {
            return Err(StartError::RunningElsewhere {
                batch_id: batch_id.to_string(),
            });
        }
        let Some(problems) = self.store.dataset_problems(&record.spec.dataset_id).await? else {
            return Err(StartError::NoDataset {
                batch_id: batch_id.to_string(),
                dataset_id: record.spec.dataset_id.clone(),
                dataset_name: record.spec.dataset_name.clone(),
            });
        };
        record.spec.check_problems(&problems)?;
        let runs = self.store.batch_runs(batch_id).await?;
        record.reconcile(&problems, &runs);
        if retry_failed {
            record.retry_failed();
        }
        if record.items.iter().all(|i| i.is_finished()) {
            record.status = BatchStatus::Completed;
            record.message = None;
            record.updated_ms = self.clock.now_ms();
            if let Err(e) = self.store.put_batch(&record).await {
                self.emit(&BatchProgress::SaveFailed(&e));
            }
            return Ok(record);
        }
        let budget_usd = raised_budget(record.budget_usd(), offered_budget_usd);
        let progress = record.progress(record.spec.concurrency);
        // Requests that may have been billed count against the budget as if spent.
        let spent = progress.spent_usd.unwrap_or(0.0) + progress.possibly_billed_usd;
        let gate = self.gate(&record.spec.config, budget_usd, spent)?;
        Ok(self
            .drive(record, &problems, control, budget_usd, gate)
            .await)
    }

    /// The batch budget's gate over `budget_usd` with `spent_usd` spent; `None` when nothing
    /// is priced. Only the gate sees a raised budget: the runs keep the config (and hash) the
    /// batch was made with.
    fn gate(
        &self,
        config: &PipelineConfig,
        budget_usd: Option<f64>,
        spent_usd: f64,
    ) -> Result<Option<Rc<BudgetGate>>, StartError> {
        let Some(pricer) = &self.pricer else {
            return Ok(None);
        };
        let gate = batch_gate(Rc::clone(pricer), config, budget_usd, spent_usd)?;
        Ok(Some(Rc::new(gate)))
    }

    /// Runs `record`'s pending items to the end (or a cancel), saving the record as it goes.
    async fn drive(
        &self,
        record: BatchRecord,
        problems: &[Problem],
        control: BatchControl,
        budget_usd: Option<f64>,
        gate: Option<Rc<BudgetGate>>,
    ) -> BatchRecord {
        // The scheduler's record as of its last event, copied from it item by item; readers
        // (the saver, a page) take a copy only when they write or show it.
        let mirror = &self.mirror;
        *mirror.borrow_mut() = RecordMirror::new();
        self.emit(&BatchProgress::Started {
            record: &record,
            budget_usd,
            gate: gate.as_ref(),
        });
        let spec = record.spec.clone();
        let on_item = |index: usize, key: &ItemKey, event: &PipelineEvent| {
            self.emit(&BatchProgress::Item { index, key, event });
        };
        let mut runner = PipelineRunner::new(&spec, problems, self.llm, self.clock, self.store)
            .with_listener(&on_item);
        if let Some(gate) = &gate {
            runner = runner.with_gate(gate.as_ref());
        }
        if let Some(pricer) = &self.pricer {
            runner = runner.with_pricer(Rc::clone(pricer));
        }
        let on_save_error = |e: &SinkError| self.emit(&BatchProgress::SaveFailed(e));
        let saver = Saver::new(
            self.store,
            self.clock,
            self.save_interval_ms
                .unwrap_or_else(|| default_save_interval_ms(record.items.len())),
            Rc::clone(mirror),
            &on_save_error,
        );
        let on_event = |event: &BatchEvent, record: &BatchRecord| {
            mirror.borrow_mut().follow(event, record);
            saver.changed(matches!(event, BatchEvent::Status(_)));
            self.emit(&BatchProgress::Batch { event, record });
        };
        let runner = SlottedRunner::new(&runner, self.slots.clone());
        let scheduler = Scheduler::new(&runner, self.clock, control)
            .with_listener(&on_event)
            .with_options(self.options);
        let batch = async {
            let finished = scheduler.run(record).await;
            saver.save_last(finished.clone());
            finished
        };
        let (finished, ()) = join(batch, saver.run()).await;
        finished
    }

    fn emit(&self, progress: &BatchProgress<'_>) {
        if let Some(listener) = self.listener {
            listener(progress);
        }
    }
}

/// The gate for a batch budget of `budget_usd` shared by every run of a batch made with
/// `config`, with `already_spent_usd` (the batch's earlier sessions) counted as spent; every
/// call passes when there is no budget.
pub fn batch_gate(
    pricer: Rc<Pricer>,
    config: &PipelineConfig,
    budget_usd: Option<f64>,
    already_spent_usd: f64,
) -> Result<BudgetGate, InvalidLimit> {
    BudgetGate::capped(
        pricer,
        "batch",
        budget_usd,
        already_spent_usd,
        config.max_reasks,
    )
}

/// The batch budget a resumed batch runs under: its own (`stored`: the config's it was made
/// with, or what it was raised to while paused), or the one offered (`offered`, the current
/// config's) when that is larger, so a batch stopped by its budget can be resumed after the
/// budget is raised. A lower or absent offer changes nothing: a batch never loses the cap it
/// was started with.
pub fn raised_budget(stored: Option<f64>, offered: Option<f64>) -> Option<f64> {
    match (stored, offered) {
        (Some(stored), Some(offered)) if offered.is_finite() && offered > stored => Some(offered),
        (stored, _) => stored,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_larger_batch_is_saved_less_often() {
        assert_eq!(default_save_interval_ms(1), SAVE_INTERVAL_MS);
        assert_eq!(default_save_interval_ms(1_000), SAVE_INTERVAL_MS);
        assert_eq!(default_save_interval_ms(2_000), 1_000.0);
        assert_eq!(default_save_interval_ms(10_000), 5_000.0);
    }

    #[test]
    fn only_a_larger_offered_budget_applies_on_resume() {
        assert_eq!(raised_budget(Some(1.0), Some(2.5)), Some(2.5));
        assert_eq!(raised_budget(Some(1.0), Some(0.5)), Some(1.0));
        assert_eq!(raised_budget(Some(1.0), None), Some(1.0));
        assert_eq!(raised_budget(Some(1.0), Some(f64::INFINITY)), Some(1.0));
        // A batch made without a cap stays without one.
        assert_eq!(raised_budget(None, Some(3.0)), None);
        assert_eq!(raised_budget(None, None), None);
    }
}
