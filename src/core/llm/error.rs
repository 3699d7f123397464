//! Errors of an LLM call, each with a sentence a user can act on.

/// Why an LLM call failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LlmError {
    /// The run was cancelled while the call was in flight.
    #[error("cancelled")]
    Cancelled,
    /// Placeholder until the client lands; the LLM-client work replaces it with typed variants.
    #[error("{0}")]
    Other(String),
}
