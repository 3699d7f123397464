//! Axis arithmetic for the charts: a value axis from 0 to a round maximum with 1-2-5 ticks,
//! and how tick labels are written.
//!
//! Every function here is total over `f64`: a stored value can be anything a file held
//! (`1.7e308`, `5e-324`, a negative cost), and a chart that panics takes its page down on every
//! visit. Values outside what an axis can show are drawn at its edge.

/// The smallest top an axis gets: below it, steps and tick labels would need more decimals
/// than a label can show.
const SMALLEST_TOP: f64 = 1e-12;
/// The largest top an axis gets: above it, a step's multiples would overflow to infinity.
const LARGEST_TOP: f64 = 1e300;
/// The most intervals an axis has, whatever is asked.
const MAX_TICKS: usize = 100;
/// The most decimals a tick label has (steps are at least [`SMALLEST_TOP`] / [`MAX_TICKS`]).
const MAX_DECIMALS: usize = 15;
/// From here up, labels are written with an exponent (`$2e15`) rather than in full.
const EXPONENT_FROM: f64 = 1e15;

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
    /// An axis for values up to `largest`, with about `ticks` intervals (1 to 100).
    ///
    /// The step is 1, 2 or 5 times a power of ten, the smallest such that `ticks` steps reach
    /// `largest`; the top is the first multiple of the step at or above `largest`. An axis over
    /// nothing (0, negative or not a number) runs from 0 to 1; `largest` is taken as at least
    /// 10^-12 and at most 10^300 (an infinite one as 10^300).
    pub fn up_to(largest: f64, ticks: usize) -> Self {
        if largest.is_nan() || largest <= 0.0 {
            return ValueAxis {
                max: 1.0,
                step: 0.2,
            };
        }
        let largest = largest.clamp(SMALLEST_TOP, LARGEST_TOP);
        let rough = largest / ticks.clamp(1, MAX_TICKS) as f64;
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

    /// Whether the axis is one [`up_to`](Self::up_to) could make: a finite top above 0 and a
    /// step between the top's 1/100 and the top. Its fields are public, so the other
    /// methods check.
    fn is_sound(&self) -> bool {
        self.max.is_finite()
            && self.max > 0.0
            && self.step.is_finite()
            && self.step > 0.0
            && self.max / self.step <= (MAX_TICKS + 1) as f64
    }

    /// The tick values from 0 to the top (just 0 for an axis `up_to` could not have made).
    pub fn ticks(&self) -> Vec<f64> {
        if !self.is_sound() {
            return vec![0.0];
        }
        let n = (self.max / self.step).round() as usize;
        (0..=n).map(|i| i as f64 * self.step).collect()
    }

    /// Where `value` falls on an axis `length` units long (0 at the bottom, clamped; a value
    /// that is not finite at the bottom).
    pub fn position(&self, value: f64, length: f64) -> f64 {
        if !(value.is_finite() && self.max.is_finite() && self.max > 0.0) {
            return 0.0;
        }
        (value / self.max).clamp(0.0, 1.0) * length
    }

    /// The decimals a tick label needs to tell ticks apart (`0.005` steps need three), at most
    /// 15.
    pub fn decimals(&self) -> usize {
        if !(self.step.is_finite() && self.step > 0.0) || self.step >= 1.0 {
            0
        } else {
            ((-self.step.log10().floor()) as usize).min(MAX_DECIMALS)
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

/// A tick label: `$0.005` for dollars with the axis's decimals, `1.5k` / `2M` for counts;
/// `$2e15` from 10^15 up, `–` for what is not a number.
pub fn tick_label(value: f64, axis: &ValueAxis, unit: Unit) -> String {
    if !value.is_finite() {
        return "–".to_string();
    }
    match unit {
        Unit::Usd if value.abs() >= EXPONENT_FROM => format!("${value:e}"),
        Unit::Usd => format!("${value:.*}", axis.decimals()),
        Unit::Count => short_count(value),
    }
}

/// A count shortened for an axis: `950`, `1.5k`, `12k`, `2M`, `3.5B`, `4T`; `2e15` from 10^15
/// up, `–` for what is not a number.
pub fn short_count(value: f64) -> String {
    if !value.is_finite() {
        return "–".to_string();
    }
    let a = value.abs();
    if a >= EXPONENT_FROM {
        return format!("{value:.1e}").replace(".0e", "e");
    }
    let (scaled, suffix) = if a >= 1e12 {
        (value / 1e12, "T")
    } else if a >= 1e9 {
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
pub(crate) mod tests {
    use super::*;
    use crate::core::dataset::SplitMix64;

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

    /// Values a stored run can hold, then `n` random bit patterns (every f64, NaNs and
    /// subnormals included), from a fixed seed.
    pub(crate) fn any_f64s(n: usize) -> Vec<f64> {
        let mut values = vec![
            0.0,
            -0.0,
            1.7e308,
            f64::MAX,
            f64::MIN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NAN,
            5e-324,
            -5e-324,
            f64::MIN_POSITIVE,
            f64::EPSILON,
            1e-12,
            1e-13,
            1e300,
            1e301,
            -0.01,
            0.0123,
            7_300.0,
        ];
        let mut rng = SplitMix64::new(0x5ca1e);
        values.extend((0..n).map(|_| f64::from_bits(rng.next_u64())));
        values
    }

    #[test]
    fn every_axis_is_total_over_f64() {
        // Before: 1.7e308 gave a top of infinity and asked for usize::MAX ticks; 5e-324 a step
        // of 0 and a label with usize::MAX decimals. Both panicked the page.
        for largest in any_f64s(3_000) {
            for ticks in [0, 1, 4, 7, 1_000, usize::MAX] {
                let axis = ValueAxis::up_to(largest, ticks);
                assert!(
                    axis.max.is_finite() && axis.max > 0.0,
                    "{largest:e}: {axis:?}"
                );
                assert!(
                    axis.step.is_finite() && axis.step > 0.0,
                    "{largest:e}: {axis:?}"
                );
                if largest.is_finite() && (1e-12..=1e300).contains(&largest) {
                    assert!(axis.max >= largest * (1.0 - 1e-9), "{largest:e}: {axis:?}");
                }
                let marks = axis.ticks();
                assert!(
                    (2..=MAX_TICKS + 2).contains(&marks.len()),
                    "{largest:e}: {axis:?}"
                );
                assert!(marks.iter().all(|t| t.is_finite()));
                assert!(axis.decimals() <= MAX_DECIMALS);
                for unit in [Unit::Usd, Unit::Count] {
                    let labels: Vec<String> =
                        marks.iter().map(|t| tick_label(*t, &axis, unit)).collect();
                    assert!(
                        labels.iter().all(|l| l.len() <= 24),
                        "{largest:e}: {labels:?}"
                    );
                }
                for value in [largest, -largest, f64::NAN, axis.max * 2.0] {
                    let at = axis.position(value, 200.0);
                    assert!((0.0..=200.0).contains(&at), "{value:e} on {axis:?}: {at}");
                }
            }
        }
    }

    #[test]
    fn axes_built_by_hand_and_labels_are_total_too() {
        let values = any_f64s(500);
        for (i, max) in values.iter().enumerate() {
            let step = values[(i * 7 + 3) % values.len()];
            let axis = ValueAxis { max: *max, step };
            let marks = axis.ticks();
            assert!(
                !marks.is_empty() && marks.len() <= MAX_TICKS + 2,
                "{axis:?}"
            );
            assert!(axis.decimals() <= MAX_DECIMALS, "{axis:?}");
            assert!((0.0..=1.0).contains(&axis.position(step, 1.0)), "{axis:?}");
            for unit in [Unit::Usd, Unit::Count] {
                let label = tick_label(*max, &axis, unit);
                // A hand-built axis may pair a large top with a tiny step: long, but bounded.
                assert!(label.len() <= 40 && !label.contains("inf") && !label.contains("NaN"));
            }
            let short = short_count(*max);
            assert!(
                short.len() <= 12 && !short.contains("inf"),
                "{max:e}: {short}"
            );
        }
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
