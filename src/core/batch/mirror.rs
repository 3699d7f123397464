//! A copy of a running batch's record that follows the scheduler's events, for the page and
//! the store to read when they get to it.
//!
//! The scheduler hands its listener the whole record with every event, several per item. A
//! listener that kept a clone of it per event paid for the whole batch each time: quadratic in
//! the batch's size (a 2,000-problem batch measured 0.29 ms of main thread per call on it, a
//! tenth of the page's own work, and 10,000 problems would be five times that). A
//! [`RecordMirror`] copies only what an event changed, so an event costs the same however large
//! the batch, and a reader clones the mirror only when it shows or stores it.

use super::scheduler::BatchEvent;
use super::tally::ProgressTally;
use super::{BatchRecord, Progress};

/// The scheduler's record as of the last event followed (see the module doc), with its
/// progress kept as it goes.
#[derive(Debug, Clone, Default)]
pub struct RecordMirror {
    record: Option<BatchRecord>,
    tally: ProgressTally,
}

impl RecordMirror {
    /// A mirror that has followed nothing yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Brings the copy up to `current`, the scheduler's record right after `event`.
    ///
    /// The first event and every status change copy the whole record: the scheduler sets items
    /// back to pending before its first event without one of their own, and a status change is
    /// rare. An item's event copies that item; every event copies the record's own fields. The
    /// scheduler changes nothing else between events (`tests/native/batch.rs` checks the copy against
    /// the record after every event of its scenarios).
    pub fn follow(&mut self, event: &BatchEvent, current: &BatchRecord) {
        let Some(mine) = self.record.as_mut() else {
            self.copy_whole(current);
            return;
        };
        match event {
            BatchEvent::Status(_) => {
                self.copy_whole(current);
                return;
            }
            BatchEvent::ItemStarted { index }
            | BatchEvent::RunStarted { index }
            | BatchEvent::ItemFinished { index } => {
                match (mine.items.get_mut(*index), current.items.get(*index)) {
                    (Some(item), Some(now)) => {
                        self.tally.replace(item, now);
                        item.clone_from(now);
                    }
                    // Not the record this mirror follows: start over from this one.
                    _ => {
                        self.copy_whole(current);
                        return;
                    }
                }
            }
            BatchEvent::Concurrency { .. } | BatchEvent::Waiting { .. } => {}
        }
        mine.status = current.status;
        mine.message.clone_from(&current.message);
        mine.updated_ms = current.updated_ms;
        mine.raised_budget_usd = current.raised_budget_usd;
    }

    fn copy_whole(&mut self, current: &BatchRecord) {
        self.tally = ProgressTally::of(current);
        match self.record.as_mut() {
            Some(mine) => mine.clone_from(current),
            None => self.record = Some(current.clone()),
        }
    }

    /// The record as of the last event followed; `None` before the first.
    pub fn record(&self) -> Option<&BatchRecord> {
        self.record.as_ref()
    }

    /// The record's progress (as [`BatchRecord::progress`] with `concurrency`), read from
    /// running totals; `None` before the first event.
    pub fn progress(&self, concurrency: u32) -> Option<Progress> {
        self.record
            .as_ref()
            .map(|_| self.tally.progress(concurrency))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::batch::{BatchModes, BatchSpec, BatchStatus, ItemStatus};
    use crate::core::config::PipelineConfig;

    fn record(n: usize) -> BatchRecord {
        let ids = (1..=n).map(|i| format!("P{i}")).collect();
        let spec = BatchSpec::new(
            "b",
            "ds_000000000000",
            "d",
            ids,
            BatchModes::Debate,
            2,
            PipelineConfig::default(),
            0.0,
            |_| false,
        )
        .unwrap();
        BatchRecord::new(spec)
    }

    #[test]
    fn the_first_event_copies_everything_and_an_item_event_only_its_item() {
        let mut current = record(3);
        let mut mirror = RecordMirror::new();
        assert!(mirror.record().is_none());
        current.items[2].status = ItemStatus::Pending;
        mirror.follow(&BatchEvent::Concurrency { effective: 2 }, &current);
        assert_eq!(mirror.record(), Some(&current));

        current.items[0].status = ItemStatus::Running;
        current.items[0].run_id = Some("run_a".into());
        current.updated_ms = 5.0;
        mirror.follow(&BatchEvent::ItemStarted { index: 0 }, &current);
        assert_eq!(mirror.record(), Some(&current));

        // A change the scheduler never makes without an event of its own is not picked up by
        // another item's event: the copy is as cheap as it says.
        current.items[1].message = Some("unannounced".into());
        current.items[2].status = ItemStatus::Done;
        mirror.follow(&BatchEvent::ItemFinished { index: 2 }, &current);
        let copy = mirror.record().unwrap();
        assert_eq!(copy.items[2], current.items[2]);
        assert_eq!(copy.items[1].message, None);

        // A status change copies the whole record again.
        current.status = BatchStatus::Paused;
        current.message = Some("paused".into());
        mirror.follow(&BatchEvent::Status(BatchStatus::Paused), &current);
        assert_eq!(mirror.record(), Some(&current));
    }

    #[test]
    fn an_event_for_an_item_the_copy_lacks_starts_over_from_the_record() {
        let mut mirror = RecordMirror::new();
        mirror.follow(&BatchEvent::Status(BatchStatus::Running), &record(2));
        let bigger = record(4);
        mirror.follow(&BatchEvent::ItemStarted { index: 3 }, &bigger);
        assert_eq!(mirror.record(), Some(&bigger));
    }
}
