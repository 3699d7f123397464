//! Axis arithmetic for the charts: a value axis from 0 to a round maximum with 1-2-5 ticks,
//! and how tick labels are written.

/// A value axis from 0 to `max` (a round number at or above the largest value), with ticks
/// every `step`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ValueAxis {
    /// The top of the axis.
    pub max: f64,
    /// The distance between ticks.
    pub step: f64,
}

impl ValueAxis {
    /// An axis for values up to `largest`, with about `ticks` intervals (at least one).
    ///
    /// The step is 1, 2 or 5 times a power of ten, the smallest such that `ticks` steps reach
    /// `largest`; the top is the first multiple of the step at or above `largest`. An axis over
    /// nothing (0, negative or not a number) runs from 0 to 1.
    pub fn up_to(largest: f64, ticks: usize) -> Self {
        if !(largest.is_finite() && largest > 0.0) {
            return ValueAxis {
                max: 1.0,
                step: 0.2,
            };
        }
        let rough = largest / ticks.max(1) as f64;
        let magnitude = 10f64.powf(rough.log10().floor());
        let step = [1.0, 2.0, 5.0, 10.0]
            .into_iter()
            .map(|m| m * magnitude)
            .find(|s| *s >= rough * (1.0 - 1e-9))
            .unwrap_or(10.0 * magnitude);
        let steps = (largest / step - 1e-9).ceil().max(1.0);
        ValueAxis {
            max: steps * step,
            step,
        }
    }

    /// The tick values from 0 to the top.
    pub fn ticks(&self) -> Vec<f64> {
        let n = (self.max / self.step).round() as usize;
        (0..=n).map(|i| i as f64 * self.step).collect()
    }

    /// Where `value` falls on an axis `length` units long (0 at the bottom, clamped).
    pub fn position(&self, value: f64, length: f64) -> f64 {
        if !value.is_finite() || self.max <= 0.0 {
            return 0.0;
        }
        (value / self.max).clamp(0.0, 1.0) * length
    }

    /// The decimals a tick label needs to tell ticks apart (`0.005` steps need three).
    pub fn decimals(&self) -> usize {
        if self.step >= 1.0 {
            0
        } else {
            (-self.step.log10().floor()) as usize
        }
    }
}

/// What the numbers on an axis are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// US dollars: ticks read `$0.005`.
    Usd,
    /// A count (tokens): ticks read `12k`, `1.5M`.
    Count,
}

/// A tick label: `$0.005` for dollars with the axis's decimals, `1.5k` / `2M` for counts.
pub fn tick_label(value: f64, axis: &ValueAxis, unit: Unit) -> String {
    match unit {
        Unit::Usd => format!("${value:.*}", axis.decimals()),
        Unit::Count => short_count(value),
    }
}

/// A count shortened for an axis: `950`, `1.5k`, `12k`, `2M`, `3.5B`.
pub fn short_count(value: f64) -> String {
    let a = value.abs();
    let (scaled, suffix) = if a >= 1e9 {
        (value / 1e9, "B")
    } else if a >= 1e6 {
        (value / 1e6, "M")
    } else if a >= 1e3 {
        (value / 1e3, "k")
    } else {
        (value, "")
    };
    let text = if scaled.fract().abs() < 1e-9 || scaled.abs() >= 100.0 {
        format!("{scaled:.0}")
    } else {
        format!("{scaled:.1}")
    };
    format!("{}{suffix}", text.trim_end_matches(".0"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axes_end_on_round_numbers_with_one_two_five_steps() {
        // 0.0123 over 4 ticks: rough step 0.003075 → 0.005; top 3 × 0.005 = 0.015.
        let a = ValueAxis::up_to(0.0123, 4);
        assert!((a.step - 0.005).abs() < 1e-15, "{a:?}");
        assert!((a.max - 0.015).abs() < 1e-15, "{a:?}");
        assert_eq!(a.ticks().len(), 4);
        assert_eq!(a.decimals(), 3);
        // Exactly on a step: 10 over 5 ticks is 0, 2, …, 10.
        let a = ValueAxis::up_to(10.0, 5);
        assert_eq!((a.max, a.step), (10.0, 2.0));
        assert_eq!(a.ticks(), [0.0, 2.0, 4.0, 6.0, 8.0, 10.0]);
        // 7,300 tokens over 4: rough 1,825 → 2,000; top 8,000.
        assert_eq!(
            ValueAxis::up_to(7_300.0, 4),
            ValueAxis {
                max: 8_000.0,
                step: 2_000.0
            }
        );
        assert_eq!(
            ValueAxis::up_to(0.0, 4),
            ValueAxis {
                max: 1.0,
                step: 0.2
            }
        );
        assert_eq!(ValueAxis::up_to(f64::NAN, 4).max, 1.0);
    }

    #[test]
    fn positions_are_clamped_to_the_axis() {
        let a = ValueAxis {
            max: 4.0,
            step: 1.0,
        };
        assert_eq!(a.position(1.0, 200.0), 50.0);
        assert_eq!(a.position(9.0, 200.0), 200.0);
        assert_eq!(a.position(-1.0, 200.0), 0.0);
        assert_eq!(a.position(f64::INFINITY, 200.0), 0.0);
    }

    #[test]
    fn labels_read_as_people_write_them() {
        let a = ValueAxis {
            max: 0.015,
            step: 0.005,
        };
        assert_eq!(tick_label(0.01, &a, Unit::Usd), "$0.010");
        assert_eq!(tick_label(0.0, &ValueAxis::up_to(8.0, 4), Unit::Usd), "$0");
        assert_eq!(short_count(950.0), "950");
        assert_eq!(short_count(1_500.0), "1.5k");
        assert_eq!(short_count(12_000.0), "12k");
        assert_eq!(short_count(2_000_000.0), "2M");
        assert_eq!(short_count(3_450_000_000.0), "3.5B");
        assert_eq!(short_count(125_000.0), "125k");
    }
}
