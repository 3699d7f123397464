//! Accuracy against cost, one point per config, with the Pareto front drawn through the
//! configs no other beats on both.

use leptos::prelude::*;

use crate::app::charts::data_value;
use crate::app::charts::scale::{tick_label, Unit};
use crate::app::charts::scatter::Scatter;
use crate::app::format::dollars;
use crate::core::experiment::matrix::ConfigRow;
use crate::core::experiment::pareto::ParetoPoint;

use super::ChartFigure;

// Sized for a half-width card or wider; the text scales with it.
const WIDTH: f64 = 640.0;
const HEIGHT: f64 = 300.0;
const LEFT: f64 = 52.0;
const RIGHT: f64 = 24.0;
const TOP: f64 = 14.0;
const BOTTOM: f64 = 34.0;

/// The scatter of an experiment's configs, with a table view.
#[component]
pub fn ScatterChart(
    /// The `data-testid` of the `<svg>`.
    test_id: &'static str,
    /// The title (caption and `<title>`).
    #[prop(into)]
    title: String,
    /// The matrix's rows.
    rows: Vec<ConfigRow>,
    /// Their points, from `pareto_front(rows)`.
    pareto: Vec<ParetoPoint>,
) -> impl IntoView {
    let show_table = RwSignal::new(false);
    let readout = RwSignal::new(None::<String>);
    let plot_w = WIDTH - LEFT - RIGHT;
    let plot_h = HEIGHT - TOP - BOTTOM;
    let scatter = Scatter::of(&rows, &pareto, plot_w, plot_h);
    let front: Vec<String> = scatter
        .marks
        .iter()
        .filter(|m| m.on_front)
        .map(|m| m.label.clone())
        .collect();
    let aria = format!(
        "{title}: {} config{} placed; on the Pareto front: {}.{} The table view lists every config.",
        scatter.marks.len(),
        if scatter.marks.len() == 1 { "" } else { "s" },
        if front.is_empty() { "none".to_string() } else { front.join(", ") },
        if scatter.unplaced.is_empty() {
            String::new()
        } else {
            format!(" Not placed (no checked answer or no known cost): {}.", scatter.unplaced.join(", "))
        }
    );
    let cost_ticks = scatter
        .cost_axis
        .ticks()
        .into_iter()
        .map(|t| {
            let x = LEFT + scatter.cost_axis.position(t, plot_w);
            view! {
                <line class="chart-gridline" x1=x x2=x y1=TOP y2=TOP + plot_h/>
                <text class="chart-tick" x=x y=HEIGHT - 16.0 text-anchor="middle">
                    {tick_label(t, &scatter.cost_axis, Unit::Usd)}
                </text>
            }
        })
        .collect_view();
    let accuracy_ticks = scatter
        .accuracy_axis
        .ticks()
        .into_iter()
        .map(|t| {
            let y = TOP + plot_h - scatter.accuracy_axis.position(t, plot_h);
            view! {
                <line class="chart-gridline" x1=LEFT x2=WIDTH - RIGHT y1=y y2=y/>
                <text class="chart-tick" x=LEFT - 6.0 y=y + 4.0 text-anchor="end">
                    {format!("{:.0} %", t * 100.0)}
                </text>
            }
        })
        .collect_view();
    let points = scatter
        .marks
        .iter()
        .map(|m| {
            let exact = format!(
                "{}: accuracy {:.1} %, cost {}{}",
                m.label,
                m.accuracy * 100.0,
                dollars(Some(m.cost_usd)),
                if m.on_front {
                    ", on the Pareto front"
                } else {
                    ""
                }
            );
            let (shown, focused) = (exact.clone(), exact.clone());
            view! {
                <circle
                    class=if m.on_front { "chart-dot chart-dot-front" } else { "chart-dot" }
                    data-testid="scatter-point"
                    tabindex="0"
                    cx=LEFT + m.x
                    cy=TOP + m.y
                    r=if m.on_front { "6" } else { "4.5" }
                    data-config-hash=m.config_hash.clone()
                    data-accuracy=data_value(Some(m.accuracy))
                    data-cost=data_value(Some(m.cost_usd))
                    data-on-front=m.on_front.to_string()
                    on:mouseenter=move |_| readout.set(Some(shown.clone()))
                    on:focus=move |_| readout.set(Some(focused.clone()))
                >
                    <title>{exact}</title>
                </circle>
            }
        })
        .collect_view();
    let front_path = scatter.front_path.clone();
    let table_rows = rows
        .iter()
        .enumerate()
        .map(|(i, row)| {
            let mark = scatter.marks.iter().find(|m| m.arm == i);
            view! {
                <tr data-testid="scatter-row" data-config-hash=row.config_hash.clone()>
                    <th scope="row">{row.label.clone()}</th>
                    <td class="num mono" data-value=data_value(row.accuracy.map(|a| a.rate))>
                        {row.accuracy.map_or("unknown".to_string(), |a| format!("{:.1} %", a.rate * 100.0))}
                    </td>
                    <td class="num mono" data-value=data_value(row.cost_usd)>{dollars(row.cost_usd)}</td>
                    <td>{match mark {
                        Some(m) if m.on_front => "yes",
                        Some(_) => "no",
                        None => "not placed",
                    }}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <ChartFigure title=title.clone() show_table=show_table readout=readout>
            <svg
                class="chart-svg"
                role="img"
                data-testid=test_id
                viewBox=format!("0 0 {WIDTH} {HEIGHT}")
                aria-label=aria
                hidden=move || show_table.get()
            >
                <title>{title.clone()}</title>
                <g class="chart-axis">
                    {cost_ticks}
                    {accuracy_ticks}
                    <text class="chart-tick" x=LEFT + plot_w / 2.0 y=HEIGHT - 2.0 text-anchor="middle">"Cost (USD)"</text>
                </g>
                <path
                    class="chart-line chart-front"
                    data-testid="scatter-front"
                    transform=format!("translate({LEFT} {TOP})")
                    d=front_path
                />
                {points}
            </svg>
            <table class="chart-table" hidden=move || !show_table.get()>
                <thead>
                    <tr>
                        <th scope="col">"Config"</th>
                        <th scope="col" class="num">"Accuracy"</th>
                        <th scope="col" class="num">"Cost (USD)"</th>
                        <th scope="col">"Pareto front"</th>
                    </tr>
                </thead>
                <tbody>{table_rows}</tbody>
            </table>
        </ChartFigure>
    }
}
