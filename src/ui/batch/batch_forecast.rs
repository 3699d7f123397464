//! The forecast of a batch in provider batch mode, under the cost forecast: its price live and
//! through the batch APIs (`batch-forecast-price`), and how long its rounds will take
//! (`batch-forecast-time`), learned from the user's own past provider batches. Earlier runs that
//! ran in provider batch mode paid batch rates for some requests, so both forecasts count them
//! at live rates ([`runs_at_live_rates`]).

use std::collections::{HashMap, HashSet};
use std::rc::Rc;

use leptos::prelude::*;

use crate::app::batch::engine::{batch_price_share, EngineSplit};
use crate::app::batch::forecast::{at_live_rates, forecast, runs_to_price_live, ForecastOutcome};
use crate::app::batch::rounds::time_forecast_text;
use crate::app::format::dollars;
use crate::core::batch::{BatchEngine, BatchModes};
use crate::core::config::PipelineConfig;
use crate::core::pricing::Pricer;
use crate::core::provider_batch::turnaround::{estimate_time, rounds_per_item, Turnarounds};
use crate::core::trajectory::RunRecord;
use crate::ui::prices::PricingState;
use crate::ui::provider_state::ProviderState;
use crate::ui::store::SharedStore;

use super::session::BatchSession;

/// Live vs batch price and the time estimate.
#[component]
pub fn ProviderBatchForecast(
    /// The config the batch would run.
    config: Signal<PipelineConfig>,
    /// The modes it would run.
    modes: Signal<BatchModes>,
    /// The config hash of each mode.
    hashes: Signal<Vec<String>>,
    /// Problems the batch would run.
    problems: Signal<usize>,
) -> impl IntoView {
    let store = expect_context::<SharedStore>();
    let batch = expect_context::<BatchSession>();
    let providers = expect_context::<ProviderState>();
    let pricer = expect_context::<PricingState>().pricer();
    let split = Memo::new(move |_| {
        let registry = providers.registry().get();
        config.with(|c| EngineSplit::of(&registry, c))
    });
    let share = Memo::new(move |_| {
        let registry = providers.registry().get();
        let pricer = pricer.get()?;
        config.with(|c| batch_price_share(&registry, &pricer, c))
    });
    // Earlier runs at live rates; read again when a batch starts or ends, as the cost
    // forecast is, and when the price table arrives.
    let history = LocalResource::new(move || {
        let _ = batch.batches_changed.get();
        let hashes = hashes.get();
        let pricer = pricer.get();
        async move {
            runs_at_live_rates(store, &hashes, pricer.as_deref())
                .await
                .map(Rc::new)
        }
    });
    // The cost forecast's median live, and through the batch APIs at `share` of it.
    let live_median_usd = move || {
        let share = share.get()?;
        let runs = history.get()?.ok()?;
        match forecast(&runs, &hashes.get(), problems.get()) {
            ForecastOutcome::Ready(f) => Some((f.total_median, share)),
            _ => None,
        }
    };
    // Read once when the engine is chosen: past rounds do not change while the form is open.
    let past = LocalResource::new(move || async move {
        let store = store.open().await?;
        let timings = store.provider_round_timings().await?;
        Ok::<_, crate::web::idb::StoreError>(Turnarounds::from_rounds(timings))
    });
    let estimate = move || {
        let families = split.with(|s| s.families.clone());
        let rounds = config.with(|c| rounds_per_item(c, modes.get()));
        let past = match past.get() {
            Some(Ok(past)) => past,
            Some(Err(_)) | None => Turnarounds::default(),
        };
        estimate_time(&families, rounds, &past).map(|e| (e, families))
    };
    view! {
        {move || live_median_usd().map(|(live, share)| {
            let batch = Some(live * share);
            let text = format!(
                "Price at the median: {} live; {} through the batch APIs.",
                dollars(Some(live)),
                dollars(batch),
            );
            view! {
                <p
                    class="batch-forecast-price"
                    data-testid="batch-forecast-price"
                    data-live-usd=live.to_string()
                    data-batch-usd=batch.map(|b| b.to_string()).unwrap_or_default()
                >
                    {text}
                </p>
            }
        })}
        {move || estimate().map(|(e, families)| view! {
            <p
                class="batch-forecast-time"
                data-testid="batch-forecast-time"
                data-min-s=e.min_s.to_string()
                data-max-s=e.max_s.to_string()
                data-learned=matches!(
                    e.basis,
                    crate::core::provider_batch::turnaround::TurnaroundBasis::Learned { .. }
                ).to_string()
            >
                {time_forecast_text(&e, &families)}
            </p>
        })}
    }
}

/// Every stored run, with the cost of each earlier run of `config_hashes` that ran in provider
/// batch mode at what it would have cost live ([`at_live_rates`]), for a forecast: its steps
/// are read and their batched requests priced again under `pricer`. Until the price table is
/// there, such a run counts as unpriced rather than at the half it paid.
pub(super) async fn runs_at_live_rates(
    store: SharedStore,
    config_hashes: &[String],
    pricer: Option<&Pricer>,
) -> Result<Vec<RunRecord>, crate::web::idb::StoreError> {
    let store = store.open().await?;
    let runs = store.list_runs().await?;
    let provider_batches: HashSet<String> = store
        .list_batches()
        .await?
        .into_iter()
        .filter(|b| b.spec.engine == BatchEngine::ProviderBatch)
        .map(|b| b.spec.batch_id)
        .collect();
    let ids = runs_to_price_live(&runs, &provider_batches, config_hashes);
    if ids.is_empty() {
        return Ok(runs);
    }
    let Some(pricer) = pricer else {
        let ids: HashSet<&String> = ids.iter().collect();
        return Ok(runs
            .into_iter()
            .map(|mut run| {
                if ids.contains(&run.run_id) {
                    run.cost_usd = None;
                }
                run
            })
            .collect());
    };
    let steps: HashMap<String, _> = ids
        .iter()
        .cloned()
        .zip(store.steps_of_runs(&ids).await?)
        .collect();
    Ok(at_live_rates(&runs, &steps, pricer))
}
