//! The budgets calls are gated by: a run's (`run_budget_usd`), and a batch's
//! (`batch_budget_usd`), one cap shared by every run of the batch through one gate the batch's
//! runner asks before each call.
//!
//! When the batch budget runs out, the run that hit it stops `budget_exceeded` and the
//! scheduler pauses the batch (items in flight finish); resuming after raising the budget goes
//! on.

use std::rc::Rc;

use crate::core::budget::{BudgetGate, InvalidLimit};
use crate::core::config::PipelineConfig;
use crate::core::pricing::Pricer;

/// The gate for `config`'s run budget, with `already_spent_usd` (a resumed run's earlier
/// sessions) counted as spent; every call passes when the config sets no run budget.
pub fn run_gate(
    pricer: Rc<Pricer>,
    config: &PipelineConfig,
    already_spent_usd: f64,
) -> Result<BudgetGate, InvalidLimit> {
    BudgetGate::capped(
        pricer,
        "run",
        config.run_budget_usd,
        already_spent_usd,
        config.max_reasks,
    )
}

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
    use crate::core::llm::AgentCall;
    use crate::core::pipeline::CallGate;
    use crate::core::pricing::{PriceOverrides, RateOverride};
    use crate::core::role::AgentRole;

    /// A solver call with a 1000-byte prompt and 1000 max tokens to `openai/test-model`.
    fn call() -> AgentCall {
        AgentCall {
            role: AgentRole::Solver,
            model: "openai/test-model".into(),
            system_prompt: String::new(),
            user_prompt: "x".repeat(1000),
            temperature: 0.0,
            max_tokens: 1000,
        }
    }

    /// $1 per million input and output tokens for `openai/test-model`.
    fn pricer() -> Rc<Pricer> {
        let mut overrides = PriceOverrides::new();
        overrides
            .insert("openai/test-model", RateOverride::new(1.0, 1.0))
            .unwrap();
        Rc::new(Pricer::new(None, overrides))
    }

    #[test]
    fn the_run_budget_counts_earlier_spend() {
        // Worst case of the call: 3 requests (2 re-asks), prompts 2000, 4000, 6000 tokens
        // (1000 bytes + 1000 overhead, plus 2000 per re-ask), 1000 output tokens each:
        // 15 000 tokens at $1 per million = $0.015.
        let config = PipelineConfig {
            max_reasks: 2,
            run_budget_usd: Some(0.02),
            batch_budget_usd: Some(0.001), // not the run's cap: ignored here
            ..PipelineConfig::default()
        };
        let fresh = run_gate(pricer(), &config, 0.0).unwrap();
        assert!(fresh.before_call(&call()).is_ok());
        let resumed = run_gate(pricer(), &config, 0.01).unwrap();
        let refusal = resumed.before_call(&call()).unwrap_err();
        assert!(refusal.to_string().contains("run budget"), "{refusal}");
    }

    #[test]
    fn without_a_batch_budget_every_call_passes() {
        // A run budget is not the batch's business.
        let config = PipelineConfig {
            run_budget_usd: Some(0.0),
            ..PipelineConfig::default()
        };
        let gate = batch_gate(pricer(), &config, 100.0).unwrap();
        assert!(gate.before_call(&call()).is_ok());
    }

    #[test]
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

    #[test]
    fn only_a_larger_budget_from_configure_applies_on_resume() {
        assert_eq!(raised_budget(Some(1.0), Some(2.5)), Some(2.5));
        assert_eq!(raised_budget(Some(1.0), Some(0.5)), Some(1.0));
        assert_eq!(raised_budget(Some(1.0), None), Some(1.0));
        assert_eq!(raised_budget(Some(1.0), Some(f64::INFINITY)), Some(1.0));
        // A batch made without a cap stays without one.
        assert_eq!(raised_budget(None, Some(3.0)), None);
        assert_eq!(raised_budget(None, None), None);
    }

    #[test]
    fn a_negative_budget_is_refused_before_the_batch() {
        let config = PipelineConfig {
            batch_budget_usd: Some(-1.0),
            ..PipelineConfig::default()
        };
        assert!(batch_gate(pricer(), &config, 0.0).is_err());
    }
}
