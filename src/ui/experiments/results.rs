//! An experiment's results as read from the store: its batches grouped, each config's runs,
//! the matrix, the pairs and the front; and the tables that show them.

use leptos::prelude::*;

use crate::app::file_names::trajectories_file_name;
use crate::app::format::dollars;
use crate::core::experiment::export::MatrixExport;
use crate::core::experiment::load::arm_runs;
use crate::core::experiment::matrix::{ArmRuns, ConfigRow};
use crate::core::experiment::pairs::PairComparison;
use crate::core::experiment::pareto::pareto_front;
use crate::core::experiment::Experiment;
use crate::ui::charts::scatter::ScatterChart;
use crate::ui::experiments::run_compare::{RunPair, SideBySideButton};
use crate::ui::run::export::download_runs;
use crate::ui::store::SharedStore;
use crate::web::download::download_text;
use crate::web::idb::{ExportFilter, StoreError, TrajectoryStore};

/// Every stored experiment, newest first.
pub async fn stored_experiments(store: &TrajectoryStore) -> Result<Vec<Experiment>, StoreError> {
    Ok(Experiment::group(store.list_batches().await?))
}

/// The matrix of `experiment`, its runs read from `store`, with each config's run ids (for
/// its trajectory export).
pub async fn matrix_of(
    store: &TrajectoryStore,
    experiment: &Experiment,
) -> Result<(MatrixExport, Vec<Vec<String>>), String> {
    let labels = experiment.labels();
    let mut arms: Vec<ArmRuns> = Vec::with_capacity(labels.len());
    for (batch, label) in experiment.batches.iter().zip(&labels) {
        arms.push(
            arm_runs(store, batch, label)
                .await
                .map_err(|e| e.to_string())?,
        );
    }
    let rows: Vec<ConfigRow> = arms.iter().map(ConfigRow::of).collect();
    let run_ids = arms
        .iter()
        .map(|a| a.runs.iter().map(|r| r.result.run_id.clone()).collect())
        .collect();
    let matrix = MatrixExport {
        experiment_id: experiment.experiment_id.clone(),
        varied_field: experiment.varied_field.clone(),
        pareto: pareto_front(&rows),
        pairs: PairComparison::all(&arms),
        rows,
    };
    Ok((matrix, run_ids))
}

fn num(x: Option<f64>) -> String {
    x.map(|v| v.to_string()).unwrap_or_default()
}

fn percent(x: Option<f64>) -> String {
    x.map(|v| format!("{:.1} %", v * 100.0))
        .unwrap_or_else(|| "—".to_string())
}

/// The matrix, the pairs and the exports.
#[component]
pub fn MatrixView(
    /// The results.
    matrix: MatrixExport,
    /// Each config's run ids, in row order.
    run_ids: Vec<Vec<String>>,
) -> impl IntoView {
    let store = expect_context::<SharedStore>();
    let export_error = RwSignal::new(None::<String>);
    let on_front = |i: usize| {
        matrix.pareto.iter().find(|p| p.arm == i).map_or("—", |p| {
            if p.on_front {
                "yes"
            } else {
                "no"
            }
        })
    };
    let rows = matrix
        .rows
        .iter()
        .enumerate()
        .map(|(i, row)| {
            let accuracy = row.accuracy.map(|a| a.rate);
            let interval = row.accuracy.map_or_else(String::new, |a| {
                format!("[{:.1}, {:.1}]", a.low * 100.0, a.high * 100.0)
            });
            view! {
                <tr
                    data-testid="experiment-row"
                    data-config-hash=row.config_hash.clone()
                    data-accuracy=num(accuracy)
                    data-cost=num(row.cost_usd)
                    data-paid-calls=row.paid_calls.to_string()
                    data-reused-calls=row.reused_calls.to_string()
                    data-runs=row.runs.to_string()
                >
                    <th scope="row">{row.label.clone()}<br/><code>{row.config_hash.clone()}</code></th>
                    <td>{percent(accuracy)} " " <span class="muted">{interval}</span></td>
                    <td>{row.mean_judge_score.map_or("—".to_string(), |s| format!("{s:.2}"))}</td>
                    <td>{percent(row.verifier_pass_rate.map(|p| p.rate))}</td>
                    <td>{row.mean_iterations.map_or("—".to_string(), |s| format!("{s:.2}"))}</td>
                    <td>{row.total_tokens.to_string()}</td>
                    <td>{dollars(row.cost_usd)}</td>
                    <td>{row.correct_per_usd.map_or("—".to_string(), |v| format!("{v:.1}"))}</td>
                    <td>{row.latency_p50_ms.map_or("—".to_string(), |v| format!("{v:.0}"))}
                        " / " {row.latency_p90_ms.map_or("—".to_string(), |v| format!("{v:.0}"))}</td>
                    <td>{row.paid_calls.to_string()} " / " {row.reused_calls.to_string()}</td>
                    <td>{row.runs.to_string()}</td>
                    <td>{on_front(i)}</td>
                    <td>
                        <button type="button" data-testid="experiment-export-jsonl" on:click={
                            let ids = run_ids.get(i).cloned().unwrap_or_default();
                            let file = trajectories_file_name(&row.batch_id);
                            move |_| {
                                let (ids, file) = (ids.clone(), file.clone());
                                leptos::task::spawn_local(async move {
                                    let result = download_runs(store, ExportFilter::Runs(ids), &file).await;
                                    export_error.set(result.err().map(|e| e.to_string()));
                                });
                            }
                        }>"Runs (JSONL)"</button>
                    </td>
                </tr>
            }
        })
        .collect_view();
    let label_of = |i: usize| {
        matrix
            .rows
            .get(i)
            .map_or_else(String::new, |r| r.label.clone())
    };
    let pairs = matrix
        .pairs
        .iter()
        .map(|pair| {
            view! { <PairRow pair=pair.clone() a_label=label_of(pair.a) b_label=label_of(pair.b) test_id="experiment-pair"/> }
        })
        .collect_view();
    let scatter = view! {
        <ScatterChart
            test_id="chart-experiment-scatter"
            title="Accuracy against cost"
            rows=matrix.rows.clone()
            pareto=matrix.pareto.clone()
        />
    };
    let csv = matrix.to_csv();
    let json = matrix.to_json();
    let id = matrix.experiment_id.clone();
    let (id_csv, id_json) = (id.clone(), id);
    view! {
        <section class="card" aria-labelledby="experiment-matrix-title">
            <h2 id="experiment-matrix-title">"Results by config"</h2>
            <div class="table-scroll">
                <table class="data-table">
                    <thead>
                        <tr>
                            <th>"Config"</th><th>"Accuracy [95 % CI]"</th><th>"Judge"</th>
                            <th>"Verifier pass"</th><th>"Iterations"</th><th>"Tokens"</th>
                            <th>"Cost"</th><th>"Correct per $"</th><th>"Latency p50 / p90 (ms)"</th>
                            <th>"Calls paid / reused"</th><th>"Runs"</th><th>"Pareto front"</th><th>"Export"</th>
                        </tr>
                    </thead>
                    <tbody>{rows}</tbody>
                </table>
            </div>
            <p class="muted">
                "The Pareto front holds the configs no other config beats on both accuracy and cost."
            </p>
            {scatter}
            <div class="button-row">
                <button type="button" data-testid="experiment-export-csv" on:click=move |_| {
                    export_error.set(download_text(&format!("{id_csv}_matrix.csv"), "text/csv", &csv).err().map(|e| e.to_string()));
                }>"Download matrix (CSV)"</button>
                <button type="button" data-testid="experiment-export-json" on:click=move |_| {
                    export_error.set(download_text(&format!("{id_json}_matrix.json"), "application/json", &json).err().map(|e| e.to_string()));
                }>"Download matrix (JSON)"</button>
            </div>
            {move || export_error.get().map(|e| view! { <p class="msg msg-error" role="alert">{e}</p> })}
        </section>
        <section class="card" aria-labelledby="experiment-pairs-title">
            <h2 id="experiment-pairs-title">"Pairs on shared problems"</h2>
            <p class="muted">
                "Each pair on the problems both configs answered: the difference in accuracy with "
                "its 95 % interval, problems only one got right, and McNemar's exact test."
            </p>
            <div class="table-scroll">
                <PairTable>{pairs}</PairTable>
            </div>
        </section>
    }
}

/// The table of pairs: its header and `children`, [`PairRow`]s.
#[component]
pub fn PairTable(children: Children) -> impl IntoView {
    view! {
        <table class="data-table">
            <thead>
                <tr>
                    <th>"Pair"</th><th>"Shared"</th><th>"Difference"</th>
                    <th>"Both / only first / only second / neither right"</th><th>"p (McNemar)"</th>
                    <th>"Problems"</th>
                </tr>
            </thead>
            <tbody>{children()}</tbody>
        </table>
    }
}

/// One pair compared on its shared problems: the difference with its interval, the counts,
/// McNemar's p, and the problems where they differ, each opening both runs.
#[component]
pub fn PairRow(
    /// The comparison.
    pair: PairComparison,
    /// The first side's label.
    a_label: String,
    /// The second side's label.
    b_label: String,
    /// `experiment-pair` in an experiment's table, `compare-pair` for two batches.
    test_id: &'static str,
) -> impl IntoView {
    let (a, b) = (a_label, b_label);
    let difference = pair.difference.map_or("—".to_string(), |d| {
        format!(
            "{:+.1} pts [{:+.1}, {:+.1}]",
            d.estimate * 100.0,
            d.low * 100.0,
            d.high * 100.0
        )
    });
    let differing = pair
        .differing
        .iter()
        .map(|d| {
            let who = if d.a_correct { a.clone() } else { b.clone() };
            let runs = RunPair {
                problem_id: d.problem_id.clone(),
                a: (d.a_run_id.clone(), a.clone()),
                b: (d.b_run_id.clone(), b.clone()),
            };
            view! {
                <li data-testid="pair-differing" data-problem-id=d.problem_id.clone() data-a-correct=d.a_correct.to_string()>
                    {d.problem_id.clone()} " (right with " {who} "): "
                    <a href=format!("/runs/{}", d.a_run_id)>{format!("{a}'s run")}</a>
                    " · "
                    <a href=format!("/runs/{}", d.b_run_id)>{format!("{b}'s run")}</a>
                    " · "
                    <SideBySideButton pair=runs/>
                </li>
            }
        })
        .collect_view();
    view! {
        <tr
            data-testid=test_id
            data-a=pair.a_hash.clone()
            data-b=pair.b_hash.clone()
            data-shared=pair.shared.to_string()
            data-both=pair.both.to_string()
            data-a-only=pair.a_only.to_string()
            data-b-only=pair.b_only.to_string()
            data-neither=pair.neither.to_string()
            data-p-value=pair.p_value.to_string()
            data-difference=pair.difference.map(|d| d.estimate.to_string()).unwrap_or_default()
        >
            <th scope="row">{a.clone()} " vs " {b.clone()}</th>
            <td>{pair.shared.to_string()}</td>
            <td>{difference}</td>
            <td>{format!("{} / {} / {} / {}", pair.both, pair.a_only, pair.b_only, pair.neither)}</td>
            <td>{format!("{:.4}", pair.p_value)}</td>
            <td>
                <details>
                    <summary>{format!("{} differing", pair.differing.len())}</summary>
                    <ul>{differing}</ul>
                </details>
            </td>
        </tr>
    }
}
