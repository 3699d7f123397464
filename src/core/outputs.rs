//! The structured outputs the three agents must return (the original's pydantic models).
//!
//! Validation rules and JSON Schemas for them live in [`crate::core::llm::structured`].

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::core::role::AgentRole;

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

/// A validated output of one agent call, typed by the agent's role.
#[derive(Debug, Clone, PartialEq)]
pub enum AgentOutput {
    /// The solver's answer.
    Solver(SolverOutput),
    /// The verifier's verdict (scores as the original's map).
    Verifier(VerifierOutput),
    /// The judge's score.
    Judge(JudgeOutput),
}

impl AgentOutput {
    /// The role whose output this is.
    pub fn role(&self) -> AgentRole {
        match self {
            AgentOutput::Solver(_) => AgentRole::Solver,
            AgentOutput::Verifier(_) => AgentRole::Verifier,
            AgentOutput::Judge(_) => AgentRole::Judge,
        }
    }

    /// The output as a trajectory step's `output` object: the original's field names and
    /// shapes.
    pub fn to_object(&self) -> Map<String, Value> {
        let value = match self {
            AgentOutput::Solver(o) => serde_json::to_value(o),
            AgentOutput::Verifier(o) => serde_json::to_value(o),
            AgentOutput::Judge(o) => serde_json::to_value(o),
        };
        // Plain structs of strings, numbers and string-keyed maps always serialize to objects.
        match value {
            Ok(Value::Object(map)) => map,
            _ => Map::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn outputs_become_the_originals_objects() {
        let verifier = AgentOutput::Verifier(VerifierOutput {
            passed: true,
            critique: "ok".into(),
            confidence: 0.5,
            scores: BTreeMap::from([("rigor".to_string(), 1.0)]),
        });
        assert_eq!(verifier.role(), AgentRole::Verifier);
        assert_eq!(
            Value::Object(verifier.to_object()),
            json!({"passed": true, "critique": "ok", "confidence": 0.5, "scores": {"rigor": 1.0}})
        );
        let judge = AgentOutput::Judge(JudgeOutput {
            score: 0.25,
            reasoning: "r".into(),
            strengths: vec!["s".into()],
            weaknesses: vec![],
        });
        assert_eq!(judge.role(), AgentRole::Judge);
        assert_eq!(
            Value::Object(judge.to_object()),
            json!({"score": 0.25, "reasoning": "r", "strengths": ["s"], "weaknesses": []})
        );
    }
}
