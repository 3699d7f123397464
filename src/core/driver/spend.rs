//! Spend a stored run counts beyond its committed steps, carried into the run when it resumes.
//!
//! A call cut off by a cancel was billed, but no step holds it: the loop counts it in the
//! summary of the session it happened in, and so in the stored record. A resumed run's summary
//! counts only its steps and this session's calls, so the record would lose that spend unless
//! the driver carries it over.

use crate::core::llm::Usage;
use crate::core::trajectory::{RunRecord, StepTotals, TrajectoryEntry};

/// Spend a stored record counts beyond its committed steps.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Uncommitted {
    /// Tokens of those calls.
    pub usage: Usage,
    /// Their cost, when priced.
    pub cost_usd: Option<f64>,
    /// What requests without a reply may have cost beyond the steps' own (see
    /// [`RunRecord::possibly_billed_usd`]): calls cut off without a step, and calls a closed
    /// tab left in flight.
    pub possibly_billed_usd: f64,
}

impl Uncommitted {
    /// What `record` counts beyond the sum of `committed` (never negative).
    pub fn of(record: &RunRecord, committed: &[TrajectoryEntry]) -> Uncommitted {
        let steps = StepTotals::of(committed);
        let (r, s) = (record.usage, steps.usage);
        let input_tokens = r.input_tokens.saturating_sub(s.input_tokens);
        let output_tokens = r.output_tokens.saturating_sub(s.output_tokens);
        let usage = Usage {
            input_tokens,
            output_tokens,
            total_tokens: input_tokens + output_tokens,
            cache_read_tokens: r.cache_read_tokens.saturating_sub(s.cache_read_tokens),
            cache_write_tokens: r.cache_write_tokens.saturating_sub(s.cache_write_tokens),
            reasoning_tokens: r.reasoning_tokens.saturating_sub(s.reasoning_tokens),
            reasoning_tokens_unknown: r.reasoning_tokens_unknown,
        };
        // Sums of the same prices in another order can differ in the last bits.
        let cost_usd = record
            .cost_usd
            .map(|total| total - steps.cost_usd.unwrap_or(0.0))
            .filter(|extra| *extra > 1e-12);
        let possibly_billed_usd =
            Some(record.possibly_billed_usd - steps.possibly_billed_usd).filter(|x| *x > 1e-12);
        Uncommitted {
            usage,
            cost_usd,
            possibly_billed_usd: possibly_billed_usd.unwrap_or(0.0),
        }
    }

    /// Adds this spend to `record`'s totals.
    pub fn add_to(&self, record: &mut RunRecord) {
        record.usage.add(&self.usage);
        if let Some(cost) = self.cost_usd {
            *record.cost_usd.get_or_insert(0.0) += cost;
        }
        record.possibly_billed_usd += self.possibly_billed_usd;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::config::PipelineConfig;

    fn record(usage: Usage, cost_usd: Option<f64>) -> RunRecord {
        let mut r = RunRecord::start(
            "run_x",
            &PipelineConfig::default(),
            "0badf00d",
            "p",
            None,
            0.0,
        );
        r.usage = usage;
        r.cost_usd = cost_usd;
        r
    }

    fn step(input: u64, output: u64, cost: f64) -> TrajectoryEntry {
        serde_json::from_value(serde_json::json!({
            "timestamp": "t", "run_id": "run_x", "step_id": 1, "agent": "solver",
            "action": "generate", "input": {}, "output": {"solution": "4"},
            "metadata": {"cost_usd": cost, "usage": {
                "input_tokens": input, "output_tokens": output, "total_tokens": input + output}}
        }))
        .unwrap()
    }

    fn tokens(input_tokens: u64, output_tokens: u64) -> Usage {
        Usage {
            input_tokens,
            output_tokens,
            total_tokens: input_tokens + output_tokens,
            ..Usage::default()
        }
    }

    #[test]
    fn spend_beyond_the_steps_is_what_the_record_counts_over_them() {
        // The record counts a cancelled call (40 in, 10 out, $0.25) on top of its one step.
        let carried = Uncommitted::of(&record(tokens(140, 30), Some(1.25)), &[step(100, 20, 1.0)]);
        assert_eq!(carried.usage, tokens(40, 10));
        assert_eq!(carried.cost_usd, Some(0.25));

        let mut finished = record(tokens(300, 60), Some(2.0));
        carried.add_to(&mut finished);
        assert_eq!(finished.usage, tokens(340, 70));
        assert_eq!(finished.cost_usd, Some(2.25));
    }

    #[test]
    fn a_record_that_matches_its_steps_carries_nothing() {
        let carried = Uncommitted::of(&record(tokens(100, 20), Some(1.0)), &[step(100, 20, 1.0)]);
        assert_eq!(carried, Uncommitted::default());
        // An interrupted run's record never counts less than its steps; if it did, nothing
        // negative is carried.
        let carried = Uncommitted::of(&record(Usage::default(), None), &[step(100, 20, 1.0)]);
        assert_eq!(carried, Uncommitted::default());
    }
}
