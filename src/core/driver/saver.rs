//! Saving a running batch's record: at once on a status change, otherwise at most once per
//! interval while items progress, writing only the newest record of those that queue up.
//!
//! A large batch's record is big, and written after every item it would keep the main thread
//! busy. Losing the last interval's item updates to a closed tab loses nothing committed: each
//! run is stored step by step with its batch id, and resuming the batch reconciles the record
//! with them ([`crate::core::batch::BatchRecord::reconcile`]).

use std::cell::RefCell;
use std::rc::Rc;

use crate::core::batch::mirror::RecordMirror;
use crate::core::batch::BatchRecord;
use crate::core::clock::Clock;
use crate::core::pipeline::SinkError;
use crate::core::run_store::BatchStore;

use super::wait::{first_of, Notify};

/// How long an update held to one per interval (a save, a redraw) should still wait, ms:
/// nothing when `urgent` or when nothing went out yet, otherwise what is left of `interval_ms`
/// since the last one went out at `last_ms` (never more than one interval, even if the clock
/// went back).
pub fn delay_left(last_ms: Option<f64>, now_ms: f64, interval_ms: f64, urgent: bool) -> f64 {
    match last_ms {
        Some(last) if !urgent => (last + interval_ms - now_ms).clamp(0.0, interval_ms),
        _ => 0.0,
    }
}

/// Writes a running batch's record (see the module doc). [`run`](Self::run) does the writing
/// beside the scheduler; [`changed`](Self::changed) and [`save_last`](Self::save_last) tell it
/// what there is to write.
pub(crate) struct Saver<'a, S, C> {
    store: &'a S,
    clock: &'a C,
    interval_ms: f64,
    /// The running batch's record, read when a write is due (not copied per event).
    mirror: Rc<RefCell<RecordMirror>>,
    state: RefCell<SaverState>,
    wake: Notify,
    on_error: &'a dyn Fn(&SinkError),
}

#[derive(Default)]
struct SaverState {
    /// The batch's last record, written as it is, ahead of the mirror.
    last: Option<BatchRecord>,
    /// The mirror changed since the last write.
    changed: bool,
    urgent: bool,
    /// No record will come after `last`.
    closed: bool,
    /// The writer waits for something to write (rather than for the interval to end).
    idle: bool,
    last_write_ms: Option<f64>,
}

impl<'a, S: BatchStore, C: Clock> Saver<'a, S, C> {
    /// A saver into `store` that writes the record `mirror` holds at most once per
    /// `interval_ms`, and tells `on_error` of a failed write.
    pub(crate) fn new(
        store: &'a S,
        clock: &'a C,
        interval_ms: f64,
        mirror: Rc<RefCell<RecordMirror>>,
        on_error: &'a dyn Fn(&SinkError),
    ) -> Self {
        Saver {
            store,
            clock,
            interval_ms,
            mirror,
            state: RefCell::default(),
            wake: Notify::default(),
            on_error,
        }
    }

    /// The mirror changed: it is written as it is then, once the interval is out (at once
    /// when `urgent`).
    pub(crate) fn changed(&self, urgent: bool) {
        let wake = {
            let mut state = self.state.borrow_mut();
            state.changed = true;
            state.urgent |= urgent;
            // A writer waiting out the interval is woken only to cut it short.
            urgent || state.idle
        };
        if wake {
            self.wake.notify();
        }
    }

    /// Hands over the batch's last record, written at once and as it is; nothing follows it.
    pub(crate) fn save_last(&self, record: BatchRecord) {
        {
            let mut state = self.state.borrow_mut();
            state.last = Some(record);
            state.changed = false;
            state.urgent = true;
            state.closed = true;
        }
        self.wake.notify();
    }

    /// Writes what it is told of, as the interval allows, until the last record is written.
    pub(crate) async fn run(&self) {
        loop {
            loop {
                {
                    let mut state = self.state.borrow_mut();
                    let work = state.changed || state.last.is_some();
                    if !work && state.closed {
                        return;
                    }
                    state.idle = !work;
                    if work {
                        break;
                    }
                }
                self.wake.notified().await;
            }
            loop {
                let delay = {
                    let state = self.state.borrow();
                    delay_left(
                        state.last_write_ms,
                        self.clock.now_ms(),
                        self.interval_ms,
                        state.urgent,
                    )
                };
                if delay <= 0.0 {
                    break;
                }
                first_of(self.clock.sleep(delay.ceil() as u64), self.wake.notified()).await;
            }
            let next = {
                let mut state = self.state.borrow_mut();
                state.urgent = false;
                let from_mirror = std::mem::take(&mut state.changed)
                    .then(|| self.mirror.borrow().record().cloned())
                    .flatten();
                state.last.take().or(from_mirror)
            };
            if let Some(record) = next {
                if let Err(e) = self.store.put_batch(&record).await {
                    (self.on_error)(&e);
                }
                self.state.borrow_mut().last_write_ms = Some(self.clock.now_ms());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;
    use std::future::{poll_fn, Future};
    use std::pin::pin;
    use std::task::{Context, Poll, Waker};

    use super::*;
    use crate::core::batch::scheduler::BatchEvent;
    use crate::core::batch::{BatchModes, BatchSpec, BatchStatus, ItemStatus};
    use crate::core::config::PipelineConfig;
    use crate::core::run_store::MemoryRunStore;

    /// A clock whose sleeps end only once the test moves it on.
    #[derive(Default)]
    struct HeldClock {
        now: Cell<f64>,
    }

    impl Clock for HeldClock {
        fn now_ms(&self) -> f64 {
            self.now.get()
        }

        async fn sleep(&self, ms: u64) {
            let until = self.now.get() + ms as f64;
            poll_fn(|_| {
                if self.now.get() >= until {
                    Poll::Ready(())
                } else {
                    Poll::Pending
                }
            })
            .await
        }
    }

    fn record() -> BatchRecord {
        let spec = BatchSpec::new(
            "b",
            "ds",
            "d",
            vec!["P1".into(), "P2".into()],
            BatchModes::Debate,
            1,
            PipelineConfig::default(),
            0.0,
            |_| false,
        )
        .unwrap();
        BatchRecord::new(spec)
    }

    #[test]
    fn status_changes_are_saved_at_once_item_updates_once_an_interval_and_the_last_record_last() {
        let store = MemoryRunStore::new();
        let clock = HeldClock::default();
        let mirror: Rc<RefCell<RecordMirror>> = Rc::default();
        let failed = Cell::new(0);
        let on_error = |_: &SinkError| failed.set(failed.get() + 1);
        let saver = Saver::new(&store, &clock, 500.0, Rc::clone(&mirror), &on_error);
        let mut writing = pin!(saver.run());
        let mut cx = Context::from_waker(Waker::noop());
        let mut poll = || writing.as_mut().poll(&mut cx).is_ready();
        let stored = |id: &str| store.batch(id).map(|r| (r.status, r.items[0].status));

        let mut current = record();
        let id = current.spec.batch_id.clone();
        let mut step = |event: BatchEvent, change: &dyn Fn(&mut BatchRecord)| {
            change(&mut current);
            mirror.borrow_mut().follow(&event, &current);
            saver.changed(matches!(event, BatchEvent::Status(_)));
        };
        assert!(!poll());
        assert_eq!(stored(&id), None, "nothing to write yet");

        step(BatchEvent::Status(BatchStatus::Running), &|r| {
            r.status = BatchStatus::Running
        });
        assert!(!poll());
        assert_eq!(
            stored(&id),
            Some((BatchStatus::Running, ItemStatus::Pending))
        );

        // Item updates within the interval wait for its end, and only the newest is written.
        step(BatchEvent::ItemStarted { index: 0 }, &|r| {
            r.items[0].status = ItemStatus::Running
        });
        step(BatchEvent::ItemFinished { index: 0 }, &|r| {
            r.items[0].status = ItemStatus::Done
        });
        assert!(!poll());
        assert_eq!(
            stored(&id),
            Some((BatchStatus::Running, ItemStatus::Pending))
        );
        clock.now.set(499.0);
        assert!(!poll());
        assert_eq!(
            stored(&id),
            Some((BatchStatus::Running, ItemStatus::Pending))
        );
        clock.now.set(500.0);
        assert!(!poll());
        assert_eq!(stored(&id), Some((BatchStatus::Running, ItemStatus::Done)));

        // A status change within the next interval is written at once, with what waited.
        clock.now.set(600.0);
        step(BatchEvent::ItemStarted { index: 1 }, &|r| {
            r.items[1].status = ItemStatus::Running
        });
        assert!(!poll());
        assert_eq!(
            store.batch(&id).map(|r| r.items[1].status),
            Some(ItemStatus::Pending)
        );
        step(BatchEvent::Status(BatchStatus::Paused), &|r| {
            r.status = BatchStatus::Paused
        });
        assert!(!poll());
        assert_eq!(store.batch(&id).as_ref(), mirror.borrow().record());

        // The last record is written at once, and the saver is done.
        let mut last = record();
        last.status = BatchStatus::Cancelled;
        saver.save_last(last.clone());
        assert!(poll());
        assert_eq!(store.batch(&id), Some(last));
        assert_eq!(failed.get(), 0);
    }

    #[test]
    fn the_first_save_and_urgent_ones_wait_for_nothing() {
        assert_eq!(delay_left(None, 1_000.0, 100.0, false), 0.0);
        assert_eq!(delay_left(Some(990.0), 1_000.0, 100.0, true), 0.0);
    }

    #[test]
    fn later_saves_wait_out_the_rest_of_the_interval() {
        // Written at 1000 ms, asked at 1030 ms: 100 − 30 = 70 ms left.
        assert_eq!(delay_left(Some(1_000.0), 1_030.0, 100.0, false), 70.0);
        assert_eq!(delay_left(Some(1_000.0), 1_100.0, 100.0, false), 0.0);
        assert_eq!(delay_left(Some(1_000.0), 9_000.0, 500.0, false), 0.0);
        // A clock that went back never holds a save longer than one interval.
        assert_eq!(delay_left(Some(1_000.0), 0.0, 500.0, false), 500.0);
    }
}
