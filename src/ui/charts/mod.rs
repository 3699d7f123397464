//! Charts drawn as SVG by the app itself: horizontal bars ([`bars::BarChart`]), stacked columns
//! ([`stacked::StackedBars`]) and a line over time ([`line::LineChart`]).
//!
//! Every chart is a `<figure>` whose `<svg>` carries `role="img"`, an `aria-label` that says
//! what it shows, and a `<title>`; each mark has its own `<title>` and `data-label` /
//! `data-value` attributes with the exact number, and hovering or focusing it writes the exact
//! value under the chart. A "Table view" toggle swaps the drawing for a table of the same
//! numbers. Sizes come from the `viewBox`, so charts scale with their container; colours come
//! from CSS custom properties (`style/charts.css`), so they follow the light and dark themes.
//! An unknown value is drawn as an empty dashed mark and written `unknown`, never as 0.

pub mod bars;
pub mod line;
pub mod stacked;

use leptos::prelude::*;

/// How many series colours the palette has (`chart-c0` … `chart-c7` in `style/charts.css`).
pub const PALETTE: usize = 8;

/// The CSS class of the `index`-th series colour (the palette repeats).
pub fn color_class(index: usize) -> String {
    format!("chart-c{}", index % PALETTE)
}

/// What `data-value` holds for a mark: the number in full (the shortest decimal that reads back
/// as the same `f64`, without an exponent), or `unknown`.
pub fn data_value(value: Option<f64>) -> String {
    match value.filter(|v| v.is_finite()) {
        Some(v) => v.to_string(),
        None => "unknown".to_string(),
    }
}

/// `label` cut to `max_chars` characters with `…`, for axis labels (the full text is in the
/// mark's title and the table).
pub fn clip(label: &str, max_chars: usize) -> String {
    if label.chars().count() <= max_chars {
        return label.to_string();
    }
    let mut out: String = label.chars().take(max_chars.saturating_sub(1)).collect();
    out.push('…');
    out
}

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

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test;

    #[wasm_bindgen_test]
    fn data_values_are_exact_or_unknown() {
        assert_eq!(data_value(Some(0.1 + 0.2)), "0.30000000000000004");
        assert_eq!(data_value(Some(0.000_001)), "0.000001");
        assert_eq!(data_value(Some(12.0)), "12");
        assert_eq!(data_value(None), "unknown");
        assert_eq!(data_value(Some(f64::NAN)), "unknown");
    }

    #[wasm_bindgen_test]
    fn labels_are_clipped_on_characters() {
        assert_eq!(clip("gpt-4o", 10), "gpt-4o");
        assert_eq!(clip("anthropic/claude", 8), "anthrop…");
        assert_eq!(clip("ééééé", 3), "éé…");
        assert_eq!(color_class(9), "chart-c1");
    }
}
