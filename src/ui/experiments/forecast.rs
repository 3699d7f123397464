//! The experiment's cost before it starts: each config's forecast and what reuse saves.

use std::collections::HashMap;

use leptos::prelude::*;

use crate::app::batch::engine::batch_price_share;
use crate::app::batch::forecast::ForecastOutcome;
use crate::app::experiment_forecast::{forecast_experiment, runs_to_read, ArmForecast};
use crate::app::format::dollars;
use crate::core::batch::BatchEngine;
use crate::core::experiment::Arm;
use crate::core::replies::ReusePolicy;
use crate::ui::experiments::session::experiment_session;
use crate::ui::prices::PricingState;
use crate::ui::provider_state::ProviderState;
use crate::ui::store::SharedStore;

/// The forecast of `arms` over `problems` problems (`Err`: why there are no configs yet).
#[component]
pub fn ExperimentForecastView(
    /// The configs as the form makes them.
    #[prop(into)]
    arms: Signal<Result<Vec<Arm>, String>>,
    /// Problems in the chosen dataset (`None`: no dataset picked).
    #[prop(into)]
    problems: Signal<Option<usize>>,
    /// The engine chosen: in provider batch mode the batch price is shown beside the live one.
    #[prop(into)]
    engine: Signal<BatchEngine>,
) -> impl IntoView {
    let store = expect_context::<SharedStore>();
    let providers = expect_context::<ProviderState>();
    let pricer = expect_context::<PricingState>().pricer();
    // Each config's price through the batch APIs as a share of its live price.
    let shares = Memo::new(move |_| -> Vec<Option<f64>> {
        let registry = providers.registry().get();
        let Some(pricer) = pricer.get() else {
            return Vec::new();
        };
        arms.with(|arms| {
            arms.as_ref().map_or_else(
                |_| Vec::new(),
                |arms| {
                    arms.iter()
                        .map(|a| batch_price_share(&registry, &pricer, &a.config))
                        .collect()
                },
            )
        })
    });
    let session = experiment_session();
    let forecast = LocalResource::new(move || {
        // Read again when an experiment starts or ends (its runs are history for the next
        // one), not at each run it finishes: each read goes over every stored run.
        let _ = session.busy.get();
        let arms = arms.get();
        let problems = problems.get();
        async move {
            let arms = arms?;
            let Some(problems) = problems else {
                return Err("Pick a dataset to forecast the cost.".to_string());
            };
            // Experiments are made with the default policy (see ExperimentPlan::specs).
            let policy = ReusePolicy::default();
            let store = store.open().await.map_err(|e| e.to_string())?;
            let runs = store.list_runs().await.map_err(|e| e.to_string())?;
            let mut steps = HashMap::new();
            for run_id in runs_to_read(&arms, policy, &runs) {
                let read = store.steps(&run_id).await.map_err(|e| e.to_string())?;
                steps.insert(run_id, read);
            }
            Ok(forecast_experiment(&arms, policy, &runs, &steps, problems))
        }
    });
    move || {
        forecast.get().map(|f| match f {
            Err(e) => view! { <p class="muted" data-testid="experiment-forecast" data-usd="">{e}</p> }.into_any(),
            Ok(f) => {
                let total = f.total_net_usd();
                let saving = f.total_saving_usd();
                let labels: Vec<String> = f.arms.iter().map(|a| a.label.clone()).collect();
                let rows = f
                    .arms
                    .iter()
                    .map(|arm| view! { <ForecastRow arm=arm.clone() labels=labels.clone()/> })
                    .collect_view();
                let summary = match total {
                    Some(t) => format!(
                        "Forecast for {} problems × {} configs: {} at the median, after {} saved by reusing replies.",
                        f.problems,
                        f.arms.len(),
                        dollars(Some(t)),
                        dollars(Some(saving))
                    ),
                    None => "Some configs have no earlier priced run to forecast from (run a pilot batch of them first); the known figures are below.".to_string(),
                };
                view! {
                    <div
                        class="batch-forecast"
                        data-testid="experiment-forecast"
                        data-usd=total.map(|t| t.to_string()).unwrap_or_default()
                        data-saving-usd=saving.to_string()
                    >
                        <p>{summary}</p>
                        {move || (engine.get() == BatchEngine::ProviderBatch).then(|| {
                            let batch = shares.with(|s| f.total_at_batch_usd(s));
                            let text = match (total, batch) {
                                (Some(live), Some(batch)) => format!(
                                    "Through the providers' batch APIs: {} instead of {} live.",
                                    dollars(Some(batch)),
                                    dollars(Some(live))
                                ),
                                _ => "The batch price is unknown until every config has a forecast and its models a batch rate.".to_string(),
                            };
                            view! {
                                <p
                                    data-testid="experiment-forecast-price"
                                    data-live-usd=total.map(|t| t.to_string()).unwrap_or_default()
                                    data-batch-usd=batch.map(|b| b.to_string()).unwrap_or_default()
                                >
                                    {text}
                                </p>
                            }
                        })}
                        <div class="table-scroll">
                            <table class="data-table">
                                <thead>
                                    <tr>
                                        <th>"Config"</th><th>"Forecast (median / p90)"</th>
                                        <th>"Shared with an earlier config"</th><th>"Saved by reuse"</th><th>"To pay"</th>
                                    </tr>
                                </thead>
                                <tbody>{rows}</tbody>
                            </table>
                        </div>
                    </div>
                }
                .into_any()
            }
        })
    }
}

#[component]
fn ForecastRow(arm: ArmForecast, labels: Vec<String>) -> impl IntoView {
    let cost = match &arm.cost {
        ForecastOutcome::Ready(f) => format!(
            "{} / {}",
            dollars(Some(f.total_median)),
            dollars(Some(f.total_p90))
        ),
        ForecastOutcome::NoHistory { .. } => "no earlier run of this config".to_string(),
        ForecastOutcome::Unpriced { .. } => "earlier runs, but no known price".to_string(),
    };
    let shared = arm.shares.map_or("—".to_string(), |(i, turns)| {
        format!(
            "{} of “{}”",
            turns.describe(),
            labels.get(i).cloned().unwrap_or_default()
        )
    });
    let saving = match (arm.shares, arm.saving_usd) {
        (None, _) => "—".to_string(),
        (Some(_), Some(s)) => dollars(Some(s)),
        (Some(_), None) => "paid once; no earlier priced run to say how much".to_string(),
    };
    let net = arm.net_usd();
    view! {
        <tr
            data-testid="experiment-forecast-row"
            data-config-hash=arm.config_hash.clone()
            data-usd=net.map(|n| n.to_string()).unwrap_or_default()
            data-saving-usd=arm.saving_usd.map(|n| n.to_string()).unwrap_or_default()
        >
            <th scope="row">{arm.label.clone()}</th>
            <td>{cost}</td>
            <td>{shared}</td>
            <td>{saving}</td>
            <td>{net.map_or("—".to_string(), |n| dollars(Some(n)))}</td>
        </tr>
    }
}
