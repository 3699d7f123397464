//! What the charts draw, apart from their drawing in `ui::charts`: the marks ([`marks`]), the
//! axes ([`scale`]), the line's path ([`line`]), and how values and labels are written on them.

pub mod layout;
pub mod line;
pub mod marks;
pub mod scale;
pub mod scatter;
pub mod time;

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_values_are_exact_or_unknown() {
        assert_eq!(data_value(Some(0.1 + 0.2)), "0.30000000000000004");
        assert_eq!(data_value(Some(0.000_001)), "0.000001");
        assert_eq!(data_value(Some(12.0)), "12");
        assert_eq!(data_value(None), "unknown");
        assert_eq!(data_value(Some(f64::NAN)), "unknown");
    }

    #[test]
    fn labels_are_clipped_on_characters() {
        assert_eq!(clip("gpt-4o", 10), "gpt-4o");
        assert_eq!(clip("anthropic/claude", 8), "anthrop…");
        assert_eq!(clip("ééééé", 3), "éé…");
        assert_eq!(color_class(9), "chart-c1");
    }
}
