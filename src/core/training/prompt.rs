//! The exact prompt a stored step sent, and where it comes from.
//!
//! [`step_prompt`] is the one place that answers "what did this step send?". Today it renders
//! the prompt again from the run's stored config and the step's stored `input`, through the
//! loop's own [`agent_call`] and the client's own [`structured::chat_request`] (so the schema
//! instructions of a prompt-only provider are there, as they were sent). A stored copy of each
//! request, once runs keep one, becomes its first choice here and nothing else changes.
//!
//! Re-ask turns are never part of it: a training prompt is the first request of the step.

use serde::{Deserialize, Serialize};

use crate::core::llm::chat::{ChatRole, StructuredMode};
use crate::core::llm::structured;
use crate::core::pipeline::{agent_call, StepVars};
use crate::core::providers::ProviderRegistry;
use crate::core::template::TemplateError;
use crate::core::trajectory::{RunRecord, TrajectoryEntry};

/// Who says a message of a training row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MessageRole {
    /// The system prompt.
    System,
    /// The rendered prompt.
    User,
    /// The model's answer.
    Assistant,
}

impl MessageRole {
    /// The role's name in every format (`system`, `user`, `assistant`).
    pub fn as_str(self) -> &'static str {
        match self {
            MessageRole::System => "system",
            MessageRole::User => "user",
            MessageRole::Assistant => "assistant",
        }
    }
}

/// One chat message of a training row.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Message {
    /// Who says it.
    pub role: MessageRole,
    /// What is said.
    pub content: String,
}

impl Message {
    /// An assistant message.
    pub fn assistant(content: impl Into<String>) -> Self {
        Message {
            role: MessageRole::Assistant,
            content: content.into(),
        }
    }
}

/// A step's prompt: the messages of its first request, oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Prompt {
    /// The system prompt (when the agent has one: an empty one is not sent), then the user
    /// prompt.
    pub messages: Vec<Message>,
}

impl Prompt {
    /// The messages' contents, in order (what duplicates and pairs compare).
    pub fn contents(&self) -> impl Iterator<Item = &str> {
        self.messages.iter().map(|m| m.content.as_str())
    }
}

/// Where a prompt came from, for the card.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PromptOrigin {
    /// Rendered again from the run's stored config and the step's stored input, with the
    /// structured-output mode of the step's provider as it is set now.
    Rerendered,
}

/// A step's prompt and its origin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepPrompt {
    /// The messages.
    pub prompt: Prompt,
    /// Where they came from.
    pub origin: PromptOrigin,
}

/// Why a stored step's exact prompt cannot be had.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PromptUnavailable {
    /// The run has no stored config: it was imported from a trajectory file.
    #[error("run {run_id} was imported from a trajectory file, which holds no config, so the exact prompts it sent are unknown")]
    NoConfig {
        /// The run.
        run_id: String,
    },
    /// The step's agent is not one of the three.
    #[error("step {step_id} of run {run_id} is by an unknown agent {agent:?}")]
    UnknownAgent {
        /// The run.
        run_id: String,
        /// The step.
        step_id: u64,
        /// What the step says its agent is.
        agent: String,
    },
    /// The step's stored input lacks a field its prompt is rendered from.
    #[error("step {step_id} of run {run_id} has no {field:?} in its input, so its prompt cannot be rendered again")]
    MissingInput {
        /// The run.
        run_id: String,
        /// The step.
        step_id: u64,
        /// The missing field.
        field: &'static str,
    },
    /// The step's provider is not set up now, so how it asked for structured output is unknown.
    #[error("step {step_id} of run {run_id} was served by provider {provider:?}, which is not set up in Settings now, so whether the schema was sent inside the prompt is unknown")]
    UnknownProvider {
        /// The run.
        run_id: String,
        /// The step.
        step_id: u64,
        /// The provider id the step recorded (empty when none was).
        provider: String,
    },
    /// The stored config's template no longer renders (cannot happen for a config a run used).
    #[error("the prompt of step {step_id} of run {run_id} cannot be rendered: {source}")]
    Template {
        /// The run.
        run_id: String,
        /// The step.
        step_id: u64,
        /// The template's complaint.
        source: TemplateError,
    },
}

/// How each provider asked for structured output, by provider id.
pub trait StructuredModes {
    /// The mode provider `id` uses, or `None` when it is not known.
    fn mode_of(&self, id: &str) -> Option<StructuredMode>;
}

impl<F: Fn(&str) -> Option<StructuredMode>> StructuredModes for F {
    fn mode_of(&self, id: &str) -> Option<StructuredMode> {
        self(id)
    }
}

impl StructuredModes for ProviderRegistry {
    fn mode_of(&self, id: &str) -> Option<StructuredMode> {
        self.get(id).map(|p| p.effective_structured_mode())
    }
}

/// The prompt `step` of `run` sent (see the module documentation).
pub fn step_prompt(
    run: &RunRecord,
    step: &TrajectoryEntry,
    modes: &dyn StructuredModes,
) -> Result<StepPrompt, PromptUnavailable> {
    let config = run
        .config
        .as_ref()
        .ok_or_else(|| PromptUnavailable::NoConfig {
            run_id: run.run_id.clone(),
        })?;
    let role = step.role().ok_or_else(|| PromptUnavailable::UnknownAgent {
        run_id: run.run_id.clone(),
        step_id: step.step_id,
        agent: step.agent.clone(),
    })?;
    let vars = StepVars::from_input(role, &step.input).map_err(|field| {
        PromptUnavailable::MissingInput {
            run_id: run.run_id.clone(),
            step_id: step.step_id,
            field,
        }
    })?;
    let provider = step.metadata.provider().unwrap_or_default();
    let mode = modes
        .mode_of(provider)
        .ok_or_else(|| PromptUnavailable::UnknownProvider {
            run_id: run.run_id.clone(),
            step_id: step.step_id,
            provider: provider.to_string(),
        })?;
    let call = agent_call(config, role, &vars).map_err(|source| PromptUnavailable::Template {
        run_id: run.run_id.clone(),
        step_id: step.step_id,
        source,
    })?;
    let request = structured::chat_request(&call, mode, &call.model);
    let mut messages = Vec::with_capacity(1 + request.messages.len());
    // Adapters send no system message for an empty system prompt.
    if !request.system.is_empty() {
        messages.push(Message {
            role: MessageRole::System,
            content: request.system,
        });
    }
    messages.extend(request.messages.into_iter().map(|m| Message {
        role: match m.role {
            ChatRole::User => MessageRole::User,
            ChatRole::Assistant => MessageRole::Assistant,
        },
        content: m.content,
    }));
    Ok(StepPrompt {
        prompt: Prompt { messages },
        origin: PromptOrigin::Rerendered,
    })
}
