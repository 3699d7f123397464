//! A "Test connection" report in plain words, and the model a provider is tested with.

use crate::core::config::PipelineConfig;
use crate::core::llm::chat::StructuredMode;
use crate::core::llm::probe::{ProbeFailure, ProbeReport};
use crate::core::model::resolve_model;
use crate::core::presets::presets;

use super::llm_error::{error_text_on, ShownOn};

/// The model id to test provider `provider_id` with: the first of the current config's models
/// that this provider serves, else the first preset model it serves, else empty (the user types
/// one).
pub fn default_probe_model(
    provider_id: &str,
    config: Option<&PipelineConfig>,
    custom_ids: &[&str],
) -> String {
    let models_of = |c: &PipelineConfig| {
        [
            c.solver.model.clone(),
            c.verifier.model.clone(),
            c.judge.model.clone(),
        ]
    };
    let from_config = config.map(models_of).into_iter().flatten();
    let from_presets = presets().into_iter().flat_map(|p| models_of(&p.config));
    from_config
        .chain(from_presets)
        .filter_map(|m| resolve_model(&m, custom_ids).ok())
        .find(|r| r.provider == provider_id)
        .map(|r| r.model)
        .unwrap_or_default()
}

fn mode_words(mode: StructuredMode) -> &'static str {
    match mode {
        StructuredMode::Native => "the native structured-output mode",
        StructuredMode::JsonObjectSchema => "JSON object + schema",
        StructuredMode::PromptOnly => "prompt-only",
    }
}

/// How a probe report reads on the page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeSummary {
    /// Whether the provider works (as configured, or with the advised change).
    pub ok: bool,
    /// One sentence: what happened.
    pub headline: String,
    /// Why it failed, when it did (shown as an error).
    pub error: Option<String>,
    /// A settings change that would help (shown as a warning).
    pub advice: Option<String>,
    /// Further facts, one sentence each.
    pub details: Vec<String>,
}

/// Turns a [`ProbeReport`] into sentences.
pub fn summarize(report: &ProbeReport) -> ProbeSummary {
    let took = if report.latency_ms < 1000.0 {
        format!("{:.0} ms", report.latency_ms.max(0.0))
    } else {
        format!("{:.1} s", report.latency_ms / 1000.0)
    };
    let headline = match (report.working_mode, report.reachable, report.key_accepted) {
        (Some(mode), _, _) => format!(
            "Connected: {} answered in {took} using {}.",
            report.model,
            mode_words(mode)
        ),
        (None, false, Some(false)) => "Not tested: the key is missing.".to_string(),
        (None, false, _) => "No response from the provider.".to_string(),
        (None, true, Some(false)) => "The provider rejected the key.".to_string(),
        (None, true, _) => format!(
            "The provider answered, but {} could not give a valid structured reply.",
            report.model
        ),
    };
    let mut details = Vec::new();
    if let Some(usage) = &report.usage {
        details.push(format!(
            "Usage comes back: the test used {} input tokens ({} read from cache, {} written to it) \
             and {} output tokens ({} of them reasoning).",
            usage.input_tokens,
            usage.cache_read_tokens,
            usage.cache_write_tokens,
            usage.output_tokens,
            usage.reasoning_tokens
        ));
    } else if report.working_mode.is_some() {
        details.push(
            "The provider reported no token usage, so costs for this provider will show as unknown."
                .to_string(),
        );
    }
    for trial in &report.trials {
        // A server that never answered says nothing about the mode the request was in.
        if trial
            .failure
            .as_ref()
            .is_some_and(ProbeFailure::never_reached)
        {
            details.push(upper_first(&format!(
                "{} was not tried: the server was not reached.",
                mode_words(trial.mode)
            )));
            continue;
        }
        let outcome = if trial.ok() { "worked" } else { "failed" };
        let mut line = format!("{} {outcome}", mode_words(trial.mode));
        // The last failure is already shown as the error; say it once.
        let repeated = trial.failure.is_some() && trial.failure == report.failure;
        if let Some(failure) = trial.failure.as_ref().filter(|_| !repeated) {
            line.push_str(": ");
            line.push_str(&failure.to_string());
        }
        line.push('.');
        details.push(upper_first(&line));
    }
    if report.reachable {
        details.push(if report.rate_limit_headers.is_empty() {
            "No rate-limit headers were readable (the provider sent none, or CORS hides them), \
             so waits after a rate limit use the app's own backoff."
                .to_string()
        } else {
            let names: Vec<&str> = report
                .rate_limit_headers
                .iter()
                .map(|(k, _)| k.as_str())
                .collect();
            format!("Rate-limit headers are visible: {}.", names.join(", "))
        });
    }
    ProbeSummary {
        ok: report.ok(),
        headline,
        error: if report.ok() {
            None
        } else {
            report.failure.as_ref().map(failure_text)
        },
        advice: mode_advice(report),
        details,
    }
}

/// Why a check failed, with what to do about it.
fn failure_text(failure: &ProbeFailure) -> String {
    match failure {
        ProbeFailure::NoSuchProvider(id) => {
            format!("There is no provider `{id}`. Add it above.")
        }
        ProbeFailure::Call(error) => error_text_on(error, ShownOn::Settings),
        ProbeFailure::Output { .. } => upper_first(&failure.to_string()),
    }
}

/// The settings change a check found: the configured mode failed but another one worked.
fn mode_advice(report: &ProbeReport) -> Option<String> {
    let configured = report.configured_mode()?;
    let working = report.working_mode.filter(|mode| *mode != configured)?;
    Some(format!(
        "{} did not work with this model but {} did: set this provider's structured mode to {} \
         in Settings.",
        upper_first(mode_words(configured)),
        mode_words(working),
        mode_words(working)
    ))
}

fn upper_first(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::llm::probe::ProbeTrial;
    use crate::core::llm::Usage;
    use crate::core::llm::{ErrorKind, LlmError};

    fn report() -> ProbeReport {
        ProbeReport {
            provider: "openai".into(),
            model: "gpt-4.1-mini".into(),
            reachable: true,
            key_accepted: Some(true),
            trials: Vec::new(),
            working_mode: None,
            usage: None,
            rate_limit_headers: Vec::new(),
            latency_ms: 1234.0,
            reply: None,
            failure: None,
        }
    }

    #[test]
    fn a_working_provider_reads_as_connected_with_its_usage_and_headers() {
        let mut r = report();
        r.working_mode = Some(StructuredMode::Native);
        r.latency_ms = 1234.0;
        r.usage = Some(Usage {
            input_tokens: 120,
            output_tokens: 30,
            total_tokens: 150,
            ..Usage::default()
        });
        r.trials.push(ProbeTrial {
            mode: StructuredMode::Native,
            failure: None,
            latency_ms: 1200.0,
        });
        r.rate_limit_headers = vec![("x-ratelimit-remaining-requests".into(), "99".into())];
        let s = summarize(&r);
        assert!(s.ok);
        assert_eq!(
            s.headline,
            "Connected: gpt-4.1-mini answered in 1.2 s using the native structured-output mode."
        );
        assert_eq!(s.error, None);
        assert_eq!(
            s.details,
            [
                "Usage comes back: the test used 120 input tokens (0 read from cache, 0 written to it) \
                 and 30 output tokens (0 of them reasoning).",
                "The native structured-output mode worked.",
                "Rate-limit headers are visible: x-ratelimit-remaining-requests.",
            ]
        );
    }

    #[test]
    fn a_working_provider_without_usage_is_said_to_cost_unknown() {
        let mut r = report();
        r.working_mode = Some(StructuredMode::Native);
        let s = summarize(&r);
        assert!(s.details[0].contains("reported no token usage"));
        assert!(s.details[0].contains("unknown"));
    }

    #[test]
    fn quick_answers_are_timed_in_milliseconds() {
        let mut r = report();
        r.working_mode = Some(StructuredMode::PromptOnly);
        r.latency_ms = 87.4;
        assert_eq!(
            summarize(&r).headline,
            "Connected: gpt-4.1-mini answered in 87 ms using prompt-only."
        );
    }

    #[test]
    fn failures_name_the_cause() {
        let mut r = report();
        r.reachable = false;
        r.key_accepted = None;
        let unreachable = ProbeFailure::Call(LlmError::network("local", "Failed to fetch"));
        r.failure = Some(unreachable.clone());
        r.trials.push(ProbeTrial {
            mode: StructuredMode::Native,
            failure: Some(unreachable),
            latency_ms: 5.0,
        });
        let s = summarize(&r);
        assert!(!s.ok);
        assert_eq!(s.headline, "No response from the provider.");
        assert_eq!(
            s.error.as_deref(),
            Some(
                "could not reach the local server: Failed to fetch; check the base URL above, \
                 your connection, and that the server allows requests from this page (CORS)"
            )
        );
        assert_eq!(
            s.details,
            ["The native structured-output mode was not tried: the server was not reached."]
        );

        // An earlier mode's different failure keeps its detail.
        let mut r = report();
        let rejected = LlmError::from_http(
            "openai",
            400,
            ErrorKind::BadRequest,
            "response_format unsupported",
            None,
        );
        r.trials.push(ProbeTrial {
            mode: StructuredMode::Native,
            failure: Some(ProbeFailure::Call(rejected)),
            latency_ms: 5.0,
        });
        r.failure = Some(ProbeFailure::Output {
            problem: "the reply is JSON but a array, not an object".into(),
            truncated: false,
        });
        assert_eq!(
            summarize(&r).details[0],
            "The native structured-output mode failed: OpenAI rejected the request (400): \
             response_format unsupported."
        );

        let mut r = report();
        r.key_accepted = Some(false);
        assert_eq!(summarize(&r).headline, "The provider rejected the key.");
        r.reachable = false;
        assert_eq!(summarize(&r).headline, "Not tested: the key is missing.");
    }

    #[test]
    fn a_mode_other_than_the_configured_one_working_is_advised() {
        let mut r = report();
        r.trials.push(ProbeTrial {
            mode: StructuredMode::Native,
            failure: Some(ProbeFailure::Call(LlmError::from_http(
                "openai",
                400,
                ErrorKind::BadRequest,
                "json_schema is not supported",
                None,
            ))),
            latency_ms: 5.0,
        });
        r.trials.push(ProbeTrial {
            mode: StructuredMode::PromptOnly,
            failure: None,
            latency_ms: 5.0,
        });
        r.working_mode = Some(StructuredMode::PromptOnly);
        assert_eq!(
            summarize(&r).advice.as_deref(),
            Some(
                "The native structured-output mode did not work with this model but prompt-only \
                 did: set this provider's structured mode to prompt-only in Settings."
            )
        );
        // Working as configured: nothing to change.
        r.trials.remove(0);
        assert_eq!(summarize(&r).advice, None);
    }

    #[test]
    fn the_test_model_comes_from_the_config_then_the_presets() {
        let mut config = PipelineConfig::default();
        config.verifier.model = "anthropic/claude-opus-4-1".into();
        assert_eq!(
            default_probe_model("anthropic", Some(&config), &[]),
            "claude-opus-4-1"
        );
        // Not in the config: the presets' Anthropic model.
        assert_eq!(
            default_probe_model("anthropic", None, &[]),
            "claude-sonnet-4-5"
        );
        assert_eq!(default_probe_model("local", None, &[]), "smollm2-135m");
        assert_eq!(default_probe_model("my-vllm", None, &["my-vllm"]), "");
    }
}
