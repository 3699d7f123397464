//! What a stored step's call sent: the agent's system prompt and its user prompt, rendered
//! again from the step's stored `input` and the run's config by the loop's own renderer
//! ([`agent_call`]), so a store of the requests themselves can take its place later without
//! the views changing.

use crate::core::config::PipelineConfig;
use crate::core::role::AgentRole;
use crate::core::template::TemplateError;

use super::prompt::{agent_call, StepVars};
use crate::core::trajectory::TrajectoryEntry;

/// The messages of one agent call, as the loop built them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentMessages {
    /// The agent's system prompt (empty when it has none).
    pub system: String,
    /// The user prompt: the agent's template rendered with the step's input.
    pub user: String,
}

/// Why a stored step's messages cannot be shown.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SentError {
    /// The step's agent is none of the three.
    #[error("step {step_id} is by `{agent}`, which is not an agent of the loop")]
    UnknownAgent {
        /// The step.
        step_id: u64,
        /// Its agent.
        agent: String,
    },
    /// The step's input lacks a value the prompt needs.
    #[error("step {step_id}'s input has no `{key}`, so its prompt cannot be rebuilt")]
    MissingInput {
        /// The step.
        step_id: u64,
        /// The missing key.
        key: &'static str,
    },
    /// The config's template does not render.
    #[error("the {role} prompt of this run's config cannot be rendered: {error}")]
    Template {
        /// The agent.
        role: AgentRole,
        /// Why.
        error: TemplateError,
    },
}

/// The messages stored step `entry` sent, rebuilt from its `input` with `config`, the run's own.
pub fn messages_of_step(
    config: &PipelineConfig,
    entry: &TrajectoryEntry,
) -> Result<SentMessages, SentError> {
    let Some(role) = entry.role() else {
        return Err(SentError::UnknownAgent {
            step_id: entry.step_id,
            agent: entry.agent.clone(),
        });
    };
    let vars = StepVars::from_input(role, &entry.input).map_err(|key| SentError::MissingInput {
        step_id: entry.step_id,
        key,
    })?;
    let call =
        agent_call(config, role, &vars).map_err(|error| SentError::Template { role, error })?;
    Ok(SentMessages {
        system: call.system_prompt,
        user: call.user_prompt,
    })
}
