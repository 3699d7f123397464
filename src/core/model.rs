//! Model strings: which provider serves a config's `model`, and under which name.
//!
//! Configs carry LiteLLM-style model strings. `provider/model` names the provider explicitly
//! (everything after the first `/` is the provider's model id, so
//! `openrouter/anthropic/claude-3.5` is OpenRouter's `anthropic/claude-3.5`). A bare name is
//! resolved by its family, as LiteLLM did for the models the original's users wrote
//! (`command-r-plus`, `gpt-4o`, `claude-...`).

/// The providers Trialogue knows without any setup. Custom OpenAI-compatible providers the user
/// adds in the settings are passed to [`resolve_model`] by id.
pub const BUILTIN_PROVIDER_IDS: &[&str] = &[
    "openai",
    "anthropic",
    "cohere",
    "gemini",
    "openrouter",
    "local",
];

/// LiteLLM provider prefixes that mean one of ours.
const ALIASES: &[(&str, &str)] = &[("cohere_chat", "cohere")];

/// Bare-name families and the provider that serves them.
const FAMILIES: &[(&str, &str)] = &[
    ("gpt-", "openai"),
    ("chatgpt-", "openai"),
    ("o1", "openai"),
    ("o3", "openai"),
    ("o4", "openai"),
    ("claude-", "anthropic"),
    ("command", "cohere"),
    ("gemini-", "gemini"),
];

/// A resolved model string: the provider id and the model id to send to it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ModelRef {
    /// A provider id: one of [`BUILTIN_PROVIDER_IDS`] or a custom provider's id.
    pub provider: String,
    /// The model id as the provider's API expects it (no provider prefix).
    pub model: String,
}

impl std::fmt::Display for ModelRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.provider, self.model)
    }
}

/// Why a model string names no usable provider.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ModelError {
    /// The model string is empty or blank.
    #[error("no model given; write it as `provider/model`, e.g. `openai/gpt-4.1-mini` or `local/smollm2-135m`")]
    Empty,
    /// `prefix/...` where the prefix is not a known provider.
    #[error("unknown provider `{provider}` in `{model}`; write `provider/model` with one of: {known} (for a model id that itself contains `/`, put the provider first, e.g. `local/{model}`)")]
    UnknownProvider {
        /// The prefix before the first `/`.
        provider: String,
        /// The whole model string.
        model: String,
        /// The provider ids that would be accepted, comma-separated.
        known: String,
    },
    /// A model string that names a provider but no model (`openai/`), or a bare name of no
    /// known family.
    #[error("cannot tell which provider serves `{model}`; write it as `provider/model` with one of: {known} (e.g. `local/{model}` for a local server)")]
    Unresolvable {
        /// The whole model string.
        model: String,
        /// The provider ids that would be accepted, comma-separated.
        known: String,
    },
}

/// Resolves a config's model string to a provider and model id.
///
/// `custom_provider_ids` are the ids of the user's own OpenAI-compatible providers; they are
/// accepted as prefixes just like the built-in ones. Matching is exact (case-sensitive), since
/// the ids and the provider's model ids are.
pub fn resolve_model(model: &str, custom_provider_ids: &[&str]) -> Result<ModelRef, ModelError> {
    if model.trim().is_empty() {
        return Err(ModelError::Empty);
    }
    let known = || {
        BUILTIN_PROVIDER_IDS
            .iter()
            .chain(custom_provider_ids.iter())
            .copied()
            .collect::<Vec<_>>()
            .join(", ")
    };
    if let Some((prefix, rest)) = model.split_once('/') {
        let provider =
            if BUILTIN_PROVIDER_IDS.contains(&prefix) || custom_provider_ids.contains(&prefix) {
                prefix
            } else if let Some((_, ours)) = ALIASES.iter().find(|(alias, _)| *alias == prefix) {
                ours
            } else {
                return Err(ModelError::UnknownProvider {
                    provider: prefix.to_string(),
                    model: model.to_string(),
                    known: known(),
                });
            };
        if rest.trim().is_empty() {
            return Err(ModelError::Unresolvable {
                model: model.to_string(),
                known: known(),
            });
        }
        return Ok(ModelRef {
            provider: provider.to_string(),
            model: rest.to_string(),
        });
    }
    match FAMILIES
        .iter()
        .find(|(prefix, _)| model.starts_with(prefix))
    {
        Some((_, provider)) => Ok(ModelRef {
            provider: provider.to_string(),
            model: model.to_string(),
        }),
        None => Err(ModelError::Unresolvable {
            model: model.to_string(),
            known: known(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(provider: &str, model: &str) -> Result<ModelRef, ModelError> {
        Ok(ModelRef {
            provider: provider.into(),
            model: model.into(),
        })
    }

    #[test]
    fn explicit_prefixes_split_at_the_first_slash() {
        assert_eq!(
            resolve_model("openrouter/anthropic/claude-3.5", &[]),
            ok("openrouter", "anthropic/claude-3.5")
        );
        assert_eq!(
            resolve_model("local/smollm2-135m", &[]),
            ok("local", "smollm2-135m")
        );
        assert_eq!(
            resolve_model("cohere_chat/command-r", &[]),
            ok("cohere", "command-r")
        );
        assert_eq!(resolve_model("vllm/qwen", &["vllm"]), ok("vllm", "qwen"));
    }

    #[test]
    fn bare_names_resolve_by_family() {
        assert_eq!(resolve_model("o3-mini", &[]), ok("openai", "o3-mini"));
        assert_eq!(
            resolve_model("command-r-plus", &[]),
            ok("cohere", "command-r-plus")
        );
        assert!(matches!(
            resolve_model("llama3", &[]),
            Err(ModelError::Unresolvable { .. })
        ));
    }

    #[test]
    fn errors_tell_the_user_to_write_provider_slash_model() {
        let err = resolve_model("meta-llama/Llama-3-8b", &["vllm"]).unwrap_err();
        assert_eq!(
            err,
            ModelError::UnknownProvider {
                provider: "meta-llama".into(),
                model: "meta-llama/Llama-3-8b".into(),
                known: "openai, anthropic, cohere, gemini, openrouter, local, vllm".into(),
            }
        );
        assert!(err.to_string().contains("`provider/model`"));
        assert!(err.to_string().contains("`local/meta-llama/Llama-3-8b`"));
        assert!(resolve_model("  ", &[])
            .unwrap_err()
            .to_string()
            .contains("provider/model"));
        assert!(matches!(
            resolve_model("openai/", &[]),
            Err(ModelError::Unresolvable { .. })
        ));
    }
}
