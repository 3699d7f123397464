//! The three agent roles of a Trialogue pipeline.

use serde::{Deserialize, Serialize};

/// Which agent a call, a step or a cost belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AgentRole {
    /// Answers the problem, and revises from the verifier's critique.
    Solver,
    /// Critiques the solver's answer and decides whether it passes.
    Verifier,
    /// Scores the final answer against the rubric.
    Judge,
}

impl AgentRole {
    /// All roles, in pipeline order.
    pub const ALL: [AgentRole; 3] = [AgentRole::Solver, AgentRole::Verifier, AgentRole::Judge];

    /// The lowercase name used in configs and trajectories.
    pub fn as_str(self) -> &'static str {
        match self {
            AgentRole::Solver => "solver",
            AgentRole::Verifier => "verifier",
            AgentRole::Judge => "judge",
        }
    }

    /// The trajectory `action` the original logged for this agent's step.
    pub fn action(self) -> &'static str {
        match self {
            AgentRole::Solver => "generate",
            AgentRole::Verifier => "validate",
            AgentRole::Judge => "score",
        }
    }
}

impl std::fmt::Display for AgentRole {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_serialize_as_the_original_lowercase_names() {
        let names: Vec<String> = AgentRole::ALL
            .iter()
            .map(|r| serde_json::to_string(r).unwrap())
            .collect();
        assert_eq!(names, ["\"solver\"", "\"verifier\"", "\"judge\""]);
        assert_eq!(AgentRole::Verifier.action(), "validate");
    }
}
