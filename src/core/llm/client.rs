//! The LLM client: one validated structured call per [`AgentCall`], over any [`Transport`].
//!
//! A call goes: model string → provider settings (a missing key fails here, before any request)
//! → a [`ChatRequest`] carrying the role's schema in the provider's structured mode → the request,
//! retried on transient failures with backoff → the provider's reply → JSON extraction →
//! validation → on an invalid reply, a re-ask carrying the reply and its problems.
//!
//! Every HTTP request is one [`AttemptRecord`]; the usage of every reply counts, whether the call
//! ends well or not. Cancellation is checked before each request and during each backoff wait,
//! and the transport aborts a request in flight.

use std::cell::RefCell;
use std::future::Future;
use std::pin::pin;
use std::rc::Rc;
use std::task::{Poll, Waker};

use serde::{Deserialize, Serialize};

use super::chat::{
    ChatMessage, ChatRequest, ChatResponse, ChatRole, FinishKind, HttpResponse, StructuredMode,
};
use super::error::LlmError;
use super::provider::{self, ProviderSettings};
use super::retry::{RetryPolicy, SplitMix64};
use super::structured::{self, excerpt};
use super::transport::{Transport, TransportError};
use super::usage::Usage;
use super::{AgentCall, AgentCallError, AgentCompletion, AgentLlm, AttemptKind, AttemptRecord};
use crate::core::cancel::CancelToken;
use crate::core::clock::Clock;
use crate::core::model::resolve_model;
use crate::core::providers::ProviderRegistry;
use crate::core::role::AgentRole;

/// How the client retries, re-asks and times out. Each field documents its default.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientOptions {
    /// Re-asks after an invalid reply, on top of the first request (default 2, so at most three
    /// replies per call).
    pub max_reasks: u32,
    /// Transport retries of each request (default: 3 attempts, 2–10 s backoff).
    pub retry: RetryPolicy,
    /// How long one request may take, in milliseconds (default 300 000: a reasoning model
    /// writing a few thousand tokens on a slow server needs minutes).
    pub request_timeout_ms: u64,
    /// Seed of the backoff jitter; `None` seeds from the clock when the client is built.
    pub jitter_seed: Option<u64>,
}

impl Default for ClientOptions {
    fn default() -> Self {
        Self {
            max_reasks: 2,
            retry: RetryPolicy::default(),
            request_timeout_ms: 300_000,
            jitter_seed: None,
        }
    }
}

/// The real [`AgentLlm`]: provider adapters over a [`Transport`], timed by a [`Clock`].
pub struct LlmClient<T: Transport, C: Clock> {
    registry: ProviderRegistry,
    transport: T,
    clock: C,
    options: ClientOptions,
    rng: RefCell<SplitMix64>,
}

impl<T: Transport, C: Clock> std::fmt::Debug for LlmClient<T, C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LlmClient")
            .field("providers", &self.registry.providers.len())
            .field("options", &self.options)
            .finish()
    }
}

/// What the client learned about one request, kept while a call is served.
struct CallLog {
    usage: Usage,
    usage_complete: bool,
    attempts: Vec<AttemptRecord>,
}

impl CallLog {
    fn record(&mut self, kind: AttemptKind, usage: Option<Usage>, error: Option<String>, ms: f64) {
        self.attempts.push(AttemptRecord {
            attempt: self.attempts.len() as u32 + 1,
            kind,
            usage,
            error,
            latency_ms: ms,
        });
    }
}

impl<T: Transport, C: Clock> LlmClient<T, C> {
    /// A client with the default [`ClientOptions`].
    pub fn new(registry: ProviderRegistry, transport: T, clock: C) -> Self {
        Self::with_options(registry, transport, clock, ClientOptions::default())
    }

    /// A client with explicit options.
    pub fn with_options(
        registry: ProviderRegistry,
        transport: T,
        clock: C,
        options: ClientOptions,
    ) -> Self {
        let seed = options
            .jitter_seed
            .unwrap_or_else(|| clock.now_ms().to_bits());
        Self {
            registry,
            transport,
            clock,
            options,
            rng: RefCell::new(SplitMix64::new(seed)),
        }
    }

    /// The providers this client calls.
    pub fn registry(&self) -> &ProviderRegistry {
        &self.registry
    }

    /// Replaces the providers (after the user edits them in Settings).
    pub fn set_registry(&mut self, registry: ProviderRegistry) {
        self.registry = registry;
    }

    /// The options in force.
    pub fn options(&self) -> &ClientOptions {
        &self.options
    }

    /// The transport (tests inspect a scripted one through it).
    pub fn transport(&self) -> &T {
        &self.transport
    }

    /// The clock.
    pub fn clock(&self) -> &C {
        &self.clock
    }

    /// The provider serving `model` and the model id to send it; fails before any request when
    /// the model string names no provider or the provider lacks a key it needs.
    pub fn resolve(&self, model: &str) -> Result<(&ProviderSettings, String), LlmError> {
        let custom = self.registry.custom_ids();
        let resolved = resolve_model(model, &custom).map_err(|e| LlmError::UnknownModel {
            model: model.to_string(),
            reason: e.to_string(),
        })?;
        let settings =
            self.registry
                .get(&resolved.provider)
                .ok_or_else(|| LlmError::UnknownModel {
                    model: model.to_string(),
                    reason: format!(
                        "provider `{}` is not set up; add it in Settings",
                        resolved.provider
                    ),
                })?;
        provider::check_api_key(settings)?;
        Ok((settings, resolved.model))
    }

    async fn serve(
        &self,
        call: &AgentCall,
        cancel: &CancelToken,
        log: &mut CallLog,
    ) -> Result<(serde_json::Value, String, String, Option<String>), LlmError> {
        let (settings, model) = self.resolve(&call.model)?;
        let spec = structured::spec_for(call.role, settings.effective_structured_mode());
        let mut request = ChatRequest {
            model: model.clone(),
            system: call.system_prompt.clone(),
            messages: vec![ChatMessage {
                role: ChatRole::User,
                content: structured::prompt_for_mode(&call.user_prompt, &spec),
            }],
            temperature: call.temperature,
            max_tokens: call.max_tokens,
            structured: Some(spec),
        };
        let mut reasks = 0;
        loop {
            let kind = if reasks == 0 {
                AttemptKind::Initial
            } else {
                AttemptKind::Reask
            };
            let reply = self
                .send_with_retries(settings, &request, kind, cancel, log)
                .await?;
            let problem = match structured::parse_reply(call.role, &reply.text) {
                Ok(output) => {
                    return Ok((
                        output.to_value(),
                        settings.id.clone(),
                        model,
                        reply.finish_reason,
                    ))
                }
                Err(problem) => problem,
            };
            if let Some(last) = log.attempts.last_mut() {
                last.error = Some(problem.to_string());
            }
            // A refusal or a cut-off reply would come back the same way: say so instead of
            // spending re-asks on it.
            if reply.finish == FinishKind::Refusal || reply.refusal.is_some() {
                return Err(LlmError::Refusal {
                    provider: settings.id.clone(),
                    message: reply
                        .refusal
                        .or(reply.finish_reason)
                        .unwrap_or_else(|| "no reason given".into()),
                });
            }
            if reply.finish == FinishKind::Length {
                return Err(LlmError::Truncated {
                    provider: settings.id.clone(),
                    max_tokens: call.max_tokens,
                });
            }
            if reasks >= self.options.max_reasks {
                return Err(LlmError::InvalidOutput {
                    detail: format!(
                        "{problem} (after {} replies; the last one began: {:?})",
                        reasks + 1,
                        excerpt(&reply.text)
                    ),
                });
            }
            request
                .messages
                .extend(structured::reask_messages(&reply.text, &problem));
            reasks += 1;
        }
    }

    /// Sends one request, retrying transient failures; records every attempt.
    async fn send_with_retries(
        &self,
        settings: &ProviderSettings,
        request: &ChatRequest,
        first_kind: AttemptKind,
        cancel: &CancelToken,
        log: &mut CallLog,
    ) -> Result<ChatResponse, LlmError> {
        let mut tries = 0u32;
        loop {
            if cancel.is_cancelled() {
                return Err(LlmError::Cancelled);
            }
            tries += 1;
            let kind = if tries == 1 {
                first_kind
            } else {
                AttemptKind::Retry
            };
            let started = self.clock.now_ms();
            let outcome = self.send_once(settings, request, cancel).await;
            let latency = self.clock.now_ms() - started;
            let error = match outcome {
                Ok(reply) => {
                    match reply.usage {
                        Some(u) => log.usage.add(&u),
                        None => log.usage_complete = false,
                    }
                    log.record(kind, reply.usage, None, latency);
                    return Ok(reply);
                }
                Err(error) => error,
            };
            log.record(kind, None, Some(error.to_string()), latency);
            if error == LlmError::Cancelled {
                return Err(error);
            }
            let delay = {
                let mut rng = self.rng.borrow_mut();
                self.options.retry.delay_for(tries, &error, &mut rng)
            };
            match delay {
                None => return Err(error),
                Some(ms) => {
                    if until_cancelled(self.clock.sleep(ms), cancel)
                        .await
                        .is_none()
                    {
                        return Err(LlmError::Cancelled);
                    }
                }
            }
        }
    }

    /// One HTTP round trip, its response parsed.
    async fn send_once(
        &self,
        settings: &ProviderSettings,
        request: &ChatRequest,
        cancel: &CancelToken,
    ) -> Result<ChatResponse, LlmError> {
        let http = provider::build_request(settings, request);
        let timeout_ms = self.options.request_timeout_ms;
        let response = self
            .transport
            .send(&http, timeout_ms, cancel)
            .await
            .map_err(|e| match e {
                TransportError::Cancelled => LlmError::Cancelled,
                TransportError::Timeout => LlmError::Timeout {
                    provider: settings.id.clone(),
                    secs: timeout_ms.div_ceil(1000),
                },
                TransportError::Network(message) => LlmError::Network {
                    provider: settings.id.clone(),
                    message,
                },
            })?;
        let now = self.clock.now_ms();
        provider::parse_response_at(settings.kind, &settings.id, &response, Some(now))
    }

    /// Checks one provider for the Settings page: one small structured call in the provider's
    /// structured mode and, if that fails for a reason a different mode could fix, one in
    /// prompt-only mode. No retries, no re-asks. Never fails: problems are in the report.
    pub async fn probe(&self, provider_id: &str, model: &str, cancel: &CancelToken) -> ProbeReport {
        let started = self.clock.now_ms();
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
            error: None,
            advice: None,
        };
        let Some(settings) = self.registry.get(provider_id) else {
            report.error = Some(format!(
                "there is no provider `{provider_id}`; add it in Settings"
            ));
            return report;
        };
        if let Err(e) = provider::check_api_key(settings) {
            report.key_accepted = Some(false);
            report.error = Some(e.to_string());
            return report;
        }
        let effective = settings.effective_structured_mode();
        let mut modes = vec![effective];
        if effective != StructuredMode::PromptOnly {
            modes.push(StructuredMode::PromptOnly);
        }
        for mode in modes {
            let spec = structured::spec_for(AgentRole::Solver, mode);
            let request = ChatRequest {
                model: model.to_string(),
                system: String::new(),
                messages: vec![ChatMessage {
                    role: ChatRole::User,
                    content: structured::prompt_for_mode(PROBE_PROMPT, &spec),
                }],
                temperature: 0.0,
                max_tokens: PROBE_MAX_TOKENS,
                structured: Some(spec),
            };
            let t0 = self.clock.now_ms();
            let outcome = self.probe_once(settings, &request, cancel).await;
            let latency = self.clock.now_ms() - t0;
            if let Some(response) = &outcome.response {
                report.reachable = true;
                report.rate_limit_headers = rate_limit_headers(response);
            }
            let (ok, detail, retry_other_mode) = match outcome.result {
                Ok(reply) => {
                    report.key_accepted = Some(true);
                    report.usage = reply.usage;
                    report.reply = Some(reply.text.clone());
                    match structured::parse_reply(AgentRole::Solver, &reply.text) {
                        Ok(_) => (true, None, false),
                        Err(problem) => {
                            let truncated = reply.finish == FinishKind::Length;
                            let detail = if truncated {
                                format!(
                                    "the reply was cut off at {PROBE_MAX_TOKENS} tokens: {problem}"
                                )
                            } else {
                                problem.to_string()
                            };
                            (false, Some(detail), !truncated)
                        }
                    }
                }
                Err(error) => {
                    if matches!(error, LlmError::Auth { .. }) {
                        report.key_accepted = Some(false);
                    }
                    let other_mode_may_help = matches!(
                        error,
                        LlmError::BadRequest { .. }
                            | LlmError::InvalidResponse { .. }
                            | LlmError::Http { .. }
                            | LlmError::Server { .. }
                    );
                    (false, Some(error.to_string()), other_mode_may_help)
                }
            };
            report.trials.push(ProbeTrial {
                mode,
                ok,
                detail: detail.clone(),
                latency_ms: latency,
            });
            if ok {
                report.working_mode = Some(mode);
                report.error = None;
                if mode != effective {
                    report.advice = Some(format!(
                        "{} did not work with this model but prompt-only did: set this \
                         provider's structured mode to prompt-only",
                        mode_name(effective)
                    ));
                }
                break;
            }
            report.error = detail;
            if cancel.is_cancelled() || !retry_other_mode {
                break;
            }
        }
        report.latency_ms = self.clock.now_ms() - started;
        report
    }

    async fn probe_once(
        &self,
        settings: &ProviderSettings,
        request: &ChatRequest,
        cancel: &CancelToken,
    ) -> ProbeOutcome {
        let http = provider::build_request(settings, request);
        let timeout_ms = self.options.request_timeout_ms;
        let response = match self.transport.send(&http, timeout_ms, cancel).await {
            Ok(response) => response,
            Err(e) => {
                let error = match e {
                    TransportError::Cancelled => LlmError::Cancelled,
                    TransportError::Timeout => LlmError::Timeout {
                        provider: settings.id.clone(),
                        secs: timeout_ms.div_ceil(1000),
                    },
                    TransportError::Network(message) => LlmError::Network {
                        provider: settings.id.clone(),
                        message,
                    },
                };
                return ProbeOutcome {
                    response: None,
                    result: Err(error),
                };
            }
        };
        let now = self.clock.now_ms();
        let result = provider::parse_response_at(settings.kind, &settings.id, &response, Some(now));
        ProbeOutcome {
            response: Some(response),
            result,
        }
    }
}

impl<T: Transport, C: Clock> AgentLlm for LlmClient<T, C> {
    async fn complete(
        &self,
        call: &AgentCall,
        cancel: &CancelToken,
    ) -> Result<AgentCompletion, AgentCallError> {
        let started = self.clock.now_ms();
        let mut log = CallLog {
            usage: Usage::default(),
            usage_complete: true,
            attempts: Vec::new(),
        };
        match self.serve(call, cancel, &mut log).await {
            Ok((output, provider, model, finish_reason)) => Ok(AgentCompletion {
                output,
                usage: log.usage,
                usage_complete: log.usage_complete,
                attempts: log.attempts,
                provider,
                model,
                finish_reason,
                latency_ms: self.clock.now_ms() - started,
            }),
            Err(error) => Err(AgentCallError {
                error,
                usage: log.usage,
                attempts: log.attempts,
            }),
        }
    }
}

/// Runs `future` until it completes (`Some`) or `cancel` fires (`None`), whichever is first.
///
/// The wake-up registered on the token is removed when this returns (or is dropped), so a
/// batch's shared token does not collect one per backoff.
pub async fn until_cancelled<F: Future>(future: F, cancel: &CancelToken) -> Option<F::Output> {
    let slot: Rc<RefCell<Option<Waker>>> = Rc::default();
    let on_cancel = slot.clone();
    let _registered = cancel.on_cancel(move || {
        if let Some(waker) = on_cancel.borrow_mut().take() {
            waker.wake();
        }
    });
    let mut future = pin!(future);
    std::future::poll_fn(|cx| {
        if cancel.is_cancelled() {
            return Poll::Ready(None);
        }
        if let Poll::Ready(output) = future.as_mut().poll(cx) {
            return Poll::Ready(Some(output));
        }
        *slot.borrow_mut() = Some(cx.waker().clone());
        Poll::Pending
    })
    .await
}

/// The question the probe asks.
const PROBE_PROMPT: &str = "This is a connection test. What is 2 + 3? Put the number in \
    `solution`, one short sentence in `reasoning`, and your confidence in `confidence`.";

/// Room for the probe's reply (reasoning models spend some of it thinking first).
const PROBE_MAX_TOKENS: u32 = 1024;

struct ProbeOutcome {
    response: Option<HttpResponse>,
    result: Result<ChatResponse, LlmError>,
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

fn mode_name(mode: StructuredMode) -> &'static str {
    match mode {
        StructuredMode::Native => "the native structured-output mode",
        StructuredMode::JsonObjectSchema => "json_object with a schema",
        StructuredMode::PromptOnly => "prompt-only",
    }
}

/// One structured mode the probe tried.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProbeTrial {
    /// The mode.
    pub mode: StructuredMode,
    /// Whether it produced a valid structured reply.
    pub ok: bool,
    /// What went wrong, when it did not.
    pub detail: Option<String>,
    /// Time of the request in milliseconds.
    pub latency_ms: f64,
}

/// What the Settings page shows after checking a provider.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
    /// Why the check failed, as a sentence saying what to do; `None` when a mode worked.
    pub error: Option<String>,
    /// A settings change that would help, when the check found one.
    pub advice: Option<String>,
}

impl ProbeReport {
    /// Whether the provider is usable as configured or with the advised change.
    pub fn ok(&self) -> bool {
        self.working_mode.is_some()
    }
}
