//! How the bar charts share their width: a horizontal bar chart between its labels, its bars
//! and its values; a column chart between its columns. Sized from what is drawn (the longest
//! label and value, the number of columns), so that the bars use the plot, and neither bars
//! nor texts run past the chart at any count.

/// About how wide one character of the charts' 11-12 px text is, in chart units.
pub const CHAR_W: f64 = 6.8;

/// The widths of a horizontal bar chart's three parts, left to right.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BarLayout {
    /// The labels' column (right-aligned text).
    pub label_w: f64,
    /// The bars' plot: the largest value's bar spans it.
    pub plot_w: f64,
    /// Room after the longest bar for its value.
    pub value_w: f64,
}

impl BarLayout {
    /// The layout of a chart `width` units wide whose longest label has `label_chars`
    /// characters (already clipped) and whose longest value text `value_chars`. Labels take at
    /// most a third of the width and values a quarter, so the plot keeps at least the rest.
    pub fn of(width: f64, label_chars: usize, value_chars: usize) -> BarLayout {
        let width = if width.is_finite() {
            width.max(0.0)
        } else {
            0.0
        };
        let label_w = (label_chars as f64 * CHAR_W + 12.0).min(width / 3.0);
        let value_w = (value_chars as f64 * CHAR_W + 10.0).min(width / 4.0);
        BarLayout {
            label_w,
            plot_w: (width - label_w - value_w).max(0.0),
            value_w,
        }
    }

    /// The length of the bar of `value` when the largest value is `largest`: the largest bar
    /// spans the plot, a positive value gets at least 1 unit so it shows, and nothing is
    /// longer than the plot or shorter than 0 (a value that is not a number gets 0).
    pub fn bar_length(&self, value: f64, largest: f64) -> f64 {
        // Written so that NaN lands here too.
        let positive = |x: f64| x > 0.0;
        if !positive(value) || !positive(largest) {
            return 0.0;
        }
        let share = if largest.is_finite() {
            (value / largest).min(1.0)
        } else if value.is_infinite() {
            1.0
        } else {
            0.0
        };
        (share * self.plot_w).clamp(1.0_f64.min(self.plot_w), self.plot_w)
    }
}

/// How a column chart spreads `count` columns over a plot.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ColumnLayout {
    /// The width each column has, gap included.
    pub slot: f64,
    /// The drawn column's width (inside its slot, centred).
    pub bar_w: f64,
    /// Every how many columns a label is written under the axis (1: every one), so that
    /// labels of `label_chars` characters never overlap.
    pub label_every: usize,
    /// Whether the columns' totals fit above them.
    pub totals_fit: bool,
}

impl ColumnLayout {
    /// `count` columns over a plot `plot_w` wide, with labels of up to `label_chars`
    /// characters and totals of up to `total_chars`.
    pub fn of(count: usize, plot_w: f64, label_chars: usize, total_chars: usize) -> ColumnLayout {
        let plot_w = if plot_w.is_finite() {
            plot_w.max(0.0)
        } else {
            0.0
        };
        let slot = plot_w / count.max(1) as f64;
        // A gap of 40 % between columns, and no column wider than 72 units: a lone column
        // would otherwise fill the chart.
        let bar_w = (slot * 0.6).min(72.0);
        let label_w = label_chars.max(1) as f64 * CHAR_W + 6.0;
        let label_every = if slot > 0.0 {
            ((label_w / slot).ceil() as usize).max(1)
        } else {
            count.max(1)
        };
        ColumnLayout {
            slot,
            bar_w,
            label_every,
            totals_fit: total_chars as f64 * CHAR_W <= slot,
        }
    }

    /// The left edge of column `index`'s bar, from the plot's left.
    pub fn bar_x(&self, index: usize) -> f64 {
        self.slot * index as f64 + (self.slot - self.bar_w) / 2.0
    }

    /// Whether column `index` gets its label.
    pub fn labelled(&self, index: usize) -> bool {
        index.is_multiple_of(self.label_every)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_largest_bar_spans_the_plot_and_its_value_fits_after_it() {
        let layout = BarLayout::of(540.0, 12, 8);
        assert_eq!(layout.label_w + layout.plot_w + layout.value_w, 540.0);
        assert!(layout.value_w >= 8.0 * CHAR_W, "{layout:?}");
        // Most of the chart is bars, not the margins of a round axis.
        assert!(layout.plot_w > 540.0 * 0.6, "{layout:?}");
        assert_eq!(layout.bar_length(0.0051, 0.0051), layout.plot_w);
        assert_eq!(layout.bar_length(0.00255, 0.0051), layout.plot_w / 2.0);
        assert_eq!(
            layout.bar_length(1e-12, 1.0),
            1.0,
            "a tiny value still shows"
        );
        assert_eq!(layout.bar_length(0.0, 1.0), 0.0);
    }

    #[test]
    fn no_bar_is_longer_than_its_plot_whatever_the_values() {
        let layout = BarLayout::of(540.0, 40, 30);
        assert!(
            layout.label_w <= 180.0 && layout.value_w <= 135.0,
            "{layout:?}"
        );
        for (value, largest) in [
            (2.0, 1.0),
            (f64::INFINITY, f64::INFINITY),
            (1.0, f64::INFINITY),
            (f64::NAN, 1.0),
            (1.0, f64::NAN),
            (-1.0, 1.0),
            (f64::MAX, f64::MIN_POSITIVE),
        ] {
            let length = layout.bar_length(value, largest);
            assert!(
                (0.0..=layout.plot_w).contains(&length),
                "{value} of {largest}: {length}"
            );
        }
        let nothing = BarLayout::of(f64::NAN, 5, 5);
        assert_eq!(nothing.plot_w, 0.0);
        assert_eq!(nothing.bar_length(1.0, 1.0), 0.0);
    }

    #[test]
    fn columns_stay_inside_the_plot_at_any_count_and_labels_thin_out() {
        for count in [1, 2, 5, 12, 50, 400, 10_000] {
            let layout = ColumnLayout::of(count, 484.0, 8, 8);
            let last = layout.bar_x(count - 1) + layout.bar_w;
            assert!(
                layout.bar_x(0) >= 0.0 && last <= 484.0 + 1e-9,
                "{count}: {layout:?}"
            );
            assert!(layout.bar_w <= 72.0 && layout.bar_w < layout.slot + 1e-12);
            // Labels written are at least a label's width apart.
            let gap = layout.slot * layout.label_every as f64;
            assert!(gap >= 8.0 * CHAR_W, "{count}: {layout:?}");
        }
        let few = ColumnLayout::of(3, 484.0, 8, 8);
        assert_eq!(few.label_every, 1);
        assert!(few.totals_fit);
        assert!((0..3).all(|i| few.labelled(i)));
        let many = ColumnLayout::of(60, 484.0, 8, 8);
        assert!(many.label_every > 1 && !many.totals_fit, "{many:?}");
        assert!(many.labelled(0) && !many.labelled(1));
        let empty = ColumnLayout::of(0, f64::NAN, 8, 8);
        assert_eq!((empty.slot, empty.bar_w), (0.0, 0.0));
    }
}
