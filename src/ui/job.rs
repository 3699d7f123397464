//! Async work a page starts (a save, a delete, an import, an export) as signals: whether it is
//! going and how it last ended ([`Job`]).

use std::future::Future;

use leptos::prelude::*;
use wasm_bindgen_futures::spawn_local;

/// An async job of a page: whether it is going, and how it last ended.
///
/// Only the newest run's outcome lands: a slow run started earlier never overwrites a later
/// one's. Leptos' `Action` does the same, but keeps each run's input and races it against an
/// abort channel, code that every kind of job would add again to the wasm; a page's jobs need
/// only the two signals.
pub struct Job<T: 'static> {
    going: RwSignal<bool>,
    outcome: RwSignal<Option<T>, LocalStorage>,
    /// How many runs were started; a run's outcome lands only if it is still the newest.
    started: StoredValue<u64>,
}

impl<T: 'static> Clone for Job<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T: 'static> Copy for Job<T> {}

impl<T: 'static> Default for Job<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: 'static> Job<T> {
    /// A job that has not run yet.
    pub fn new() -> Self {
        Job {
            going: RwSignal::new(false),
            outcome: RwSignal::new_local(None),
            started: StoredValue::new(0),
        }
    }

    /// Starts `job`, clearing the last outcome; the job's own outcome lands when it ends.
    pub fn run(self, job: impl Future<Output = T> + 'static) {
        self.outcome.set(None);
        self.run_keeping(job);
    }

    /// Starts `job`, keeping the last outcome in view until this one's lands (reading again
    /// what is shown).
    pub fn run_keeping(self, job: impl Future<Output = T> + 'static) {
        self.started.update_value(|n| *n += 1);
        let this_run = self.started.get_value();
        self.going.set(true);
        spawn_local(async move {
            let outcome = job.await;
            // A page that went away meanwhile drops the outcome with its signals.
            if self.started.try_get_value() == Some(this_run) {
                self.outcome.set(Some(outcome));
                self.going.set(false);
            }
        });
    }

    /// Whether a run is going (tracked).
    pub fn going(self) -> bool {
        self.going.get()
    }

    /// The last run's outcome, `None` before one ends; writable, for outcomes a page knows at
    /// once (a check that failed before the job started, or a job that needs no waiting).
    pub fn outcome(self) -> RwSignal<Option<T>, LocalStorage> {
        self.outcome
    }
}
