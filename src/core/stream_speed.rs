//! How fast streamed calls were, per model: time to first token and output tokens per second,
//! as the median and 90th percentile over the steps that recorded them (`metadata.ttft_ms`,
//! `metadata.output_tokens_per_s`). The Costs and Batch pages show them beside what was spent.
//!
//! Only streamed steps carry the figures; a whole reply has no first token to time, so it is
//! left out rather than counted as zero.

use std::collections::BTreeMap;

use crate::core::trajectory::TrajectoryEntry;

/// The speed figures one step recorded.
#[derive(Debug, Clone, PartialEq)]
pub struct StepSpeed {
    /// The configured model string.
    pub model: String,
    /// Milliseconds to the first token (thinking included), when recorded.
    pub ttft_ms: Option<f64>,
    /// Generated tokens per second after the first, when recorded.
    pub output_tokens_per_s: Option<f64>,
}

impl StepSpeed {
    /// The figures of `entry`, if it recorded any (a streamed step with a model).
    pub fn of(entry: &TrajectoryEntry) -> Option<Self> {
        let m = &entry.metadata;
        let speed = StepSpeed {
            model: m.model.clone()?,
            ttft_ms: m.ttft_ms.filter(|v| v.is_finite() && *v >= 0.0),
            output_tokens_per_s: m.output_tokens_per_s.filter(|v| v.is_finite() && *v > 0.0),
        };
        (speed.ttft_ms.is_some() || speed.output_tokens_per_s.is_some()).then_some(speed)
    }
}

/// A median and a 90th percentile.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Spread {
    /// The median (the mean of the two middle values for an even count).
    pub p50: f64,
    /// The 90th percentile by the nearest-rank method: the value at rank ⌈0.9 n⌉, so it is
    /// always a figure that was actually seen.
    pub p90: f64,
}

impl Spread {
    /// The spread of `values`, or `None` when there are none.
    pub fn of(mut values: Vec<f64>) -> Option<Self> {
        values.sort_by(f64::total_cmp);
        Self::of_sorted(&values)
    }

    /// The spread of `values` already in order (by [`f64::total_cmp`]), or `None` when there
    /// are none.
    pub fn of_sorted(values: &[f64]) -> Option<Self> {
        if values.is_empty() {
            return None;
        }
        let n = values.len();
        let p50 = if n % 2 == 1 {
            values[n / 2]
        } else {
            (values[n / 2 - 1] + values[n / 2]) / 2.0
        };
        let rank = (n * 9).div_ceil(10).max(1);
        Some(Spread {
            p50,
            p90: values[rank - 1],
        })
    }
}

/// One model's streamed-call speed.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelSpeed {
    /// The configured model string.
    pub model: String,
    /// Streamed steps that recorded a figure.
    pub steps: usize,
    /// Time to first token, milliseconds.
    pub ttft_ms: Option<Spread>,
    /// Output tokens per second.
    pub output_tokens_per_s: Option<Spread>,
}

/// The speed of each model over `steps`, by model name.
pub fn speed_by_model<'a>(steps: impl IntoIterator<Item = &'a StepSpeed>) -> Vec<ModelSpeed> {
    let mut by_model: BTreeMap<&str, (usize, Vec<f64>, Vec<f64>)> = BTreeMap::new();
    for step in steps {
        let (count, ttft, rate) = by_model.entry(step.model.as_str()).or_default();
        *count += 1;
        ttft.extend(step.ttft_ms);
        rate.extend(step.output_tokens_per_s);
    }
    by_model
        .into_iter()
        .map(|(model, (steps, ttft, rate))| ModelSpeed {
            model: model.to_string(),
            steps,
            ttft_ms: Spread::of(ttft),
            output_tokens_per_s: Spread::of(rate),
        })
        .collect()
}
