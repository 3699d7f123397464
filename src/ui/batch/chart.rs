//! Accuracy against cost per problem, one point per mode with its 95 % interval as a whisker:
//! where debate and baseline sit on the price–quality plane. Drawn in the frame and with the
//! axis arithmetic of the app's charts ([`crate::ui::charts`]).

use leptos::prelude::*;

use crate::app::batch::format::{interval_text, rate_text};
use crate::app::charts::scale::{tick_label, Unit, ValueAxis};
use crate::app::charts::{color_class, data_value};
use crate::app::format::cost_text;
use crate::ui::charts::ChartFigure;

/// One mode on the chart.
#[derive(Debug, Clone, PartialEq)]
pub struct ModePoint {
    /// `debate` or `baseline`.
    pub label: String,
    /// Cost per problem in USD; `None` when unknown (the point is then listed, not drawn).
    pub cost_per_problem: Option<f64>,
    /// Accuracy in [0, 1].
    pub accuracy: f64,
    /// The 95 % interval of the accuracy.
    pub low: f64,
    /// The 95 % interval of the accuracy.
    pub high: f64,
}

const WIDTH: f64 = 480.0;
const HEIGHT: f64 = 260.0;
const LEFT: f64 = 52.0;
const RIGHT: f64 = 24.0;
const TOP: f64 = 12.0;
const BOTTOM: f64 = 40.0;

/// The chart (`data-testid="chart-accuracy-cost"` on the `<svg>`) with its table view.
#[component]
pub fn AccuracyCostChart(
    /// The points, one per mode.
    #[prop(into)]
    points: Signal<Vec<ModePoint>>,
) -> impl IntoView {
    let show_table = RwSignal::new(false);
    let readout = RwSignal::new(None::<String>);
    let plot_w = WIDTH - LEFT - RIGHT;
    let plot_h = HEIGHT - TOP - BOTTOM;
    let x_axis = Memo::new(move |_| {
        let largest = points.with(|p| {
            p.iter()
                .filter_map(|p| p.cost_per_problem)
                .fold(0.0, f64::max)
        });
        ValueAxis::up_to(largest * 1.1, 4)
    });
    let y_axis = ValueAxis {
        max: 1.0,
        step: 0.25,
    };
    let describe = |p: &ModePoint| {
        format!(
            "{}: accuracy {} {} at {} USD per problem",
            p.label,
            rate_text(Some(p.accuracy)),
            interval_text(p.low, p.high),
            cost_text(p.cost_per_problem)
        )
    };
    let aria = move || {
        let text: Vec<String> = points.get().iter().map(describe).collect();
        format!(
            "Accuracy against cost per problem. {}. The table view lists the numbers.",
            text.join("; ")
        )
    };
    view! {
        <ChartFigure title="Accuracy against cost per problem" show_table=show_table readout=readout>
            <svg
                class="chart-svg batch-chart"
                role="img"
                data-testid="chart-accuracy-cost"
                viewBox=format!("0 0 {WIDTH} {HEIGHT}")
                aria-label=aria
                hidden=move || show_table.get()
            >
                <title>"Accuracy against cost per problem"</title>
                <g class="chart-axis">
                    {y_axis.ticks().into_iter().map(|t| {
                        let y = TOP + plot_h - y_axis.position(t, plot_h);
                        view! {
                            <line class="chart-gridline" x1=LEFT x2=WIDTH - RIGHT y1=y y2=y/>
                            <text class="chart-tick" x=LEFT - 6.0 y=y + 4.0 text-anchor="end">
                                {format!("{t:.2}")}
                            </text>
                        }
                    }).collect_view()}
                    {move || {
                        let a = x_axis.get();
                        a.ticks().into_iter().map(|t| {
                            let x = LEFT + a.position(t, plot_w);
                            view! {
                                <text class="chart-tick" x=x y=HEIGHT - BOTTOM + 16.0 text-anchor="middle">
                                    {tick_label(t, &a, Unit::Usd)}
                                </text>
                            }
                        }).collect_view()
                    }}
                    <text class="chart-tick" x=LEFT + plot_w / 2.0 y=HEIGHT - 4.0 text-anchor="middle">
                        "cost per problem (USD)"
                    </text>
                </g>
                {move || {
                    let a = x_axis.get();
                    points.get().into_iter().enumerate().filter_map(|(i, p)| {
                        let cost = p.cost_per_problem?;
                        let x = LEFT + a.position(cost, plot_w);
                        let y_of = |v: f64| TOP + plot_h - y_axis.position(v, plot_h);
                        let text = describe(&p);
                        let shown = text.clone();
                        let focused = text.clone();
                        Some(view! {
                            <g
                                class=format!("batch-point {}", color_class(i))
                                tabindex="0"
                                data-label=p.label.clone()
                                data-value=data_value(Some(p.accuracy))
                                on:mouseenter=move |_| readout.set(Some(shown.clone()))
                                on:focus=move |_| readout.set(Some(focused.clone()))
                            >
                                <title>{text}</title>
                                <line class="batch-whisker" x1=x x2=x y1=y_of(p.low) y2=y_of(p.high)/>
                                <circle class="chart-bar-fill" cx=x cy=y_of(p.accuracy) r="6"/>
                                <text class="chart-label" x=x + 10.0 y=y_of(p.accuracy) + 4.0>{p.label.clone()}</text>
                            </g>
                        })
                    }).collect_view()
                }}
            </svg>
            <div class="table-wrap" hidden=move || !show_table.get()>
                <table class="chart-table">
                    <thead>
                        <tr>
                            <th scope="col">"Mode"</th>
                            <th scope="col">"Cost per problem (USD)"</th>
                            <th scope="col">"Accuracy"</th>
                            <th scope="col">"95 % interval"</th>
                        </tr>
                    </thead>
                    <tbody>
                        {move || points.get().into_iter().map(|p| view! {
                            <tr>
                                <th scope="row">{p.label.clone()}</th>
                                <td class="mono">{cost_text(p.cost_per_problem)}</td>
                                <td class="mono">{rate_text(Some(p.accuracy))}</td>
                                <td class="mono">{interval_text(p.low, p.high)}</td>
                            </tr>
                        }).collect_view()}
                    </tbody>
                </table>
            </div>
        </ChartFigure>
    }
}
