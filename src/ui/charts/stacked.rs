//! Stacked columns: one column per category (a round of a run), split by series (the agents).

use leptos::prelude::*;

use crate::app::charts::layout::ColumnLayout;
use crate::app::charts::marks::Stack;
use crate::app::charts::scale::{tick_label, Unit, ValueAxis};
use crate::app::charts::{clip, color_class, data_value};

use super::ChartFigure;

// Sized for a half-width card (about 540 px).
const WIDTH: f64 = 560.0;
const HEIGHT: f64 = 240.0;
const LEFT: f64 = 64.0;
const RIGHT: f64 = 12.0;
const TOP: f64 = 22.0;
const BOTTOM: f64 = 26.0;
/// Column labels are clipped to this many characters.
const LABEL_CHARS: usize = 12;

/// A stacked column chart with a legend and a table view.
#[component]
pub fn StackedBars(
    /// The `data-testid` of the `<svg>`.
    test_id: &'static str,
    /// The title (caption and `<title>`).
    #[prop(into)]
    title: String,
    /// The columns, left to right.
    #[prop(into)]
    stacks: Signal<Vec<Stack>>,
    /// Every series in stacking order (decides the colours and the legend).
    #[prop(into)]
    series: Signal<Vec<String>>,
    /// What the values are.
    unit: Unit,
    /// The table's first column header (`Round`).
    category_header: &'static str,
) -> impl IntoView {
    let show_table = RwSignal::new(false);
    let readout = RwSignal::new(None::<String>);
    let title_text = title.clone();
    let aria = {
        let title = title.clone();
        move || {
            let stacks = stacks.get();
            let parts: Vec<String> = stacks
                .iter()
                .map(|s| format!("{} {}", s.label, s.total_text))
                .collect();
            format!(
                "{title}, stacked by {}: {}. The table view lists every part.",
                series.get().join(", "),
                parts.join("; ")
            )
        }
    };
    let axis = Memo::new(move |_| {
        let largest = stacks.with(|s| {
            s.iter()
                .map(|s| s.total)
                .filter(|v| v.is_finite())
                .fold(0.0, f64::max)
        });
        ValueAxis::up_to(largest, 4)
    });
    let color_of = move |name: &str| {
        series.with(|all| color_class(all.iter().position(|s| s == name).unwrap_or(all.len())))
    };
    let plot_h = HEIGHT - TOP - BOTTOM;
    let plot_w = WIDTH - LEFT - RIGHT;

    view! {
        <ChartFigure title=title show_table=show_table readout=readout>
            <svg
                class="chart-svg"
                role="img"
                data-testid=test_id
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
                </g>
                {move || {
                    let a = axis.get();
                    let all = stacks.get();
                    let total_chars = all.iter().map(|s| s.total_text.chars().count()).max().unwrap_or(0);
                    let layout = ColumnLayout::of(all.len(), plot_w, LABEL_CHARS, total_chars);
                    let bar_w = layout.bar_w;
                    all.into_iter()
                        .enumerate()
                        .map(|(i, stack)| {
                            let x = LEFT + layout.bar_x(i);
                            let labelled = layout.labelled(i);
                            let mut bottom = TOP + plot_h;
                            let segments = stack
                                .segments
                                .iter()
                                .map(|seg| {
                                    let h = seg.value.map_or(0.0, |v| a.position(v, plot_h));
                                    bottom -= h;
                                    let exact = format!("{}, {}: {}", stack.label, seg.series, seg.text);
                                    let (shown, focused) = (exact.clone(), exact.clone());
                                    let class = match seg.value {
                                        Some(_) => format!("chart-seg {}", color_of(&seg.series)),
                                        None => "chart-seg chart-unknown".to_string(),
                                    };
                                    view! {
                                        <rect
                                            class=class
                                            tabindex=if seg.value.is_some() { "0" } else { "-1" }
                                            x=x
                                            y=bottom
                                            width=bar_w
                                            height=h
                                            data-label=stack.label.clone()
                                            data-series=seg.series.clone()
                                            data-value=data_value(seg.value)
                                            on:mouseenter=move |_| readout.set(Some(shown.clone()))
                                            on:focus=move |_| readout.set(Some(focused.clone()))
                                        >
                                            <title>{exact}</title>
                                        </rect>
                                    }
                                })
                                .collect_view();
                            let top = TOP + plot_h - a.position(stack.total, plot_h);
                            view! {
                                <g class="chart-stack" data-label=stack.label.clone() data-total=stack.total.to_string()>
                                    {segments}
                                    // Many columns: the totals are in each segment's title and
                                    // the table, and every few columns are labelled.
                                    {layout.totals_fit.then(|| view! {
                                        <text class="chart-value" x=x + bar_w / 2.0 y=top - 5.0 text-anchor="middle">
                                            {stack.total_text.clone()}
                                        </text>
                                    })}
                                    {labelled.then(|| view! {
                                        <text class="chart-label" x=x + bar_w / 2.0 y=HEIGHT - 8.0 text-anchor="middle">
                                            {clip(&stack.label, LABEL_CHARS)}
                                        </text>
                                    })}
                                </g>
                            }
                        })
                        .collect_view()
                }}
            </svg>
            <ul class="chart-legend" hidden=move || show_table.get()>
                {move || {
                    series
                        .get()
                        .into_iter()
                        .enumerate()
                        .map(|(i, name)| view! {
                            <li><span class=format!("chart-swatch {}", color_class(i)) aria-hidden="true"></span>{name}</li>
                        })
                        .collect_view()
                }}
            </ul>
            <table class="chart-table" hidden=move || !show_table.get()>
                <thead>
                    <tr>
                        <th scope="col">{category_header}</th>
                        {move || series.get().into_iter().map(|s| view! { <th scope="col" class="num">{s}</th> }).collect_view()}
                        <th scope="col" class="num">"Total"</th>
                    </tr>
                </thead>
                <tbody>
                    {move || {
                        let names = series.get();
                        stacks
                            .get()
                            .into_iter()
                            .map(|stack| {
                                let cells = names
                                    .iter()
                                    .map(|name| {
                                        let seg = stack.segments.iter().find(|s| &s.series == name);
                                        let text = seg.map_or_else(|| "–".to_string(), |s| s.text.clone());
                                        let value = seg.map(|s| data_value(s.value)).unwrap_or_default();
                                        view! { <td class="num mono" data-series=name.clone() data-value=value>{text}</td> }
                                    })
                                    .collect_view();
                                view! {
                                    <tr data-label=stack.label.clone()>
                                        <th scope="row">{stack.label.clone()}</th>
                                        {cells}
                                        <td class="num mono" data-total=stack.total.to_string()>{stack.total_text.clone()}</td>
                                    </tr>
                                }
                            })
                            .collect_view()
                    }}
                </tbody>
            </table>
        </ChartFigure>
    }
}
