//! Any two stored batches (or experiments' configs) compared on their shared problems, the way
//! an experiment compares its own pairs ([`PairComparison`]): a debate batch against an earlier
//! baseline batch, last week's config against today's.
//!
//! A *side* is one batch's runs of one mode: a batch made on the Batch page with both modes is
//! two sides, an experiment's config one.

use serde::{Deserialize, Serialize};

use crate::core::batch::BatchRecord;
use crate::core::config::Mode;

use super::matrix::ArmRuns;
use super::pairs::PairComparison;

/// One side a comparison can take: a batch's runs of one mode.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CompareSide {
    /// The batch.
    pub batch_id: String,
    /// The mode of the runs taken.
    pub mode: Mode,
    /// What the picker shows: the experiment and its config's label, or the batch's name,
    /// with the mode when the batch has both.
    pub label: String,
    /// The dataset the batch ran.
    pub dataset_name: String,
    /// How many problems the batch has.
    pub problems: usize,
}

impl CompareSide {
    /// The key a picker's `<option>` carries: `<batch id>|<mode>`.
    pub fn key(&self) -> String {
        format!("{}|{}", self.batch_id, self.mode.as_str())
    }

    /// Every side of `batches`, newest batch first; an experiment's batches are named by the
    /// experiment and their config's label.
    pub fn all(batches: &[BatchRecord]) -> Vec<CompareSide> {
        let mut ordered: Vec<&BatchRecord> = batches.iter().collect();
        ordered.sort_by(|a, b| {
            b.spec
                .created_ms
                .total_cmp(&a.spec.created_ms)
                .then_with(|| b.spec.batch_id.cmp(&a.spec.batch_id))
        });
        let mut sides = Vec::new();
        for batch in ordered {
            let modes = batch.spec.modes.modes();
            for &mode in modes {
                let name = match &batch.spec.experiment {
                    Some(tag) => format!("{} · {}", tag.name, tag.label),
                    None => batch.spec.name.clone(),
                };
                let label = if modes.len() > 1 {
                    format!("{name} ({})", mode.as_str())
                } else {
                    name
                };
                sides.push(CompareSide {
                    batch_id: batch.spec.batch_id.clone(),
                    mode,
                    label,
                    dataset_name: batch.spec.dataset_name.clone(),
                    problems: batch.spec.problem_ids.len(),
                });
            }
        }
        sides
    }

    /// The side of `sides` whose [`key`](Self::key) is `key`.
    pub fn find<'a>(sides: &'a [CompareSide], key: &str) -> Option<&'a CompareSide> {
        sides.iter().find(|s| s.key() == key)
    }
}

/// `a` against `b` on their shared problems (problems are matched by id): the same comparison
/// an experiment's pair gets, `a` at position 0 and `b` at 1.
pub fn compare_sides(a: &ArmRuns, b: &ArmRuns) -> PairComparison {
    PairComparison::of(0, a, 1, b)
}
