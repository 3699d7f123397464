//! Streamed replies: what a stream shows while it comes ([`StreamDelta`]), how each adapter's
//! reader turns its family's events into them ([`StreamDecoder`]), and how a whole stream
//! becomes the same [`ChatResponse`] a non-streamed call would have given ([`StreamReader`]).
//!
//! Each decoder rebuilds its family's non-streamed response body from the events, and the
//! adapter's own `parse_reply` reads that body: the finish reason, usage, refusal and thinking
//! of a streamed step are read by the very code that reads a non-streamed one.

use serde_json::Value;

use super::adapters::Adapter;
use super::chat::{ChatResponse, HttpResponse};
use super::error::LlmError;
use super::sse::{SseEvent, SseParser};

/// What a stream added, for the live view.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StreamDelta {
    /// More of the model's thinking.
    Thinking(String),
    /// More of the answer's text (for a forced tool call, more of its JSON input).
    Answer(String),
}

/// Why a stream could not be read to its end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StreamFault {
    /// An event the family never sends in that shape; the text says what was wrong.
    Malformed(String),
    /// The provider reported a failure inside the stream (its error object, as JSON text).
    Provider(Value),
}

/// One family's stream events, read one at a time into the body a non-streamed call returns.
pub trait StreamDecoder {
    /// Reads one event; returns what it added for the live view.
    fn event(&mut self, event: &SseEvent) -> Result<Vec<StreamDelta>, StreamFault>;

    /// Whether the family's end-of-reply event has come (`[DONE]`, `message_stop`, a finish
    /// reason, `message-end`). A stream that ends before it was cut.
    fn is_complete(&self) -> bool;

    /// The non-streamed response body the events add up to.
    fn body(&self) -> Value;
}

/// Timings of a streamed request, in milliseconds from when it was sent.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct StreamTiming {
    /// The first thinking or answer text.
    pub first_token_ms: Option<f64>,
    /// The first answer text, after any thinking.
    pub first_answer_ms: Option<f64>,
    /// The end of the stream.
    pub end_ms: f64,
}

impl StreamTiming {
    /// Generated tokens per second from the first token to the end, when there was time
    /// between them.
    pub fn output_tokens_per_s(&self, output_tokens: u64) -> Option<f64> {
        let first = self.first_token_ms?;
        let secs = (self.end_ms - first) / 1000.0;
        (secs > 0.0 && output_tokens > 0).then(|| output_tokens as f64 / secs)
    }
}

/// What a streamed call's accepted reply showed about its speed: the step's `ttft_ms`,
/// `ttfat_ms` and `output_tokens_per_s`.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct StreamStats {
    /// Milliseconds to the first token, thinking included.
    pub ttft_ms: Option<f64>,
    /// Milliseconds to the first answer token.
    pub ttfat_ms: Option<f64>,
    /// Generated tokens per second after the first token.
    pub output_tokens_per_s: Option<f64>,
}

impl StreamTiming {
    /// The stats of a reply that generated `output_tokens`.
    pub fn stats(&self, output_tokens: u64) -> StreamStats {
        StreamStats {
            ttft_ms: self.first_token_ms,
            ttfat_ms: self.first_answer_ms,
            output_tokens_per_s: self.output_tokens_per_s(output_tokens),
        }
    }
}

/// Reads one streamed response: bytes in (any chunking), deltas out, and at the end the
/// [`ChatResponse`] the adapter reads from the rebuilt body.
pub struct StreamReader {
    adapter: &'static dyn Adapter,
    provider: String,
    decoder: Box<dyn StreamDecoder>,
    parser: SseParser,
    events: Vec<SseEvent>,
    fault: Option<StreamFault>,
    /// A body that is not an event stream (a proxy that buffered it, a server that ignored
    /// `stream`), kept whole to be read as a plain reply.
    plain: Option<Vec<u8>>,
}

impl std::fmt::Debug for StreamReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StreamReader")
            .field("provider", &self.provider)
            .field("fault", &self.fault)
            .finish()
    }
}

impl StreamReader {
    /// A reader for `adapter`'s stream from `provider`; `content_type` is the response's, which
    /// says whether the body is an event stream at all.
    pub fn new(adapter: &'static dyn Adapter, provider: &str, content_type: Option<&str>) -> Self {
        let is_stream = content_type.is_none_or(|t| t.contains("text/event-stream"));
        StreamReader {
            adapter,
            provider: provider.to_string(),
            decoder: adapter.stream_decoder(),
            parser: SseParser::new(),
            events: Vec::new(),
            fault: None,
            plain: (!is_stream).then(Vec::new),
        }
    }

    /// Whether the body is an event stream (not a whole reply a proxy or server sent at once).
    pub fn is_event_stream(&self) -> bool {
        self.plain.is_none()
    }

    /// Reads a chunk of the body; returns what it added for the live view.
    pub fn push(&mut self, chunk: &[u8]) -> Vec<StreamDelta> {
        if let Some(plain) = &mut self.plain {
            plain.extend_from_slice(chunk);
            return Vec::new();
        }
        if self.fault.is_some() {
            return Vec::new();
        }
        self.parser.push(chunk, &mut self.events);
        let mut deltas = Vec::new();
        for event in self.events.drain(..) {
            match self.decoder.event(&event) {
                Ok(mut more) => deltas.append(&mut more),
                Err(fault) => {
                    self.fault = Some(fault);
                    break;
                }
            }
        }
        deltas
    }

    /// The reply the whole stream gave, read as `parse_reply` reads a non-streamed one. A
    /// stream cut before its end is a network error (retried as one); an error the provider
    /// sent inside the stream is classified as its non-streamed error would be.
    pub fn finish(self) -> Result<ChatResponse, LlmError> {
        let provider = self.provider.as_str();
        if let Some(plain) = self.plain {
            return self
                .adapter
                .parse_reply(provider, &String::from_utf8_lossy(&plain));
        }
        match self.fault {
            Some(StreamFault::Provider(error)) => {
                let response = HttpResponse {
                    status: error_status(&error),
                    headers: Vec::new(),
                    body: error.to_string(),
                };
                return Err(self.adapter.parse_error(provider, &response));
            }
            Some(StreamFault::Malformed(what)) => {
                return Err(LlmError::invalid_response(
                    provider,
                    format!("the stream could not be read: {what}"),
                    "",
                ));
            }
            None => {}
        }
        if !self.decoder.is_complete() {
            return Err(LlmError::network(
                provider,
                "the stream was cut before the reply ended",
            ));
        }
        self.adapter
            .parse_reply(provider, &self.decoder.body().to_string())
    }
}

/// The HTTP status an error sent inside a stream stands for: its own numeric `code` when it
/// has one, else 500 (a failure on the provider's side, mid-reply).
fn error_status(error: &Value) -> u16 {
    let code = ["/error/code", "/code", "/status"]
        .iter()
        .find_map(|p| error.pointer(p).and_then(Value::as_u64));
    let by_type = match error.pointer("/error/type").and_then(Value::as_str) {
        Some("overloaded_error") => Some(529),
        Some("rate_limit_error") => Some(429),
        Some("invalid_request_error") => Some(400),
        _ => None,
    };
    code.and_then(|c| u16::try_from(c).ok())
        .filter(|c| (400..600).contains(c))
        .or(by_type)
        .unwrap_or(500)
}

/// The event's data as JSON, or a [`StreamFault::Malformed`] saying which event was not.
pub(crate) fn event_json(event: &SseEvent) -> Result<Value, StreamFault> {
    serde_json::from_str(&event.data).map_err(|e| {
        let start: String = event.data.chars().take(120).collect();
        StreamFault::Malformed(format!("an event is not JSON ({e}): {start}"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_per_second_count_from_the_first_token() {
        let t = StreamTiming {
            first_token_ms: Some(1000.0),
            first_answer_ms: Some(1500.0),
            end_ms: 3000.0,
        };
        assert_eq!(t.output_tokens_per_s(100), Some(50.0));
        assert_eq!(t.output_tokens_per_s(0), None);
        assert_eq!(StreamTiming::default().output_tokens_per_s(10), None);
    }
}
