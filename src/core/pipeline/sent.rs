//! What a step's call sent: the agent's system prompt and its user prompt rendered from the
//! config's template. One renderer for both sides: the loop makes each call with
//! [`messages`], and the transcript shows what a stored step sent with [`messages_of_step`],
//! which renders the same prompts from the step's stored `input` and the run's config (so a
//! store of the requests themselves can take its place later without the views changing).

use serde_json::Value;

use crate::core::config::PipelineConfig;
use crate::core::role::AgentRole;
use crate::core::template::{self, TemplateError};
use crate::core::trajectory::TrajectoryEntry;

/// The messages of one agent call, as the loop built them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentMessages {
    /// The agent's system prompt (empty when it has none).
    pub system: String,
    /// The user prompt: the agent's template rendered with the step's input.
    pub user: String,
}

/// What an agent is given: the problem, and the solver's feedback or the solution to check or
/// score.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StepInput<'a> {
    /// `{problem}`.
    pub problem: &'a str,
    /// `{feedback}` for the solver, `{solution}` for the verifier and the judge.
    pub context: &'a str,
}

/// The messages `config`'s `role` is sent for `input`.
pub fn messages(
    config: &PipelineConfig,
    role: AgentRole,
    input: StepInput<'_>,
) -> Result<SentMessages, TemplateError> {
    let StepInput { problem, context } = input;
    let (system, user) = match role {
        AgentRole::Solver => (
            &config.solver.system_prompt,
            template::render(
                &config.solver.prompt_template,
                &[("problem", problem), ("feedback", context)],
            )?,
        ),
        AgentRole::Verifier => (
            &config.verifier.system_prompt,
            template::render(
                &config.verifier.prompt_template,
                &[("problem", problem), ("solution", context)],
            )?,
        ),
        AgentRole::Judge => (
            &config.judge.system_prompt,
            template::render(
                &config.judge.prompt_template,
                &[
                    ("problem", problem),
                    ("solution", context),
                    ("rubric", config.judge.scoring_rubric.as_str()),
                ],
            )?,
        ),
    };
    Ok(SentMessages {
        system: system.clone(),
        user,
    })
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
    let context_key = match role {
        AgentRole::Solver => "feedback",
        AgentRole::Verifier | AgentRole::Judge => "solution",
    };
    let text = |key: &'static str| {
        entry
            .input
            .get(key)
            .and_then(Value::as_str)
            .ok_or(SentError::MissingInput {
                step_id: entry.step_id,
                key,
            })
    };
    let input = StepInput {
        problem: text("problem")?,
        context: text(context_key)?,
    };
    messages(config, role, input).map_err(|error| SentError::Template { role, error })
}
