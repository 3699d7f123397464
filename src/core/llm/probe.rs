//! The Settings page's connection check: one small structured call to a provider, and a
//! [`ProbeReport`] of what it showed (reachability, the key, the structured-output mode that
//! works, usage fields, readable rate-limit headers, latency).

use super::chat::{FinishKind, HttpResponse, StructuredMode};
use super::client::LlmClient;
use super::dispatch;
use super::error::{ErrorKind, LlmError};
use super::reasoning::Reasoning;
use super::structured;
use super::transport::Transport;
use super::usage::Usage;
use super::AgentCall;
use crate::core::cancel::CancelToken;
use crate::core::clock::Clock;
use crate::core::role::AgentRole;

/// The question the probe asks.
const PROBE_PROMPT: &str = "This is a connection test. What is 2 + 3? Put the number in \
    `solution`, one short sentence in `reasoning`, and your confidence in `confidence`.";

/// Room for the probe's reply (reasoning models spend some of it thinking first).
pub const PROBE_MAX_TOKENS: u32 = 1024;

/// Why a check, or one mode it tried, failed.
#[derive(Debug, Clone, PartialEq)]
pub enum ProbeFailure {
    /// No provider with this id is set up.
    NoSuchProvider(String),
    /// The call failed: no key, no answer, or an HTTP error.
    Call(LlmError),
    /// A reply came but was not a valid structured output.
    Output {
        /// What was wrong with it.
        problem: String,
        /// Whether the reply was cut off at [`PROBE_MAX_TOKENS`].
        truncated: bool,
    },
}

impl std::fmt::Display for ProbeFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ProbeFailure::NoSuchProvider(id) => write!(f, "there is no provider `{id}`"),
            ProbeFailure::Call(error) => error.fmt(f),
            ProbeFailure::Output {
                problem,
                truncated: true,
            } => write!(
                f,
                "the reply was cut off at {PROBE_MAX_TOKENS} tokens: {problem}"
            ),
            ProbeFailure::Output { problem, .. } => f.write_str(problem),
        }
    }
}

impl ProbeFailure {
    /// Whether the request never got an answer from the server (unreachable, timed out, or
    /// not sent for want of a key): the mode it was made in was not tried at all.
    pub fn never_reached(&self) -> bool {
        matches!(
            self,
            ProbeFailure::Call(error)
                if matches!(
                    error.kind(),
                    ErrorKind::Network | ErrorKind::Timeout | ErrorKind::MissingKey
                )
        )
    }

    /// Whether asking in another structured mode may help: the provider answered, but not with
    /// a usable structured reply (a schema it rejects, a reply that is not the JSON asked for).
    fn other_mode_may_help(&self) -> bool {
        match self {
            ProbeFailure::NoSuchProvider(_) => false,
            ProbeFailure::Call(error) => matches!(
                error.kind(),
                ErrorKind::BadRequest
                    | ErrorKind::InvalidResponse
                    | ErrorKind::Http
                    | ErrorKind::Server
            ),
            ProbeFailure::Output { truncated, .. } => !truncated,
        }
    }
}

/// One structured mode the probe tried.
#[derive(Debug, Clone, PartialEq)]
pub struct ProbeTrial {
    /// The mode.
    pub mode: StructuredMode,
    /// Why it did not produce a valid structured reply; `None` when it did.
    pub failure: Option<ProbeFailure>,
    /// Time of the request in milliseconds.
    pub latency_ms: f64,
}

impl ProbeTrial {
    /// Whether it produced a valid structured reply.
    pub fn ok(&self) -> bool {
        self.failure.is_none()
    }
}

/// What the Settings page shows after checking a provider.
#[derive(Debug, Clone, PartialEq)]
pub struct ProbeReport {
    /// The provider id checked.
    pub provider: String,
    /// The model used for the check.
    pub model: String,
    /// Whether any HTTP response arrived (false: offline, wrong URL, server down, or CORS).
    pub reachable: bool,
    /// `Some(true)` once a request succeeded, `Some(false)` when the key was rejected or is
    /// missing, `None` when it could not be told.
    pub key_accepted: Option<bool>,
    /// Each mode tried, in order: the provider's effective mode, then prompt-only if needed.
    pub trials: Vec<ProbeTrial>,
    /// The first mode that produced a valid structured reply.
    pub working_mode: Option<StructuredMode>,
    /// Usage of the last reply, normalized (cached and reasoning tokens show here when the
    /// provider reports them).
    pub usage: Option<Usage>,
    /// Rate-limit headers the page could read on the last response; empty means the app cannot
    /// see the provider's limits (and cannot honour its `Retry-After`).
    pub rate_limit_headers: Vec<(String, String)>,
    /// Wall time of the whole check in milliseconds.
    pub latency_ms: f64,
    /// The model's last reply text.
    pub reply: Option<String>,
    /// Why the check failed; `None` when a mode worked.
    pub failure: Option<ProbeFailure>,
}

impl ProbeReport {
    /// Whether the provider is usable as configured or in the mode that worked.
    pub fn ok(&self) -> bool {
        self.working_mode.is_some()
    }

    /// The mode the provider is set to use (the first one tried), when any was tried.
    pub fn configured_mode(&self) -> Option<StructuredMode> {
        self.trials.first().map(|t| t.mode)
    }
}

impl<T: Transport, C: Clock> LlmClient<T, C> {
    /// Checks one provider for the Settings page: one small structured call in the provider's
    /// structured mode and, if that fails for a reason a different mode could fix, one in
    /// prompt-only mode. No retries, no re-asks. Never fails: problems are in the report.
    pub async fn probe(&self, provider_id: &str, model: &str, cancel: &CancelToken) -> ProbeReport {
        let clock = self.clock();
        let started = clock.now_ms();
        let mut report = ProbeReport {
            provider: provider_id.to_string(),
            model: model.to_string(),
            reachable: false,
            key_accepted: None,
            trials: Vec::new(),
            working_mode: None,
            usage: None,
            rate_limit_headers: Vec::new(),
            latency_ms: 0.0,
            reply: None,
            failure: None,
        };
        let Some(settings) = self.registry().get(provider_id) else {
            report.failure = Some(ProbeFailure::NoSuchProvider(provider_id.to_string()));
            return report;
        };
        if let Err(e) = dispatch::check_settings(settings) {
            report.failure = Some(ProbeFailure::Call(e));
            return report;
        }
        if let Err(e) = dispatch::check_api_key(settings) {
            report.key_accepted = Some(false);
            report.failure = Some(ProbeFailure::Call(e));
            return report;
        }
        let effective = settings.effective_structured_mode();
        let mut modes = vec![effective];
        if effective != StructuredMode::PromptOnly {
            modes.push(StructuredMode::PromptOnly);
        }
        let call = AgentCall {
            role: AgentRole::Solver,
            model: model.to_string(),
            system_prompt: String::new(),
            user_prompt: PROBE_PROMPT.to_string(),
            temperature: 0.0,
            max_tokens: PROBE_MAX_TOKENS,
            reasoning: Reasoning::Off,
        };
        for mode in modes {
            let request = structured::chat_request(&call, mode, model);
            let http = dispatch::build_request(settings, &request);
            let t0 = clock.now_ms();
            let outcome = self.round_trip(settings, &http, cancel).await;
            let latency = clock.now_ms() - t0;
            if let Some(response) = &outcome.response {
                report.reachable = true;
                report.rate_limit_headers = rate_limit_headers(response);
            }
            let failure = match outcome.reply {
                Ok(reply) => {
                    report.key_accepted = Some(true);
                    report.usage = reply.usage;
                    let parsed = structured::parse_reply(AgentRole::Solver, &reply.text);
                    report.reply = Some(self.redact(reply.text));
                    parsed.err().map(|problem| ProbeFailure::Output {
                        problem: self.redact(problem.to_string()),
                        truncated: reply.finish == FinishKind::Length,
                    })
                }
                Err(error) => {
                    if error.kind() == ErrorKind::Auth {
                        report.key_accepted = Some(false);
                    }
                    Some(ProbeFailure::Call(error))
                }
            };
            let retry_other_mode = failure
                .as_ref()
                .is_some_and(ProbeFailure::other_mode_may_help);
            report.trials.push(ProbeTrial {
                mode,
                failure: failure.clone(),
                latency_ms: latency,
            });
            report.failure = failure;
            if report.failure.is_none() {
                report.working_mode = Some(mode);
                break;
            }
            if cancel.is_cancelled() || !retry_other_mode {
                break;
            }
        }
        report.latency_ms = clock.now_ms() - started;
        report
    }
}

/// Rate-limit related headers the page could read (`retry-after`, `x-ratelimit-*`,
/// `anthropic-ratelimit-*`, `ratelimit-*`): their presence shows the provider's CORS policy lets
/// the app honour them.
fn rate_limit_headers(response: &HttpResponse) -> Vec<(String, String)> {
    response
        .headers
        .iter()
        .filter(|(k, _)| {
            let k = k.to_ascii_lowercase();
            k.contains("ratelimit") || k.starts_with("retry-after")
        })
        .map(|(k, v)| (k.to_ascii_lowercase(), v.clone()))
        .collect()
}
