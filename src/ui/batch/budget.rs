//! The batch budget: one cap (`batch_budget_usd`) shared by every run of the batch, through one
//! gate the batch's runner asks before each call.
//!
//! When it runs out, the run that hit it stops `budget_exceeded` and the scheduler pauses the
//! batch (items in flight finish); resuming after raising the budget goes on.

use std::rc::Rc;

use crate::core::budget::{BudgetGate, InvalidLimit};
use crate::core::config::PipelineConfig;
use crate::core::pricing::Pricer;

/// The gate for `config`'s batch budget, with `already_spent_usd` (the batch's earlier
/// sessions) counted as spent; every call passes when the config sets no batch budget.
pub fn batch_gate(
    pricer: Rc<Pricer>,
    config: &PipelineConfig,
    already_spent_usd: f64,
) -> Result<BudgetGate, InvalidLimit> {
    BudgetGate::capped(
        pricer,
        "batch",
        config.batch_budget_usd,
        already_spent_usd,
        config.max_reasks,
    )
}

/// The batch budget a resumed batch runs under: its own (`stored`: the config's it was made
/// with, or what it was raised to while paused), or the Configure page's (`current`) when that is larger, so a batch stopped by its
/// budget can be resumed after the budget is raised there. A lower or absent current budget
/// changes nothing: a batch never loses the cap it was started with.
pub fn raised_budget(stored: Option<f64>, current: Option<f64>) -> Option<f64> {
    match (stored, current) {
        (Some(stored), Some(current)) if current.is_finite() && current > stored => Some(current),
        (stored, _) => stored,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::pipeline::CallGate;
    use crate::ui::run::pricing::fixtures::{call, pricer};
    use wasm_bindgen_test::wasm_bindgen_test;

    #[wasm_bindgen_test]
    fn without_a_batch_budget_every_call_passes() {
        // A run budget is not the batch's business.
        let config = PipelineConfig {
            run_budget_usd: Some(0.0),
            ..PipelineConfig::default()
        };
        let gate = batch_gate(pricer(), &config, 100.0).unwrap();
        assert!(gate.before_call(&call()).is_ok());
    }

    #[wasm_bindgen_test]
    fn the_batch_budget_is_shared_and_counts_earlier_sessions() {
        // The call's worst case, by core's estimate with no re-asks: a 2 000-token prompt
        // (1 000 bytes + 1 000 overhead) and 1 000 output tokens = 3 000 tokens at $1 per
        // million = $0.003.
        let config = PipelineConfig {
            max_reasks: 0,
            batch_budget_usd: Some(0.005),
            ..PipelineConfig::default()
        };
        let gate = batch_gate(pricer(), &config, 0.0).unwrap();
        // One call fits; a second at the same time does not (0.006 > 0.005).
        assert!(gate.before_call(&call()).is_ok());
        let refusal = gate.before_call(&call()).unwrap_err();
        assert!(refusal.to_string().contains("batch budget"), "{refusal}");

        let resumed = batch_gate(pricer(), &config, 0.004).unwrap();
        assert!(resumed.before_call(&call()).is_err());
    }

    #[wasm_bindgen_test]
    fn only_a_larger_budget_from_configure_applies_on_resume() {
        assert_eq!(raised_budget(Some(1.0), Some(2.5)), Some(2.5));
        assert_eq!(raised_budget(Some(1.0), Some(0.5)), Some(1.0));
        assert_eq!(raised_budget(Some(1.0), None), Some(1.0));
        assert_eq!(raised_budget(Some(1.0), Some(f64::INFINITY)), Some(1.0));
        // A batch made without a cap stays without one.
        assert_eq!(raised_budget(None, Some(3.0)), None);
        assert_eq!(raised_budget(None, None), None);
    }

    #[wasm_bindgen_test]
    fn a_negative_budget_is_refused_before_the_batch() {
        let config = PipelineConfig {
            batch_budget_usd: Some(-1.0),
            ..PipelineConfig::default()
        };
        assert!(batch_gate(pricer(), &config, 0.0).is_err());
    }
}
