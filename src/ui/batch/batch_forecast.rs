//! The forecast of a batch in provider batch mode, under the cost forecast: its price live and
//! through the batch APIs (`batch-forecast-price`), and how long its rounds will take
//! (`batch-forecast-time`), learned from the user's own past provider batches.

use leptos::prelude::*;

use crate::app::batch::engine::{batch_price_share, EngineSplit};
use crate::app::batch::rounds::time_forecast_text;
use crate::app::format::dollars;
use crate::core::batch::BatchModes;
use crate::core::config::PipelineConfig;
use crate::core::provider_batch::turnaround::{estimate_time, rounds_per_item, Turnarounds};
use crate::ui::prices::PricingState;
use crate::ui::provider_state::ProviderState;
use crate::ui::store::SharedStore;

/// Live vs batch price and the time estimate; `live_median_usd` is the cost forecast's median
/// total (earlier runs' costs, taken as live prices).
#[component]
pub fn ProviderBatchForecast(
    /// The config the batch would run.
    config: Signal<PipelineConfig>,
    /// The modes it would run.
    modes: Signal<BatchModes>,
    /// The cost forecast's median total, when there is one.
    live_median_usd: Signal<Option<f64>>,
) -> impl IntoView {
    let store = expect_context::<SharedStore>();
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
        {move || live_median_usd.get().map(|live| {
            let batch = share.get().map(|s| live * s);
            let text = match batch {
                Some(batch) => format!(
                    "Price: {} live; {} through the batch APIs (at the median).",
                    dollars(Some(live)),
                    dollars(Some(batch)),
                ),
                None => format!(
                    "Price: {} live; through the batch APIs unknown (a batched model has no \
                     batch rate in the price table).",
                    dollars(Some(live)),
                ),
            };
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
