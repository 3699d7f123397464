//! What a run's steps cost and how much it may spend: the app's prices (the table in use and
//! the user's own, see [`crate::ui::costs::prices`]) and the run budget the config sets.

use std::rc::Rc;

use crate::core::budget::{Budget, BudgetGate, CallEstimate, InvalidLimit};
use crate::core::config::PipelineConfig;
use crate::core::pricing::Pricer;
use crate::ui::costs::prices::load_pricer;

/// The prices and the gate a run goes with.
pub struct RunPricing {
    /// Prices each step (`metadata.cost_usd`); unknown models stay unknown, never 0.
    pub pricer: Rc<Pricer>,
    /// Refuses a call whose worst case no longer fits in the run budget (`budget_exceeded`);
    /// lets every call through when the config sets no budget.
    pub gate: BudgetGate,
}

/// The prices in use now, and a gate over `config.run_budget_usd` of which `already_spent_usd`
/// is spent (a resumed run's earlier sessions).
pub async fn run_pricing(
    config: &PipelineConfig,
    already_spent_usd: f64,
) -> Result<RunPricing, InvalidLimit> {
    let pricer = Rc::new(load_pricer().await);
    let gate = budget_gate(Rc::clone(&pricer), config, already_spent_usd)?;
    Ok(RunPricing { pricer, gate })
}

/// The gate for `config`'s run budget, with `already_spent_usd` counted as spent.
pub fn budget_gate(
    pricer: Rc<Pricer>,
    config: &PipelineConfig,
    already_spent_usd: f64,
) -> Result<BudgetGate, InvalidLimit> {
    let estimate = CallEstimate {
        max_reasks: config.max_reasks,
        ..CallEstimate::default()
    };
    let mut gate = BudgetGate::new(pricer).with_estimate(estimate);
    if let Some(limit) = config.run_budget_usd {
        let mut budget = Budget::new("run", limit)?;
        if already_spent_usd > 0.0 {
            // Nothing is held yet, so a zero reservation always fits; settling it counts
            // what the earlier sessions spent.
            if let Ok(held) = budget.reserve(0.0) {
                budget.settle(held, already_spent_usd);
            }
        }
        gate = gate.with_budget(budget.shared());
    }
    Ok(gate)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::llm::AgentCall;
    use crate::core::pipeline::CallGate;
    use crate::core::pricing::{PriceOverrides, RateOverride};
    use crate::core::role::AgentRole;
    use wasm_bindgen_test::wasm_bindgen_test;

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

    #[wasm_bindgen_test]
    fn no_budget_lets_every_call_through() {
        let gate = budget_gate(pricer(), &PipelineConfig::default(), 100.0).unwrap();
        assert!(gate.before_call(&call()).is_ok());
    }

    #[wasm_bindgen_test]
    fn earlier_spend_counts_against_the_budget() {
        // Worst case of the call: 3 requests (2 re-asks), prompts 2000, 4000, 6000 tokens
        // (1000 bytes + 1000 overhead, plus 2000 per re-ask), 1000 output tokens each:
        // 15 000 tokens at $1 per million = $0.015.
        let config = PipelineConfig {
            max_reasks: 2,
            run_budget_usd: Some(0.02),
            ..PipelineConfig::default()
        };
        let fresh = budget_gate(pricer(), &config, 0.0).unwrap();
        assert!(fresh.before_call(&call()).is_ok());
        let resumed = budget_gate(pricer(), &config, 0.01).unwrap();
        let refusal = resumed.before_call(&call()).unwrap_err();
        assert!(refusal.to_string().contains("run budget"), "{refusal}");
    }

    #[wasm_bindgen_test]
    fn a_negative_budget_is_refused_before_the_run() {
        let config = PipelineConfig {
            run_budget_usd: Some(-1.0),
            ..PipelineConfig::default()
        };
        assert!(budget_gate(pricer(), &config, 0.0).is_err());
    }
}
