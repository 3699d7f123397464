//! What a run's steps cost and how much it may spend: the app's prices (the table in use and
//! the user's own, see [`crate::ui::prices`]) and the run budget the config sets.

use std::rc::Rc;

use crate::app::budget::run_gate;
use crate::core::budget::{BudgetGate, InvalidLimit};
use crate::core::config::PipelineConfig;
use crate::core::pricing::Pricer;
use crate::ui::prices::load_pricer;

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
    let gate = run_gate(Rc::clone(&pricer), config, already_spent_usd)?;
    Ok(RunPricing { pricer, gate })
}
