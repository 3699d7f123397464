//! When a stored reply may answer a new request.

use serde::{Deserialize, Serialize};

/// The reuse policy a run is made with; recorded in each of its steps' metadata.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReusePolicy {
    /// Every request is sent and paid (its reply is still stored, for replay).
    Never,
    /// An identical request at temperature 0 is answered from the store: the reply would be
    /// the same, so paying again buys nothing.
    #[default]
    IdenticalAtTemperatureZero,
    /// Identical requests including the run's sample index: k samples at a temperature above 0
    /// stay k independent samples, and a re-run reuses the same k.
    IdenticalWithSampleIndex,
}

impl ReusePolicy {
    /// Every policy, for a settings control.
    pub const ALL: [ReusePolicy; 3] = [
        ReusePolicy::Never,
        ReusePolicy::IdenticalAtTemperatureZero,
        ReusePolicy::IdenticalWithSampleIndex,
    ];

    /// The name written in metadata (`never`, `identical_at_temperature_zero`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            ReusePolicy::Never => "never",
            ReusePolicy::IdenticalAtTemperatureZero => "identical_at_temperature_zero",
            ReusePolicy::IdenticalWithSampleIndex => "identical_with_sample_index",
        }
    }

    /// What a control offers it as.
    pub fn label(self) -> &'static str {
        match self {
            ReusePolicy::Never => "never: pay for every request",
            ReusePolicy::IdenticalAtTemperatureZero => {
                "identical requests at temperature 0 (default)"
            }
            ReusePolicy::IdenticalWithSampleIndex => {
                "identical requests, including the sample index"
            }
        }
    }

    /// The policy named `name` ([`Self::as_str`]).
    pub fn named(name: &str) -> Option<ReusePolicy> {
        Self::ALL.into_iter().find(|p| p.as_str() == name)
    }

    /// Whether it is the default (a record made with it need not say so).
    pub fn is_default(&self) -> bool {
        *self == ReusePolicy::default()
    }

    /// The policy a run was made with, as its committed steps record it (`None`: no step
    /// says, e.g. a run made before replies were stored, or one with no step yet).
    pub fn of_steps(steps: &[crate::core::trajectory::TrajectoryEntry]) -> Option<ReusePolicy> {
        steps.iter().find_map(|s| s.metadata.reuse_policy)
    }

    /// Whether a request sampled at `temperature` (`None`: the provider's default, not 0) may
    /// be answered from the store.
    pub fn may_reuse(self, temperature: Option<f64>) -> bool {
        match self {
            ReusePolicy::Never => false,
            ReusePolicy::IdenticalAtTemperatureZero => temperature == Some(0.0),
            ReusePolicy::IdenticalWithSampleIndex => true,
        }
    }

    /// Whether the sample index is part of the request's address.
    pub fn addresses_sample(self) -> bool {
        self == ReusePolicy::IdenticalWithSampleIndex
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_reuses_only_temperature_zero() {
        let p = ReusePolicy::default();
        assert!(p.may_reuse(Some(0.0)));
        assert!(!p.may_reuse(Some(0.7)));
        assert!(!p.may_reuse(None));
        assert!(!ReusePolicy::Never.may_reuse(Some(0.0)));
        assert!(ReusePolicy::IdenticalWithSampleIndex.may_reuse(Some(1.0)));
    }

    #[test]
    fn names_round_trip_through_serde() {
        for p in ReusePolicy::ALL {
            assert_eq!(ReusePolicy::named(p.as_str()), Some(p));
            let json = serde_json::to_value(p).unwrap();
            assert_eq!(json, serde_json::json!(p.as_str()));
            assert_eq!(serde_json::from_value::<ReusePolicy>(json).unwrap(), p);
        }
        assert_eq!(ReusePolicy::named("always"), None);
    }
}
