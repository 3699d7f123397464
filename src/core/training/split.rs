//! Train / validation / test splits by problem, so no problem is in two splits.
//!
//! A row's split depends only on the seed and its problem's normalised text
//! ([`normalise_problem`]), never on which runs were selected or in which order they come: the
//! same problem lands in the same split in every export with the same seed, across runs,
//! batches and configs, and a model is never tested on a problem it was trained on.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// One of the three splits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Split {
    /// Rows to train on.
    Train,
    /// Rows to tune on.
    Validation,
    /// Rows held out.
    Test,
}

impl Split {
    /// The three, in file order.
    pub const ALL: [Split; 3] = [Split::Train, Split::Validation, Split::Test];

    /// `train`, `validation` or `test`: the split's name in the card and its file's stem.
    pub fn as_str(self) -> &'static str {
        match self {
            Split::Train => "train",
            Split::Validation => "validation",
            Split::Test => "test",
        }
    }

    /// Its position in [`Split::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }
}

/// How problems are shared out: the seed and the shares of validation and test (train gets the
/// rest). Each field documents its default.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SplitPlan {
    /// Seed of the assignment (default 0). Another seed gives another, equally leak-free split.
    pub seed: u64,
    /// Share of problems in validation, in [0, 1] (default 0.1).
    pub validation: f64,
    /// Share of problems in test, in [0, 1] (default 0.1).
    pub test: f64,
}

impl Default for SplitPlan {
    fn default() -> Self {
        SplitPlan {
            seed: 0,
            validation: 0.1,
            test: 0.1,
        }
    }
}

/// Why a split plan cannot be used.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SplitPlanError {
    /// A share is not a number in [0, 1], or the two add up to more than 1.
    #[error("the validation and test shares must be between 0 and 1 and add up to at most 1 (got {validation} and {test})")]
    Shares {
        /// The validation share given.
        validation: f64,
        /// The test share given.
        test: f64,
    },
}

impl SplitPlan {
    /// Checks the shares.
    pub fn validate(&self) -> Result<(), SplitPlanError> {
        let ok = |x: f64| x.is_finite() && (0.0..=1.0).contains(&x);
        if ok(self.validation) && ok(self.test) && self.validation + self.test <= 1.0 {
            Ok(())
        } else {
            Err(SplitPlanError::Shares {
                validation: self.validation,
                test: self.test,
            })
        }
    }

    /// The split of a problem: SHA-256 of the seed and the normalised text, read as a number in
    /// [0, 1), falls into test, validation or train by the shares.
    pub fn split_of(&self, problem: &str) -> Split {
        let mut hasher = Sha256::new();
        hasher.update(self.seed.to_le_bytes());
        hasher.update(normalise_problem(problem).as_bytes());
        let digest = hasher.finalize();
        let mut first = [0u8; 8];
        first.copy_from_slice(&digest[..8]);
        // 53 bits: exactly representable, uniform in [0, 1).
        let unit = (u64::from_be_bytes(first) >> 11) as f64 / (1u64 << 53) as f64;
        if unit < self.test {
            Split::Test
        } else if unit < self.test + self.validation {
            Split::Validation
        } else {
            Split::Train
        }
    }
}

/// A problem's text as splits compare it: trimmed, every run of whitespace made one space, and
/// lower-cased, so copies that differ only in spacing, line breaks or case are one problem.
pub fn normalise_problem(text: &str) -> String {
    text.split_whitespace()
        .map(str::to_lowercase)
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copies_differing_in_space_and_case_are_one_problem() {
        assert_eq!(
            normalise_problem("  What is\n2+2?\t"),
            normalise_problem("what IS 2+2?")
        );
        assert_ne!(normalise_problem("2+2"), normalise_problem("2 + 2"));
    }

    #[test]
    fn bad_shares_are_refused() {
        let plan = SplitPlan {
            validation: 0.6,
            test: 0.5,
            ..SplitPlan::default()
        };
        assert!(plan.validate().is_err());
        assert!(SplitPlan {
            test: f64::NAN,
            ..SplitPlan::default()
        }
        .validate()
        .is_err());
        assert!(SplitPlan::default().validate().is_ok());
    }
}
