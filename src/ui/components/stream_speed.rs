//! The streamed-call speed table of the Costs and Batch pages: per model, time to first token
//! and output tokens per second, median and 90th percentile (`data-testid="speed-table"`, one
//! `speed-row` per model whose `data-*` attributes hold the plain figures).

use leptos::prelude::*;

use super::figures_table::{num, text, Column, FiguresTable};
use crate::core::stream_speed::{ModelSpeed, Spread};

const COLUMNS: &[Column] = &[
    text("Model"),
    num("Streamed calls"),
    num("First token p50"),
    num("First token p90"),
    num("Tokens/s p50"),
    num("Tokens/s p90"),
];

/// A figure for a `data-*` attribute: plain, rounded to `decimals`.
fn plain(value: Option<f64>, decimals: usize) -> String {
    value.map(|v| format!("{v:.decimals$}")).unwrap_or_default()
}

/// A spread as the table shows it.
fn shown(spread: Option<Spread>, decimals: usize, unit: &str) -> (String, String) {
    match spread {
        Some(s) => (
            format!("{:.decimals$} {unit}", s.p50),
            format!("{:.decimals$} {unit}", s.p90),
        ),
        None => ("–".into(), "–".into()),
    }
}

/// The table, or a line saying no call streamed.
#[component]
pub fn SpeedTable(
    /// The speed of each model that streamed.
    speeds: Vec<ModelSpeed>,
) -> impl IntoView {
    let rows = speeds
        .into_iter()
        .map(|s| {
            let (ttft50, ttft90) = shown(s.ttft_ms, 0, "ms");
            let (tps50, tps90) = shown(s.output_tokens_per_s, 1, "tok/s");
            let model = s.model.clone();
            view! {
                <tr
                    data-testid="speed-row"
                    data-model=model
                    data-steps=s.steps
                    data-ttft-p50=plain(s.ttft_ms.map(|x| x.p50), 1)
                    data-ttft-p90=plain(s.ttft_ms.map(|x| x.p90), 1)
                    data-tps-p50=plain(s.output_tokens_per_s.map(|x| x.p50), 2)
                    data-tps-p90=plain(s.output_tokens_per_s.map(|x| x.p90), 2)
                >
                    <th scope="row" class="mono">{s.model}</th>
                    <td class="num">{s.steps}</td>
                    <td class="num">{ttft50}</td>
                    <td class="num">{ttft90}</td>
                    <td class="num">{tps50}</td>
                    <td class="num">{tps90}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <section class="card" aria-labelledby="speed-title">
            <h2 class="card-title" id="speed-title">"Streaming speed by model"</h2>
            <p class="muted">
                "Over the calls that streamed: time to the first token (thinking included) and "
                "output tokens per second after it, as the median (p50) and the 90th percentile "
                "(p90). Whole replies have no first token to time and are left out."
            </p>
            <FiguresTable columns=COLUMNS testid="speed-table">
                <tbody>{rows}</tbody>
            </FiguresTable>
        </section>
    }
}
