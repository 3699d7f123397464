//! A batch's [`Progress`] kept as its items change, so reading it costs the same however
//! many items the batch has ([`BatchRecord::progress`] counts them all each time).

use super::{BatchRecord, ItemState, ItemStatus, Progress, MAX_CONCURRENCY};

/// Running totals over a batch's items (see the module doc). Follow each item's change with
/// [`ProgressTally::replace`]; [`ProgressTally::progress`] then equals the record's own
/// [`BatchRecord::progress`] (the spend up to the rounding of a running sum).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProgressTally {
    total: usize,
    done: usize,
    running: usize,
    failed: usize,
    priced: usize,
    spent_usd: f64,
    /// Items with a run whose spend is not fully known.
    unpriced_runs: usize,
    possibly_billed_usd: f64,
    provider_errors: usize,
    /// The finished items' durations, in order (for the median).
    durations: Vec<f64>,
}

impl ProgressTally {
    /// The totals of `record`'s items.
    pub fn of(record: &BatchRecord) -> Self {
        let mut tally = ProgressTally::default();
        for item in &record.items {
            tally.add(item);
        }
        tally.total = record.items.len();
        tally
    }

    /// Follows one item's change from `before` to `after`.
    pub fn replace(&mut self, before: &ItemState, after: &ItemState) {
        if Contribution::of(before) == Contribution::of(after) {
            return;
        }
        self.remove(before);
        self.add(after);
    }

    /// Progress, with the ETA computed for `concurrency` items at a time (as
    /// [`BatchRecord::progress`]).
    pub fn progress(&self, concurrency: u32) -> Progress {
        let remaining = self.total - self.done - self.failed;
        let eta_ms = median_of_sorted(&self.durations)
            .map(|m| m * remaining as f64 / f64::from(concurrency.clamp(1, MAX_CONCURRENCY)));
        Progress {
            total: self.total,
            done: self.done,
            running: self.running,
            failed: self.failed,
            waiting: remaining - self.running,
            remaining,
            spent_usd: (self.priced > 0).then_some(self.spent_usd),
            spent_complete: self.unpriced_runs == 0,
            possibly_billed_usd: self.possibly_billed_usd,
            provider_errors: self.provider_errors,
            eta_ms,
        }
    }

    fn add(&mut self, item: &ItemState) {
        self.count(item, 1);
        if let Some(cost) = item.cost_usd {
            self.priced += 1;
            self.spent_usd += cost;
        }
        self.possibly_billed_usd += item.possibly_billed_usd;
        if let Some(duration) = finished_duration(item) {
            let at = self
                .durations
                .partition_point(|d| d.total_cmp(&duration).is_lt());
            self.durations.insert(at, duration);
        }
    }

    fn remove(&mut self, item: &ItemState) {
        self.count(item, -1);
        if let Some(cost) = item.cost_usd {
            self.priced -= 1;
            self.spent_usd = if self.priced == 0 {
                0.0
            } else {
                self.spent_usd - cost
            };
        }
        self.possibly_billed_usd -= item.possibly_billed_usd;
        if let Some(duration) = finished_duration(item) {
            let at = self
                .durations
                .partition_point(|d| d.total_cmp(&duration).is_lt());
            if self
                .durations
                .get(at)
                .is_some_and(|d| d.total_cmp(&duration).is_eq())
            {
                self.durations.remove(at);
            }
        }
    }

    fn count(&mut self, item: &ItemState, by: isize) {
        let step = |n: &mut usize| *n = n.saturating_add_signed(by);
        match item.status {
            ItemStatus::Done => step(&mut self.done),
            ItemStatus::Running => step(&mut self.running),
            ItemStatus::Failed => step(&mut self.failed),
            ItemStatus::Pending => {}
        }
        if item.run_id.is_some() && !(item.cost_complete && item.cost_usd.is_some()) {
            step(&mut self.unpriced_runs);
        }
        if item.failed_by_provider() {
            step(&mut self.provider_errors);
        }
    }
}

/// What an item adds to the totals: an event that leaves it alone changes nothing.
#[derive(PartialEq)]
struct Contribution {
    status: ItemStatus,
    has_run: bool,
    cost_usd: Option<f64>,
    cost_complete: bool,
    possibly_billed_usd: f64,
    provider_error: bool,
    duration_ms: Option<f64>,
}

impl Contribution {
    fn of(item: &ItemState) -> Self {
        Contribution {
            status: item.status,
            has_run: item.run_id.is_some(),
            cost_usd: item.cost_usd,
            cost_complete: item.cost_complete,
            possibly_billed_usd: item.possibly_billed_usd,
            provider_error: item.failed_by_provider(),
            duration_ms: item.duration_ms,
        }
    }
}

fn finished_duration(item: &ItemState) -> Option<f64> {
    item.is_finished().then_some(item.duration_ms).flatten()
}

fn median_of_sorted(values: &[f64]) -> Option<f64> {
    let mid = values.len() / 2;
    match values.len() {
        0 => None,
        n if n.is_multiple_of(2) => Some((values[mid - 1] + values[mid]) / 2.0),
        _ => Some(values[mid]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::batch::{BatchModes, BatchSpec};
    use crate::core::config::PipelineConfig;
    use crate::core::trajectory::StopReason;

    fn record(n: usize) -> BatchRecord {
        let ids = (1..=n).map(|i| format!("P{i}")).collect();
        let spec = BatchSpec::new(
            "b",
            "ds_000000000000",
            "d",
            ids,
            BatchModes::Both,
            4,
            PipelineConfig::default(),
            0.0,
            |_| false,
        )
        .unwrap();
        BatchRecord::new(spec)
    }

    type Change = Box<dyn Fn(&mut ItemState)>;

    fn assert_same(tally: &ProgressTally, record: &BatchRecord) {
        for concurrency in [1, 3] {
            let mine = tally.progress(concurrency);
            let theirs = record.progress(concurrency);
            let close = |a: Option<f64>, b: Option<f64>| match (a, b) {
                (Some(a), Some(b)) => (a - b).abs() < 1e-9,
                (a, b) => a == b,
            };
            assert!(
                close(mine.spent_usd, theirs.spent_usd),
                "{mine:?} {theirs:?}"
            );
            assert!((mine.possibly_billed_usd - theirs.possibly_billed_usd).abs() < 1e-9);
            assert!(close(mine.eta_ms, theirs.eta_ms), "{mine:?} {theirs:?}");
            let strip = |p: Progress| Progress {
                spent_usd: None,
                possibly_billed_usd: 0.0,
                eta_ms: None,
                ..p
            };
            assert_eq!(strip(mine), strip(theirs));
        }
    }

    #[test]
    fn the_tally_follows_every_change_of_an_item_as_a_full_count_would() {
        let mut current = record(5);
        let mut tally = ProgressTally::of(&current);
        assert_same(&tally, &current);
        // Items start, finish done or failed (one by its provider), with and without a price,
        // and a failed one is retried and finishes again.
        let steps: Vec<(usize, Change)> = vec![
            (
                0,
                Box::new(|i| {
                    i.status = ItemStatus::Running;
                    i.run_id = Some("run_0".into());
                }),
            ),
            (
                1,
                Box::new(|i| {
                    i.status = ItemStatus::Running;
                    i.run_id = Some("run_1".into());
                }),
            ),
            (
                0,
                Box::new(|i| {
                    i.status = ItemStatus::Done;
                    i.cost_usd = Some(0.25);
                    i.duration_ms = Some(1200.0);
                }),
            ),
            (
                1,
                Box::new(|i| {
                    i.status = ItemStatus::Failed;
                    i.stop_reason = Some(StopReason::Provider);
                    i.cost_usd = Some(0.1);
                    i.cost_complete = false;
                    i.possibly_billed_usd = 0.02;
                    i.duration_ms = Some(300.0);
                }),
            ),
            (
                2,
                Box::new(|i| {
                    i.status = ItemStatus::Running;
                    i.run_id = Some("run_2".into());
                }),
            ),
            (
                2,
                Box::new(|i| {
                    i.status = ItemStatus::Done;
                    i.duration_ms = Some(800.0);
                }),
            ),
            (
                1,
                Box::new(|i| {
                    i.status = ItemStatus::Running;
                    i.stop_reason = None;
                }),
            ),
            (
                1,
                Box::new(|i| {
                    i.status = ItemStatus::Done;
                    i.cost_usd = Some(0.3);
                    i.cost_complete = true;
                    i.duration_ms = Some(900.0);
                }),
            ),
            (
                3,
                Box::new(|i| i.message = Some("nothing the totals count".into())),
            ),
        ];
        for (index, change) in steps {
            let before = current.items[index].clone();
            change(&mut current.items[index]);
            tally.replace(&before, &current.items[index]);
            assert_same(&tally, &current);
        }
        assert_eq!(tally, ProgressTally::of(&current).with_sum_of(&tally));
    }

    impl ProgressTally {
        /// This tally with `other`'s running sums (which differ from a fresh sum by rounding).
        fn with_sum_of(mut self, other: &ProgressTally) -> Self {
            self.spent_usd = other.spent_usd;
            self.possibly_billed_usd = other.possibly_billed_usd;
            self
        }
    }
}
