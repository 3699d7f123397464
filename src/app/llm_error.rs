//! LLM errors as the page shows them: core's factual sentence, then what the user can do about
//! it (which setting to check, whether waiting helps), decided from the error's kind.

use crate::core::llm::{ErrorKind, LlmError};

/// Where an error is shown, which decides how its advice points at the provider's settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShownOn {
    /// Any page but Settings: the advice sends the user to Settings.
    Elsewhere,
    /// The Settings page, under the provider's own fields (its connection test).
    Settings,
}

/// What a user can do about an error of `kind`, as a clause that follows the message; `None`
/// when there is nothing to do but read the message (a cancelled call, a refusal).
pub fn advice(kind: ErrorKind, retry_after_ms: Option<u64>) -> Option<String> {
    advice_on(kind, retry_after_ms, ShownOn::Elsewhere)
}

/// [`advice`] for an error shown on `page`: on Settings it points at the fields above instead
/// of sending the user to the page they are on.
pub fn advice_on(kind: ErrorKind, retry_after_ms: Option<u64>, page: ShownOn) -> Option<String> {
    let settings = match page {
        ShownOn::Elsewhere => "in Settings",
        ShownOn::Settings => "above",
    };
    let text = match kind {
        ErrorKind::Cancelled
        | ErrorKind::BadRequest
        | ErrorKind::Http
        | ErrorKind::Refusal
        | ErrorKind::InvalidOutput => return None,
        ErrorKind::MissingKey => return Some(format!("add the provider's API key {settings}")),
        ErrorKind::Network => {
            return Some(format!(
                "check the base URL {settings}, your connection, and that the server allows \
                 requests from this page (CORS)"
            ))
        }
        ErrorKind::Timeout => "try again; a slow server may need a longer timeout",
        ErrorKind::Auth => return Some(format!("check the key {settings}")),
        ErrorKind::PermissionDenied => {
            "the key may not use this model or feature: check its access with the provider"
        }
        ErrorKind::ModelNotFound => "check the model name in the agent settings",
        ErrorKind::NotFound => return Some(format!("check the base URL {settings}")),
        ErrorKind::RateLimited => {
            return Some(match retry_after_ms {
                Some(ms) => format!("wait {:.1} s and try again", ms as f64 / 1000.0),
                None => "wait a little and try again".to_string(),
            })
        }
        ErrorKind::QuotaExceeded => "check your plan and billing with the provider",
        ErrorKind::Overloaded => "try again in a moment",
        ErrorKind::ContextLength => "shorten the prompt or lower max_tokens for this agent",
        ErrorKind::Server => "try again later",
        ErrorKind::InvalidResponse => {
            return Some(format!(
                "check that the base URL {settings} points to the right kind of API"
            ))
        }
        ErrorKind::Truncated => "raise max_tokens for this agent",
        ErrorKind::UnknownModel => {
            return Some(format!(
                "write the model as provider/model, or add its provider {settings}"
            ))
        }
        ErrorKind::InvalidSettings => {
            return Some(format!("fix the provider's settings {settings}"))
        }
        ErrorKind::Unsupported => "change the agent's reasoning setting on the Configure page",
    };
    Some(text.to_string())
}

/// An error as one message for the page: what happened, then what to do.
pub fn error_text(error: &LlmError) -> String {
    error_text_on(error, ShownOn::Elsewhere)
}

/// [`error_text`] for an error shown on `page`.
pub fn error_text_on(error: &LlmError, page: ShownOn) -> String {
    with_advice(
        error.to_string(),
        advice_on(error.kind(), error.retry_after_ms(), page),
    )
}

/// `message`, then `advice` (when there is one) after a semicolon.
pub fn with_advice(message: String, advice: Option<String>) -> String {
    match advice {
        Some(advice) => format!("{}; {advice}", message.trim_end_matches('.')),
        None => message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn on_settings_the_advice_points_at_the_fields_not_at_settings() {
        for kind in ErrorKind::ALL {
            let elsewhere = advice(kind, None);
            let here = advice_on(kind, None, ShownOn::Settings);
            assert!(
                !here.as_deref().unwrap_or_default().contains("Settings"),
                "{kind}: {here:?}"
            );
            assert_eq!(here.is_some(), elsewhere.is_some(), "{kind}");
        }
        assert_eq!(
            advice_on(ErrorKind::MissingKey, None, ShownOn::Settings).as_deref(),
            Some("add the provider's API key above")
        );
    }

    #[test]
    fn every_kind_that_a_user_can_act_on_says_how() {
        let silent = [
            ErrorKind::Cancelled,
            ErrorKind::BadRequest,
            ErrorKind::Http,
            ErrorKind::Refusal,
            ErrorKind::InvalidOutput,
        ];
        for kind in ErrorKind::ALL {
            let said = advice(kind, None);
            assert_eq!(said.is_none(), silent.contains(&kind), "{kind}: {said:?}");
            if let Some(text) = said {
                assert!(!text.ends_with('.'), "{kind}: {text}");
                assert!(text.starts_with(char::is_lowercase), "{kind}: {text}");
            }
        }
    }

    #[test]
    fn a_rejected_key_points_to_settings_after_the_providers_words() {
        let error =
            LlmError::from_http("anthropic", 401, ErrorKind::Auth, "invalid x-api-key", None);
        assert_eq!(
            error_text(&error),
            "Anthropic rejected the API key (401): invalid x-api-key; check the key in Settings"
        );
    }

    #[test]
    fn a_rate_limit_says_how_long_to_wait_when_the_provider_did() {
        let asked = LlmError::from_http("openai", 429, ErrorKind::RateLimited, "slow", Some(2500));
        assert!(error_text(&asked).ends_with("; wait 2.5 s and try again"));
        let silent = LlmError::from_http("openai", 429, ErrorKind::RateLimited, "slow", None);
        assert!(error_text(&silent).ends_with("; wait a little and try again"));
        assert_eq!(error_text(&LlmError::cancelled()), "the call was cancelled");
    }
}
