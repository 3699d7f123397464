//! What a run's steps cost and how much it may spend: the app's prices (the table in use and
//! the user's own, see [`crate::ui::costs::prices`]) and the run budget the config sets.

use std::rc::Rc;

use crate::core::budget::{BudgetGate, InvalidLimit};
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
    BudgetGate::capped(
        pricer,
        "run",
        config.run_budget_usd,
        already_spent_usd,
        config.max_reasks,
    )
}

/// Fixtures for gate tests here and in the batch budget.
#[cfg(test)]
pub(crate) mod fixtures {
    use super::*;
    use crate::core::llm::AgentCall;
    use crate::core::pricing::{PriceOverrides, RateOverride};
    use crate::core::role::AgentRole;

    /// A solver call with a 1000-byte prompt and 1000 max tokens to `openai/test-model`.
    pub(crate) fn call() -> AgentCall {
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
    pub(crate) fn pricer() -> Rc<Pricer> {
        let mut overrides = PriceOverrides::new();
        overrides
            .insert("openai/test-model", RateOverride::new(1.0, 1.0))
            .unwrap();
        Rc::new(Pricer::new(None, overrides))
    }
}

#[cfg(test)]
mod tests {
    use super::fixtures::{call, pricer};
    use super::*;
    use crate::core::pipeline::CallGate;
    use wasm_bindgen_test::wasm_bindgen_test;

    #[wasm_bindgen_test]
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
        let fresh = budget_gate(pricer(), &config, 0.0).unwrap();
        assert!(fresh.before_call(&call()).is_ok());
        let resumed = budget_gate(pricer(), &config, 0.01).unwrap();
        let refusal = resumed.before_call(&call()).unwrap_err();
        assert!(refusal.to_string().contains("run budget"), "{refusal}");
    }
}
