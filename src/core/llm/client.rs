//! The LLM client: one validated structured call per [`AgentCall`], over any [`Transport`].
//!
//! A call goes: model string → provider settings (a missing key fails here, before any request)
//! → a [`ChatRequest`] carrying the role's schema in the provider's structured mode → the request,
//! retried on transient failures with backoff → the provider's reply → JSON extraction →
//! validation → on an invalid reply, a re-ask carrying the reply and its problems.
//!
//! Every HTTP request is one [`AttemptRecord`]; the usage of every reply counts, whether the call
//! ends well or not. Cancellation is checked before each request and during each backoff wait,
//! and the transport aborts a request in flight. The Settings page's connection check is in
//! [`super::probe`].

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::pin::pin;
use std::rc::Rc;
use std::task::{Poll, Waker};

use super::chat::{ChatRequest, ChatResponse, FinishKind, HttpRequest, HttpResponse};
use super::dispatch::{self, ProviderSettings};
use super::error::{ErrorKind, LlmError};
use super::retry::{RetryPolicy, SplitMix64};
use super::stream::{StreamDelta, StreamReader, StreamStats, StreamTiming};
use super::structured::{self, reply_excerpt};
use super::transport::{Transport, TransportError, MAX_RESPONSE_BYTES};
use super::usage::Usage;
use super::{
    AgentCall, AgentCallError, AgentCompletion, AgentLlm, AttemptKind, AttemptRecord, SentVia,
    Thinking,
};
use crate::core::cancel::CancelToken;
use crate::core::clock::Clock;
use crate::core::model::resolve_model;
use crate::core::outputs::AgentOutput;
use crate::core::pipeline::{AllowAll, CallGate};
use crate::core::providers::ProviderRegistry;
use crate::core::redact::Redactor;
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

/// What a streamed reply shows as it comes: which agent's call, and what it added.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamProgress {
    /// The calling agent.
    pub role: AgentRole,
    /// Which of the client's streamed round trips it belongs to: a retry or a re-ask is a new
    /// one, whose text replaces what the one before showed.
    pub round_trip: u64,
    /// What arrived.
    pub delta: StreamDelta,
}

/// Called with every piece of a streamed reply (the Run page shows them live).
pub type StreamListener = Rc<dyn Fn(&StreamProgress)>;

/// The real [`AgentLlm`]: provider adapters over a [`Transport`], timed by a [`Clock`].
pub struct LlmClient<T: Transport, C: Clock> {
    registry: ProviderRegistry,
    transport: T,
    clock: C,
    options: ClientOptions,
    rng: RefCell<SplitMix64>,
    listener: Option<StreamListener>,
    /// How many streamed round trips it has started.
    round_trips: Cell<u64>,
    /// The registry's keys, taken out of every text a call or probe returns.
    redactor: Redactor,
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
    /// How the last reply streamed, if it did.
    last_stream: Option<StreamStats>,
}

impl CallLog {
    fn record(&mut self, kind: AttemptKind, usage: Option<Usage>, error: Option<String>, ms: f64) {
        self.attempts.push(AttemptRecord {
            attempt: self.attempts.len() as u32 + 1,
            kind,
            usage,
            error,
            latency_ms: ms,
            reply: None,
            unsettled: false,
            // The client cannot tell; a provider batch's transport marks what it answered.
            sent_via: SentVia::Live,
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
            redactor: registry.redactor(),
            registry,
            transport,
            clock,
            options,
            rng: RefCell::new(SplitMix64::new(seed)),
            listener: None,
            round_trips: Cell::new(0),
        }
    }

    /// Reports every piece of a streamed reply to `listener`.
    pub fn set_stream_listener(&mut self, listener: Option<StreamListener>) {
        self.listener = listener;
    }

    /// The providers this client calls.
    pub fn registry(&self) -> &ProviderRegistry {
        &self.registry
    }

    /// Replaces the providers (after the user edits them in Settings).
    pub fn set_registry(&mut self, registry: ProviderRegistry) {
        self.redactor = registry.redactor();
        self.registry = registry;
    }

    /// Takes every configured key out of `text` (see [`Redactor`]).
    pub(super) fn redact(&self, text: String) -> String {
        self.redactor.redact_owned(text)
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
        let resolved = resolve_model(model, &custom)
            .map_err(|e| LlmError::unknown_model(model, &e.to_string()))?;
        let settings = self.registry.get(&resolved.provider).ok_or_else(|| {
            let reason = format!("provider `{}` is not set up", resolved.provider);
            LlmError::unknown_model(model, &reason)
        })?;
        dispatch::check_settings(settings)?;
        dispatch::check_api_key(settings)?;
        Ok((settings, resolved.model))
    }

    async fn serve(
        &self,
        call: &AgentCall,
        cancel: &CancelToken,
        gate: &dyn CallGate,
        log: &mut CallLog,
    ) -> Result<Served, LlmError> {
        let (settings, model) = self.resolve(&call.model)?;
        dispatch::check_reasoning(settings, &model, call.reasoning, call.max_tokens)?;
        let mode = dispatch::structured_mode(settings, call.reasoning);
        let mut request = structured::chat_request(call, mode, &model);
        let mut reasks = 0;
        loop {
            let kind = if reasks == 0 {
                AttemptKind::Initial
            } else {
                AttemptKind::Reask
            };
            // Built once per conversation state: retries send these very bytes again.
            let streamed = settings.streams();
            let http = if streamed {
                dispatch::build_stream_request(settings, &request)
            } else {
                dispatch::build_request(settings, &request)
            };
            let target = Target {
                settings,
                http: &http,
                chat: &request,
                role: call.role,
                streamed,
                call,
                request: u64::from(reasks),
                gate,
            };
            let reply = self.send_with_retries(&target, kind, cancel, log).await?;
            let problem = match structured::parse_reply(call.role, &reply.text) {
                Ok(output) => {
                    return Ok(Served {
                        output,
                        provider: settings.id.clone(),
                        model,
                        finish_reason: reply.finish_reason,
                        thinking: reply.thinking,
                        stream: log.last_stream,
                    })
                }
                Err(problem) => problem,
            };
            if let Some(last) = log.attempts.last_mut() {
                last.error = Some(problem.to_string());
                last.reply = Some(self.redact(reply.text.clone()));
            }
            // A refusal or a cut-off reply would come back the same way: say so instead of
            // spending re-asks on it.
            if reply.finish == FinishKind::Refusal || reply.refusal.is_some() {
                let reason = reply
                    .refusal
                    .or(reply.finish_reason)
                    .unwrap_or_else(|| "no reason given".into());
                return Err(LlmError::refusal(&settings.id, &reason));
            }
            if reply.finish == FinishKind::Length {
                return Err(LlmError::truncated(&settings.id, call.max_tokens));
            }
            if reasks >= self.options.max_reasks {
                let detail = format!(
                    "{problem} (after {} replies; the last one began: {:?})",
                    reasks + 1,
                    reply_excerpt(&reply.text)
                );
                return Err(LlmError::invalid_output(&settings.id, detail));
            }
            // Each re-ask is one more request that may be billed: it must fit the budget too.
            if let Err(refusal) = gate.before_request(call, u64::from(reasks) + 1) {
                let detail = format!(
                    "{problem} (not re-asked: {refusal}; the reply began: {:?})",
                    reply_excerpt(&reply.text)
                );
                return Err(LlmError::invalid_output(&settings.id, detail));
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
        target: &Target<'_>,
        first_kind: AttemptKind,
        cancel: &CancelToken,
        log: &mut CallLog,
    ) -> Result<ChatResponse, LlmError> {
        let settings = target.settings;
        let mut tries = 0u32;
        loop {
            if cancel.is_cancelled() {
                return Err(LlmError::cancelled());
            }
            tries += 1;
            let kind = if tries == 1 {
                first_kind
            } else {
                AttemptKind::Retry
            };
            let started = self.clock.now_ms();
            let (outcome, timing) = if target.streamed {
                self.streamed_round_trip(target, cancel, started).await
            } else {
                (
                    self.round_trip(settings, target.http, cancel).await.reply,
                    None,
                )
            };
            let latency = self.clock.now_ms() - started;
            let error = match outcome {
                Ok(reply) => {
                    match reply.usage {
                        Some(u) => log.usage.add(&u),
                        None => log.usage_complete = false,
                    }
                    let output_tokens = reply.usage.map(|u| u.output_tokens).unwrap_or(0);
                    log.last_stream = timing.map(|t| t.stats(output_tokens));
                    log.record(kind, reply.usage, None, latency);
                    return Ok(reply);
                }
                Err(error) => error,
            };
            log.record(kind, None, Some(error.to_string()), latency);
            if let Some(last) = log.attempts.last_mut() {
                last.unsettled = error.may_have_been_billed();
            }
            if error.kind() == ErrorKind::Cancelled {
                return Err(error);
            }
            let delay = {
                let mut rng = self.rng.borrow_mut();
                self.options.retry.delay_for(tries, &error, &mut rng)
            };
            // A request that got no reply may be billed; sending it again is one more that may
            // be, so it must fit the budget too.
            let unsettled = log.attempts.last().is_some_and(|a| a.unsettled);
            if delay.is_some()
                && unsettled
                && target
                    .gate
                    .before_request(target.call, target.request)
                    .is_err()
            {
                return Err(error);
            }
            match delay {
                None => return Err(error),
                Some(ms) => {
                    if until_cancelled(self.clock.sleep(ms), cancel)
                        .await
                        .is_none()
                    {
                        return Err(LlmError::cancelled());
                    }
                }
            }
        }
    }

    /// One streamed round trip: the body read event by event as it comes (each piece reported
    /// to the listener), then read as the reply a non-streamed call would have given. Timings
    /// count from `started`.
    async fn streamed_round_trip(
        &self,
        target: &Target<'_>,
        cancel: &CancelToken,
        started: f64,
    ) -> (Result<ChatResponse, LlmError>, Option<StreamTiming>) {
        let settings = target.settings;
        let timeout_ms = self.options.request_timeout_ms;
        let adapter = dispatch::adapter(settings.kind);
        let mut reader: Option<StreamReader> = None;
        let mut timing = StreamTiming::default();
        let round_trip = self.round_trips.get() + 1;
        self.round_trips.set(round_trip);
        let mut received = 0usize;
        let mut on_chunk = |chunk: &[u8], arrived_ms: Option<f64>| {
            received += chunk.len();
            // The content type is only known once the response has started; a stream's first
            // chunk decides it (see `Transport::send_streaming`).
            let reader = reader.get_or_insert_with(|| {
                StreamReader::new(adapter, &settings.id, Some(sniff_content_type(chunk)))
            });
            // A piece the transport held back a moment is timed by when it came.
            let at = arrived_ms.unwrap_or_else(|| self.clock.now_ms()) - started;
            for delta in reader.push(chunk) {
                let now = at;
                timing.first_token_ms.get_or_insert(now);
                if matches!(delta, StreamDelta::Answer(_)) {
                    timing.first_answer_ms.get_or_insert(now);
                }
                if let Some(listener) = &self.listener {
                    listener(&StreamProgress {
                        role: target.role,
                        round_trip,
                        delta,
                    });
                }
            }
        };
        let whole = || dispatch::build_request(settings, target.chat);
        let sent = self
            .transport
            .send_streaming_with_twin(target.http, &whole, timeout_ms, cancel, &mut on_chunk)
            .await;
        timing.end_ms = self.clock.now_ms() - started;
        // As for a whole body (see `round_trip`): transports stop at the limit themselves, and
        // this holds it for any transport.
        let sent = sent.and_then(|response| {
            if received + response.body.len() > MAX_RESPONSE_BYTES {
                Err(TransportError::TooLarge {
                    limit_bytes: MAX_RESPONSE_BYTES,
                })
            } else {
                Ok(response)
            }
        });
        let response = match sent {
            Ok(response) => response,
            Err(e) => {
                let error = LlmError::from_transport(&settings.id, &e, timeout_ms);
                return (Err(error.redacted(&self.redactor)), None);
            }
        };
        if !support_success(response.status) {
            let now = self.clock.now_ms();
            return (
                dispatch::parse_response(settings, &response, Some(now))
                    .map_err(|e| e.redacted(&self.redactor)),
                None,
            );
        }
        let reader = reader.unwrap_or_else(|| {
            StreamReader::new(adapter, &settings.id, response.header("content-type"))
        });
        // A whole reply sent at once (a buffering proxy, a server that ignored `stream`) was
        // not streamed, whatever was asked.
        let timing = reader.is_event_stream().then_some(timing);
        (
            reader.finish().map_err(|e| e.redacted(&self.redactor)),
            timing,
        )
    }

    /// One HTTP round trip: the request sent, the response (when one came) and what it reads
    /// as. Transport failures become [`LlmError`]s here, for calls and probes alike.
    pub(super) async fn round_trip(
        &self,
        settings: &ProviderSettings,
        http: &HttpRequest,
        cancel: &CancelToken,
    ) -> RoundTrip {
        let timeout_ms = self.options.request_timeout_ms;
        let sent = self.transport.send(http, timeout_ms, cancel).await;
        // Transports stop reading at the limit themselves (the browser's streams the body);
        // this holds it for any transport.
        let sent = sent.and_then(|response| {
            if response.body.len() > MAX_RESPONSE_BYTES {
                Err(TransportError::TooLarge {
                    limit_bytes: MAX_RESPONSE_BYTES,
                })
            } else {
                Ok(response)
            }
        });
        match sent {
            Ok(response) => {
                let now = self.clock.now_ms();
                let reply = dispatch::parse_response(settings, &response, Some(now))
                    .map_err(|e| e.redacted(&self.redactor));
                RoundTrip {
                    response: Some(response),
                    reply,
                }
            }
            Err(e) => RoundTrip {
                response: None,
                reply: Err(
                    LlmError::from_transport(&settings.id, &e, timeout_ms).redacted(&self.redactor)
                ),
            },
        }
    }
}

/// What one HTTP round trip gave.
pub(super) struct RoundTrip {
    /// The response, when an HTTP answer came at all.
    pub(super) response: Option<HttpResponse>,
    /// The response read by the provider's adapter, or why there is no reply.
    pub(super) reply: Result<ChatResponse, LlmError>,
}

/// Where one request goes and how.
struct Target<'a> {
    settings: &'a ProviderSettings,
    http: &'a HttpRequest,
    /// The conversation `http` was built from (a streamed request's whole twin is built from
    /// it when the transport asks).
    chat: &'a ChatRequest,
    role: AgentRole,
    streamed: bool,
    /// The call it serves, and which of its requests it is (0: the first, then each re-ask).
    call: &'a AgentCall,
    request: u64,
    /// Asked before each request after the first that may be billed.
    gate: &'a dyn CallGate,
}

fn support_success(status: u16) -> bool {
    (200..300).contains(&status)
}

/// The content type a body's first chunk shows: an event stream starts with a field, a comment
/// or a blank line; a buffered JSON reply with `{`.
fn sniff_content_type(first_chunk: &[u8]) -> &'static str {
    match first_chunk.iter().find(|b| !b.is_ascii_whitespace()) {
        Some(b'{') | Some(b'[') => "application/json",
        _ => "text/event-stream",
    }
}

/// A call served: the validated output and who served it.
struct Served {
    output: AgentOutput,
    provider: String,
    model: String,
    finish_reason: Option<String>,
    thinking: Option<Thinking>,
    stream: Option<StreamStats>,
}

impl<T: Transport, C: Clock> AgentLlm for LlmClient<T, C> {
    async fn complete(
        &self,
        call: &AgentCall,
        cancel: &CancelToken,
    ) -> Result<AgentCompletion, AgentCallError> {
        self.complete_gated(call, cancel, &AllowAll).await
    }

    fn gates_each_request(&self) -> bool {
        true
    }

    async fn complete_gated(
        &self,
        call: &AgentCall,
        cancel: &CancelToken,
        gate: &dyn CallGate,
    ) -> Result<AgentCompletion, AgentCallError> {
        let started = self.clock.now_ms();
        let mut log = CallLog {
            usage: Usage::default(),
            usage_complete: true,
            attempts: Vec::new(),
            last_stream: None,
        };
        let served = self.serve(call, cancel, gate, &mut log).await;
        // Re-ask problems and the final error quote the model's reply; a server that echoes
        // the request may have put the key there.
        for attempt in &mut log.attempts {
            attempt.error = attempt.error.take().map(|e| self.redact(e));
        }
        match served {
            Ok(served) => Ok(AgentCompletion {
                output: served.output,
                usage: log.usage,
                usage_complete: log.usage_complete,
                attempts: log.attempts,
                provider: served.provider,
                model: served.model,
                finish_reason: served.finish_reason,
                latency_ms: self.clock.now_ms() - started,
                provenance: None,
                thinking: served.thinking,
                stream: served.stream,
            }),
            Err(error) => Err(AgentCallError {
                error: error.redacted(&self.redactor),
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
