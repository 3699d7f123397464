//! A line over time: a running total (spend so far) drawn as steps, since it changes only when
//! a run adds to it.

use leptos::prelude::*;

use crate::app::charts::data_value;
use crate::app::charts::line::{step_path, x_of};
use crate::app::charts::marks::Point;
use crate::app::charts::scale::{tick_label, Unit, ValueAxis};
use crate::app::charts::time::time_ticks;
use crate::app::format::plural;
use crate::core::cost_views::day_of;

use super::ChartFigure;

// Sized for a full-width card on a laptop screen (about 1,100 px).
const WIDTH: f64 = 1040.0;
const HEIGHT: f64 = 280.0;
const LEFT: f64 = 64.0;
const RIGHT: f64 = 16.0;
const TOP: f64 = 12.0;
const BOTTOM: f64 = 26.0;
/// At most this many intervals between time ticks: room for a date and a time each.
const TIME_TICKS: usize = 6;

/// A line chart over time with a table view.
#[component]
pub fn LineChart(
    /// The `data-testid` of the `<svg>`.
    test_id: &'static str,
    /// The title (caption and `<title>`).
    #[prop(into)]
    title: String,
    /// The points, oldest first.
    #[prop(into)]
    points: Signal<Vec<Point>>,
    /// What the values are.
    unit: Unit,
    /// The table's first column header (`Run`, `Day`).
    #[prop(into)]
    label_header: Signal<String>,
    /// The value column's header (`Spend so far (USD)`).
    value_header: &'static str,
) -> impl IntoView {
    let show_table = RwSignal::new(false);
    let readout = RwSignal::new(None::<String>);
    let title_text = title.clone();
    let aria = {
        let title = title.clone();
        move || {
            points.with(|p| match (p.first(), p.last()) {
                (Some(first), Some(last)) => format!(
                    "{title}: {} point{} from {} to {}, ending at {}. The table view lists every point.",
                    p.len(),
                    plural(p.len()),
                    day_of(first.time_ms),
                    day_of(last.time_ms),
                    last.text
                ),
                _ => format!("{title}: nothing yet."),
            })
        }
    };
    let axis = Memo::new(move |_| {
        let largest = points.with(|p| {
            p.iter()
                .map(|p| p.value)
                .filter(|v| v.is_finite())
                .fold(0.0, f64::max)
        });
        ValueAxis::up_to(largest, 4)
    });
    let plot_w = WIDTH - LEFT - RIGHT;
    let plot_h = HEIGHT - TOP - BOTTOM;
    let span = move || {
        points.with(|p| {
            (
                p.first().map_or(0.0, |p| p.time_ms),
                p.last().map_or(0.0, |p| p.time_ms),
            )
        })
    };
    let last_value = move || points.with(|p| data_value(p.last().map(|p| p.value)));

    view! {
        <ChartFigure title=title show_table=show_table readout=readout>
            <svg
                class="chart-svg chart-svg-wide"
                role="img"
                data-testid=test_id
                data-value=last_value
                viewBox=format!("0 0 {WIDTH} {HEIGHT}")
                aria-label=aria
                hidden=move || show_table.get()
            >
                <title>{title_text.clone()}</title>
                <g class="chart-axis">
                    {move || {
                        let a = axis.get();
                        a.ticks()
                            .into_iter()
                            .map(|t| {
                                let y = TOP + plot_h - a.position(t, plot_h);
                                view! {
                                    <line class="chart-gridline" x1=LEFT x2=WIDTH - RIGHT y1=y y2=y/>
                                    <text class="chart-tick" x=LEFT - 6.0 y=y + 4.0 text-anchor="end">
                                        {tick_label(t, &a, unit)}
                                    </text>
                                }
                            })
                            .collect_view()
                    }}
                    // Calendar ticks along the bottom, placed in proportion to time: a
                    // stretch without runs keeps its dates.
                    {move || {
                        let (first, last) = span();
                        let ticks = if points.with(Vec::is_empty) {
                            Vec::new()
                        } else {
                            time_ticks(first, last, TIME_TICKS)
                        };
                        ticks
                            .into_iter()
                            .map(|tick| {
                                let x = LEFT + x_of(tick.ms, first, last, plot_w);
                                view! {
                                    <line class="chart-gridline" x1=x x2=x y1=TOP y2=TOP + plot_h/>
                                    <text class="chart-tick" x=x y=HEIGHT - 8.0 text-anchor="middle">
                                        {tick.label}
                                    </text>
                                }
                            })
                            .collect_view()
                    }}
                </g>
                {move || {
                    let a = axis.get();
                    let (first, last) = span();
                    let placed: Vec<(f64, f64)> = points.with(|p| {
                        p.iter()
                            .map(|p| {
                                (
                                    LEFT + x_of(p.time_ms, first, last, plot_w),
                                    TOP + plot_h - a.position(p.value, plot_h),
                                )
                            })
                            .collect()
                    });
                    let dots = points
                        .get()
                        .into_iter()
                        .zip(placed.iter().copied())
                        .map(|(p, (x, y))| {
                            let mut exact = format!("{} ({}): {}", p.label, day_of(p.time_ms), p.text);
                            if let Some(note) = &p.note {
                                exact.push_str(&format!(", {note}"));
                            }
                            let (shown, focused) = (exact.clone(), exact.clone());
                            view! {
                                <circle
                                    class="chart-dot"
                                    tabindex="0"
                                    cx=x
                                    cy=y
                                    r="3.5"
                                    data-label=p.label.clone()
                                    data-value=data_value(Some(p.value))
                                    on:mouseenter=move |_| readout.set(Some(shown.clone()))
                                    on:focus=move |_| readout.set(Some(focused.clone()))
                                >
                                    <title>{exact}</title>
                                </circle>
                            }
                        })
                        .collect_view();
                    view! {
                        <path class="chart-line" d=step_path(&placed)/>
                        {dots}
                    }
                }}
            </svg>
            <table class="chart-table" hidden=move || !show_table.get()>
                <thead>
                    <tr>
                        <th scope="col">{move || label_header.get()}</th>
                        <th scope="col">"Day (UTC)"</th>
                        <th scope="col" class="num">{value_header}</th>
                        <th scope="col">"Note"</th>
                    </tr>
                </thead>
                <tbody>
                    {move || {
                        points
                            .get()
                            .into_iter()
                            .map(|p| view! {
                                <tr data-label=p.label.clone()>
                                    <th scope="row" class="mono">{p.label.clone()}</th>
                                    <td>{day_of(p.time_ms)}</td>
                                    <td class="num mono" data-value=data_value(Some(p.value))>{p.text.clone()}</td>
                                    <td class="muted">{p.note.clone().unwrap_or_default()}</td>
                                </tr>
                            })
                            .collect_view()
                    }}
                </tbody>
            </table>
        </ChartFigure>
    }
}
