//! Charts drawn as SVG by the app itself: horizontal bars ([`bars::BarChart`]), stacked columns
//! ([`stacked::StackedBars`]) and a line over time ([`line::LineChart`]).
//!
//! Every chart is a `<figure>` whose `<svg>` carries `role="img"`, an `aria-label` that says
//! what it shows, and a `<title>`; each mark has its own `<title>` and `data-label` /
//! `data-value` attributes with the exact number, and hovering or focusing it writes the exact
//! value under the chart. A "Table view" toggle swaps the drawing for a table of the same
//! numbers. Sizes come from the `viewBox`, so charts scale with their container; colours come
//! from CSS custom properties (`style/charts.css`), so they follow the light and dark themes.
//! An unknown value is drawn as an empty dashed mark and written `unknown`, never as 0. The
//! marks, axes and labels are computed in [`crate::app::charts`].

pub mod bars;
pub mod line;
pub mod scatter;
pub mod stacked;

use leptos::prelude::*;

/// A chart's frame: the caption with its title and the table-view toggle, the chart (the
/// children), and the line that shows the exact value of the mark under the pointer.
#[component]
pub fn ChartFigure(
    /// The chart's title, shown as its caption.
    #[prop(into)]
    title: String,
    /// Whether the table is shown instead of the drawing.
    show_table: RwSignal<bool>,
    /// The exact value of the hovered or focused mark.
    readout: RwSignal<Option<String>>,
    /// The drawing and the table (each hides itself by `show_table`).
    children: Children,
) -> impl IntoView {
    view! {
        <figure class="chart">
            <figcaption class="chart-head">
                <span class="chart-title">{title}</span>
                <button
                    type="button"
                    class="btn btn-sm chart-toggle"
                    data-testid="chart-table-toggle"
                    aria-pressed=move || if show_table.get() { "true" } else { "false" }
                    on:click=move |_| show_table.update(|t| *t = !*t)
                >
                    {move || if show_table.get() { "Chart view" } else { "Table view" }}
                </button>
            </figcaption>
            {children()}
            <p class="chart-readout" aria-live="polite" hidden=move || show_table.get()>
                {move || {
                    readout
                        .get()
                        .unwrap_or_else(|| "Hover over or focus a mark for its exact value.".to_string())
                }}
            </p>
        </figure>
    }
}
