//! The structured outputs the three agents must return (the original's pydantic models).
//!
//! Validation rules and JSON Schemas for them live in [`crate::core::llm::structured`].

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The solver's answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SolverOutput {
    /// The answer itself; must not be empty.
    pub solution: String,
    /// How the solver got there.
    pub reasoning: String,
    /// Self-reported confidence in `[0, 1]`.
    pub confidence: f64,
}

/// The verifier's critique.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VerifierOutput {
    /// Whether the solution is accepted.
    pub passed: bool,
    /// What is wrong (or right) with it; becomes the solver's next feedback.
    pub critique: String,
    /// Confidence in the verdict, in `[0, 1]`.
    pub confidence: f64,
    /// Per-criterion scores.
    #[serde(default)]
    pub scores: BTreeMap<String, f64>,
}

/// The judge's score of the final answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JudgeOutput {
    /// Score in `[0, 1]`.
    pub score: f64,
    /// Why this score.
    pub reasoning: String,
    /// What the answer does well.
    #[serde(default)]
    pub strengths: Vec<String>,
    /// What the answer does badly.
    #[serde(default)]
    pub weaknesses: Vec<String>,
}
