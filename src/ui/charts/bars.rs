//! Horizontal bars: one labelled bar per row (a model, an agent), longest first or in the
//! order given.

use leptos::prelude::*;

use crate::app::charts::layout::BarLayout;
use crate::app::charts::marks::Bar;
use crate::app::charts::scale::{tick_label, Unit, ValueAxis};
use crate::app::charts::{clip, color_class, data_value};
use crate::app::format::plural;

use super::ChartFigure;

// Sized for a half-width card on a laptop screen (about 540 px), where text is drawn at its
// nominal size; narrower or wider cards scale it.
const WIDTH: f64 = 540.0;
const ROW_H: f64 = 26.0;
const BAR_H: f64 = 16.0;
const TOP: f64 = 6.0;
const AXIS_H: f64 = 22.0;
const LABEL_CHARS: usize = 22;

/// A horizontal bar chart with a table view.
#[component]
pub fn BarChart(
    /// The `data-testid` of the `<svg>`.
    test_id: &'static str,
    /// The title (caption and `<title>`).
    #[prop(into)]
    title: String,
    /// The rows, in the order to draw them.
    #[prop(into)]
    bars: Signal<Vec<Bar>>,
    /// What the values are.
    unit: Unit,
    /// The value column's header in the table view (`Cost (USD)`).
    value_header: &'static str,
) -> impl IntoView {
    let show_table = RwSignal::new(false);
    let readout = RwSignal::new(None::<String>);
    let title_text = title.clone();
    let aria = {
        let title = title.clone();
        move || {
            let bars = bars.get();
            let unknown = bars.iter().filter(|b| b.value.is_none()).count();
            let mut s = format!("{title}: {} bar{}", bars.len(), plural(bars.len()));
            if let Some(top) = bars.iter().filter(|b| b.value.is_some()).max_by(|a, b| {
                a.value
                    .unwrap_or_default()
                    .total_cmp(&b.value.unwrap_or_default())
            }) {
                s.push_str(&format!(", the largest {} at {}", top.label, top.text));
            }
            if unknown > 0 {
                s.push_str(&format!(", {unknown} unknown"));
            }
            s.push_str(". The table view lists every value.");
            s
        }
    };
    let height = move || TOP + bars.with(Vec::len).max(1) as f64 * ROW_H + AXIS_H;
    let axis = Memo::new(move |_| {
        let largest = bars.with(|b| {
            b.iter()
                .filter_map(|b| b.value)
                .filter(|v| v.is_finite())
                .fold(0.0, f64::max)
        });
        ValueAxis::up_to(largest, 4)
    });
    // The largest bar spans the plot, and the plot is what the labels and values leave.
    let largest = Memo::new(move |_| {
        bars.with(|b| {
            b.iter()
                .filter_map(|b| b.value)
                .filter(|v| v.is_finite())
                .fold(0.0, f64::max)
        })
    });
    let layout = Memo::new(move |_| {
        bars.with(|b| {
            let label = b
                .iter()
                .map(|b| clip(&b.label, LABEL_CHARS).chars().count())
                .max();
            let value = b.iter().map(|b| b.text.chars().count()).max();
            BarLayout::of(WIDTH, label.unwrap_or(0), value.unwrap_or(0))
        })
    });

    view! {
        <ChartFigure title=title show_table=show_table readout=readout>
            <svg
                class="chart-svg"
                role="img"
                data-testid=test_id
                viewBox=move || format!("0 0 {WIDTH} {}", height())
                aria-label=aria
                hidden=move || show_table.get()
            >
                <title>{title_text.clone()}</title>
                // Grid lines and tick labels along the bottom.
                <g class="chart-axis">
                    {move || {
                        let a = axis.get();
                        let h = height();
                        let (l, top) = (layout.get(), largest.get());
                        // Ticks up to the largest value only: the bars' scale ends there.
                        a.ticks()
                            .into_iter()
                            .filter(|t| *t == 0.0 || *t <= top)
                            .map(|t| {
                                let x = l.label_w + l.bar_length(t, top);
                                view! {
                                    <line class="chart-gridline" x1=x x2=x y1=TOP y2=h - AXIS_H + 2.0/>
                                    <text class="chart-tick" x=x y=h - 6.0 text-anchor="middle">
                                        {tick_label(t, &a, unit)}
                                    </text>
                                }
                            })
                            .collect_view()
                    }}
                </g>
                {move || {
                    let (l, top) = (layout.get(), largest.get());
                    bars.get()
                        .into_iter()
                        .enumerate()
                        .map(|(i, bar)| {
                            let y = TOP + i as f64 * ROW_H;
                            let mut exact = format!("{}: {}", bar.label, bar.text);
                            if let Some(note) = &bar.note {
                                exact.push_str(&format!(" ({note})"));
                            }
                            let shown = exact.clone();
                            let focused = exact.clone();
                            let (class, w) = match bar.value {
                                Some(v) => (format!("chart-bar-fill {}", color_class(bar.color)), l.bar_length(v, top)),
                                None => ("chart-unknown".to_string(), 24.0_f64.min(l.plot_w)),
                            };
                            view! {
                                <g
                                    class="chart-bar"
                                    tabindex="0"
                                    data-label=bar.label.clone()
                                    data-value=data_value(bar.value)
                                    on:mouseenter=move |_| readout.set(Some(shown.clone()))
                                    on:focus=move |_| readout.set(Some(focused.clone()))
                                >
                                    <title>{exact}</title>
                                    <text class="chart-label" x=l.label_w - 8.0 y=y + ROW_H / 2.0 + 4.0 text-anchor="end">
                                        {clip(&bar.label, LABEL_CHARS)}
                                    </text>
                                    <rect class=class x=l.label_w y=y + (ROW_H - BAR_H) / 2.0 width=w height=BAR_H rx="2"/>
                                    <text class="chart-value" x=l.label_w + w + 6.0 y=y + ROW_H / 2.0 + 4.0>
                                        {bar.text.clone()}
                                    </text>
                                </g>
                            }
                        })
                        .collect_view()
                }}
            </svg>
            <table class="chart-table" hidden=move || !show_table.get()>
                <thead>
                    <tr><th scope="col">""</th><th scope="col" class="num">{value_header}</th><th scope="col">"Note"</th></tr>
                </thead>
                <tbody>
                    {move || {
                        bars.get()
                            .into_iter()
                            .map(|bar| view! {
                                <tr data-label=bar.label.clone()>
                                    <th scope="row">{bar.label.clone()}</th>
                                    <td class="num mono" data-value=data_value(bar.value)>{bar.text.clone()}</td>
                                    <td class="muted">{bar.note.clone().unwrap_or_default()}</td>
                                </tr>
                            })
                            .collect_view()
                    }}
                </tbody>
            </table>
        </ChartFigure>
    }
}
