//! The HTTP seam: core builds [`HttpRequest`]s and reads [`HttpResponse`]s; a [`Transport`]
//! moves them. The browser's lives in `web::http`; [`ScriptedTransport`] serves native tests and
//! benchmarks from a script and records what it was sent.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;

use super::chat::{HttpRequest, HttpResponse};
use crate::core::cancel::CancelToken;

/// Why a request got no HTTP response at all. (A response with an error status is not a
/// transport error: it is returned, and the provider adapter reads the error from it.)
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransportError {
    /// The request never completed: DNS, connection refused, TLS, or (in the browser) a CORS
    /// rejection, which the page cannot tell apart from the others.
    #[error("network error: {0}")]
    Network(String),
    /// No response within the request timeout.
    #[error("no response within the time limit")]
    Timeout,
    /// The cancel token fired; the request was aborted.
    #[error("cancelled")]
    Cancelled,
    /// The response body (or its declared `Content-Length`) was longer than `limit_bytes`;
    /// reading stopped there.
    #[error("the response was larger than {} MiB, the most Trialogue reads from a provider", limit_bytes / (1024 * 1024))]
    TooLarge {
        /// The limit that was passed ([`MAX_RESPONSE_BYTES`]).
        limit_bytes: usize,
    },
}

/// The longest response body a transport reads, in bytes (4 MiB).
///
/// A chat reply, reasoning included, is far smaller; a body this long is a wrong base URL (a
/// file server, a proxy's page) or a misbehaving server, and reading it whole would hold it all
/// in the page's memory several times over (bytes, text, parsed JSON).
pub const MAX_RESPONSE_BYTES: usize = 4 * 1024 * 1024;

/// Collects a response body chunk by chunk and stops at a limit, so that no more than the
/// limit is ever held.
#[derive(Debug)]
pub struct BodyBuffer {
    bytes: Vec<u8>,
    limit: usize,
}

impl BodyBuffer {
    /// A buffer for a body of at most `limit` bytes. A `content_length` header value already
    /// above the limit is refused before anything is read.
    pub fn new(limit: usize, content_length: Option<&str>) -> Result<BodyBuffer, TransportError> {
        let declared = content_length.and_then(|v| v.trim().parse::<u64>().ok());
        if declared.is_some_and(|n| n > limit as u64) {
            return Err(TransportError::TooLarge { limit_bytes: limit });
        }
        Ok(BodyBuffer {
            bytes: Vec::new(),
            limit,
        })
    }

    /// Appends a chunk; fails (keeping nothing more) once the body would pass the limit.
    pub fn push(&mut self, chunk: &[u8]) -> Result<(), TransportError> {
        if self.bytes.len().saturating_add(chunk.len()) > self.limit {
            return Err(TransportError::TooLarge {
                limit_bytes: self.limit,
            });
        }
        self.bytes.extend_from_slice(chunk);
        Ok(())
    }

    /// The body as text, decoded as `fetch`'s `text()` does: UTF-8 with a leading byte-order
    /// mark dropped and invalid sequences replaced.
    pub fn into_text(self) -> String {
        let bytes = self
            .bytes
            .strip_prefix(b"\xEF\xBB\xBF".as_slice())
            .unwrap_or(&self.bytes);
        String::from_utf8_lossy(bytes).into_owned()
    }
}

/// Sends one HTTP request.
///
/// Implementations must return [`TransportError::Cancelled`] promptly when `cancel` fires
/// (aborting the request in flight), and [`TransportError::Timeout`] after `timeout_ms`.
// Browser futures hold JS values and are not `Send`; nothing here crosses threads, so the
// trait deliberately makes no `Send` promise about the future `send` returns.
#[allow(async_fn_in_trait)]
pub trait Transport {
    /// Sends `request` and returns the response, whatever its status.
    async fn send(
        &self,
        request: &HttpRequest,
        timeout_ms: u64,
        cancel: &CancelToken,
    ) -> Result<HttpResponse, TransportError>;

    /// Sends `request` and hands a successful (2xx) body to `on_chunk` as it arrives, each piece
    /// with the time it arrived (ms on the wall clock, as [`Clock::now_ms`](crate::core::clock::Clock::now_ms))
    /// where the transport hands pieces over later than they came, else `None` (now); the
    /// returned response then has an empty body. Any other status comes back whole, body
    /// included, for the adapter to read the error from.
    ///
    /// The default waits for the whole body and hands it over in one chunk: right for
    /// transports that cannot stream, and what a buffering proxy amounts to. A body cut off in
    /// the middle is a [`TransportError::Network`].
    async fn send_streaming(
        &self,
        request: &HttpRequest,
        timeout_ms: u64,
        cancel: &CancelToken,
        on_chunk: &mut dyn FnMut(&[u8], Option<f64>),
    ) -> Result<HttpResponse, TransportError> {
        let mut response = self.send(request, timeout_ms, cancel).await?;
        if (200..300).contains(&response.status) {
            on_chunk(std::mem::take(&mut response.body).as_bytes(), None);
        }
        Ok(response)
    }

    /// As [`Self::send_streaming`], for a streamed request whose whole (not streamed) twin
    /// `whole` builds: the request the same call makes when its provider does not stream. A
    /// transport that keeps replies may answer with the twin's reply, handed over in one
    /// piece, which the client reads as the whole reply it is. The default sends `request`.
    async fn send_streaming_with_twin(
        &self,
        request: &HttpRequest,
        whole: WholeTwin<'_>,
        timeout_ms: u64,
        cancel: &CancelToken,
        on_chunk: &mut dyn FnMut(&[u8], Option<f64>),
    ) -> Result<HttpResponse, TransportError> {
        let _ = whole;
        self.send_streaming(request, timeout_ms, cancel, on_chunk)
            .await
    }
}

/// Builds the whole (not streamed) twin of a streamed request, when it is needed.
pub type WholeTwin<'w> = &'w dyn Fn() -> HttpRequest;

/// One scripted outcome of a [`ScriptedTransport`] call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScriptedReply {
    /// Return this response.
    Respond(HttpResponse),
    /// Fail with this transport error.
    Fail(TransportError),
    /// Simulate the user cancelling while this request is in flight: fire the call's cancel
    /// token, then return [`TransportError::Cancelled`].
    CancelInFlight,
    /// Stream a 2xx body in these chunks (a plain `send` gets them joined). With `cut`, the
    /// connection drops after the last chunk ([`TransportError::Network`]); with `cancel_after`
    /// set to `n`, the user cancels once `n` chunks have arrived.
    Stream {
        /// The response headers (the content type says whether it is an event stream).
        headers: Vec<(String, String)>,
        /// The body, chunk by chunk.
        chunks: Vec<Vec<u8>>,
        /// Whether the connection drops after the last chunk.
        cut: bool,
        /// Chunks delivered before the user cancels, if they do.
        cancel_after: Option<usize>,
    },
}

type Responder = Box<dyn Fn(&HttpRequest) -> Result<HttpResponse, TransportError>>;

#[derive(Default)]
struct Script {
    replies: VecDeque<ScriptedReply>,
    sent: Vec<SentRequest>,
    responder: Option<Responder>,
}

/// A request a [`ScriptedTransport`] received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentRequest {
    /// The request as sent.
    pub request: HttpRequest,
    /// The timeout it was sent with.
    pub timeout_ms: u64,
}

/// A transport that answers from a script, in order, and records every request.
///
/// Clones share the script and the record, so a test keeps one clone to inspect what the client
/// sent. When the script runs out, the responder (if set) answers; otherwise the call fails with
/// a [`TransportError::Network`] saying the script is exhausted. A call whose token is already
/// cancelled returns [`TransportError::Cancelled`] without consuming the script.
#[derive(Clone, Default)]
pub struct ScriptedTransport {
    script: Rc<RefCell<Script>>,
}

impl std::fmt::Debug for ScriptedTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let script = self.script.borrow();
        f.debug_struct("ScriptedTransport")
            .field("pending", &script.replies.len())
            .field("sent", &script.sent.len())
            .field("has_responder", &script.responder.is_some())
            .finish()
    }
}

impl ScriptedTransport {
    /// An empty script.
    pub fn new() -> Self {
        Self::default()
    }

    /// A transport that answers every request with `responder` (e.g. a benchmark's fake model).
    pub fn with_responder(
        responder: impl Fn(&HttpRequest) -> Result<HttpResponse, TransportError> + 'static,
    ) -> Self {
        let transport = Self::new();
        transport.script.borrow_mut().responder = Some(Box::new(responder));
        transport
    }

    /// Queues a reply.
    pub fn push(&self, reply: ScriptedReply) -> &Self {
        self.script.borrow_mut().replies.push_back(reply);
        self
    }

    /// Queues a response with `status`, a JSON content type and `body`.
    pub fn push_json(&self, status: u16, body: impl Into<String>) -> &Self {
        self.push(ScriptedReply::Respond(HttpResponse {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            body: body.into(),
        }))
    }

    /// Queues a transport failure.
    pub fn push_error(&self, error: TransportError) -> &Self {
        self.push(ScriptedReply::Fail(error))
    }

    /// Every request received so far, in order.
    pub fn sent(&self) -> Vec<SentRequest> {
        self.script.borrow().sent.clone()
    }

    /// Every request received so far, without timeouts.
    pub fn requests(&self) -> Vec<HttpRequest> {
        self.script
            .borrow()
            .sent
            .iter()
            .map(|s| s.request.clone())
            .collect()
    }

    /// Scripted replies not yet consumed.
    pub fn pending(&self) -> usize {
        self.script.borrow().replies.len()
    }
}

impl ScriptedTransport {
    /// Queues a 2xx event stream delivered in `chunks`.
    pub fn push_stream(&self, chunks: Vec<Vec<u8>>) -> &Self {
        self.push(ScriptedReply::Stream {
            headers: vec![("content-type".into(), "text/event-stream".into())],
            chunks,
            cut: false,
            cancel_after: None,
        })
    }

    fn next_reply(&self, request: &HttpRequest, timeout_ms: u64) -> Option<ScriptedReply> {
        let mut script = self.script.borrow_mut();
        script.sent.push(SentRequest {
            request: request.clone(),
            timeout_ms,
        });
        script.replies.pop_front()
    }
}

impl Transport for ScriptedTransport {
    async fn send_streaming(
        &self,
        request: &HttpRequest,
        timeout_ms: u64,
        cancel: &CancelToken,
        on_chunk: &mut dyn FnMut(&[u8], Option<f64>),
    ) -> Result<HttpResponse, TransportError> {
        if cancel.is_cancelled() {
            return Err(TransportError::Cancelled);
        }
        let Some(ScriptedReply::Stream {
            headers,
            chunks,
            cut,
            cancel_after,
        }) = self.script.borrow().replies.front().cloned()
        else {
            let mut response = self.send(request, timeout_ms, cancel).await?;
            if (200..300).contains(&response.status) {
                on_chunk(std::mem::take(&mut response.body).as_bytes(), None);
            }
            return Ok(response);
        };
        self.next_reply(request, timeout_ms);
        for (n, chunk) in chunks.iter().enumerate() {
            if cancel_after == Some(n) {
                cancel.cancel();
                return Err(TransportError::Cancelled);
            }
            on_chunk(chunk, None);
        }
        if cut {
            return Err(TransportError::Network("the connection was reset".into()));
        }
        Ok(HttpResponse {
            status: 200,
            headers,
            body: String::new(),
        })
    }

    async fn send(
        &self,
        request: &HttpRequest,
        timeout_ms: u64,
        cancel: &CancelToken,
    ) -> Result<HttpResponse, TransportError> {
        if cancel.is_cancelled() {
            return Err(TransportError::Cancelled);
        }
        let next = self.next_reply(request, timeout_ms);
        match next {
            Some(ScriptedReply::Respond(response)) => Ok(response),
            Some(ScriptedReply::Fail(error)) => Err(error),
            Some(ScriptedReply::CancelInFlight) => {
                cancel.cancel();
                Err(TransportError::Cancelled)
            }
            Some(ScriptedReply::Stream {
                headers,
                chunks,
                cut,
                ..
            }) => {
                if cut {
                    return Err(TransportError::Network("the connection was reset".into()));
                }
                Ok(HttpResponse {
                    status: 200,
                    headers,
                    body: String::from_utf8_lossy(&chunks.concat()).into_owned(),
                })
            }
            None => match &self.script.borrow().responder {
                Some(responder) => responder(request),
                None => Err(TransportError::Network(format!(
                    "scripted transport has no reply left for request {} to {}",
                    self.script.borrow().sent.len(),
                    request.url
                ))),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_body_buffer_reads_up_to_its_limit_and_no_further() {
        let mut body = BodyBuffer::new(8, None).expect("no declared length");
        body.push(b"\xEF\xBB\xBFabc").expect("6 bytes fit");
        body.push(b"de").expect("8 bytes fit exactly");
        assert_eq!(
            body.push(b"f"),
            Err(TransportError::TooLarge { limit_bytes: 8 })
        );
        assert_eq!(body.into_text(), "abcde");

        let mut bad_utf8 = BodyBuffer::new(8, Some("3")).expect("3 bytes declared");
        bad_utf8.push(b"a\xFFb").expect("fits");
        assert_eq!(bad_utf8.into_text(), "a\u{FFFD}b");
        assert!(BodyBuffer::new(8, Some("not a number")).is_ok());
        assert_eq!(
            BodyBuffer::new(8, Some(" 9 ")).err(),
            Some(TransportError::TooLarge { limit_bytes: 8 })
        );
    }

    fn block_on<F: std::future::Future>(fut: F) -> F::Output {
        let waker = std::task::Waker::noop();
        let mut cx = std::task::Context::from_waker(waker);
        let mut fut = std::pin::pin!(fut);
        match fut.as_mut().poll(&mut cx) {
            std::task::Poll::Ready(v) => v,
            std::task::Poll::Pending => panic!("scripted transport futures are always ready"),
        }
    }

    fn req(url: &str) -> HttpRequest {
        HttpRequest {
            method: "POST".into(),
            url: url.into(),
            headers: vec![],
            body: "{}".into(),
        }
    }

    #[test]
    fn replays_the_script_in_order_and_records_requests() {
        let t = ScriptedTransport::new();
        t.push_json(200, "{\"ok\":true}")
            .push_error(TransportError::Timeout)
            .push(ScriptedReply::CancelInFlight);
        let record = t.clone();
        let token = CancelToken::new();
        let first = block_on(t.send(&req("https://a/1"), 500, &token));
        assert_eq!(
            first.map(|r| (r.status, r.body)),
            Ok((200, "{\"ok\":true}".into()))
        );
        assert_eq!(
            block_on(t.send(&req("https://a/2"), 600, &token)),
            Err(TransportError::Timeout)
        );
        assert_eq!(
            block_on(t.send(&req("https://a/3"), 700, &token)),
            Err(TransportError::Cancelled)
        );
        assert!(token.is_cancelled());
        // Already cancelled: nothing is sent or consumed.
        assert_eq!(
            block_on(t.send(&req("https://a/4"), 800, &token)),
            Err(TransportError::Cancelled)
        );
        let sent = record.sent();
        let urls: Vec<&str> = sent.iter().map(|s| s.request.url.as_str()).collect();
        assert_eq!(urls, ["https://a/1", "https://a/2", "https://a/3"]);
        assert_eq!(sent[1].timeout_ms, 600);
        assert_eq!(record.pending(), 0);
    }

    #[test]
    fn exhausted_script_fails_or_falls_back_to_the_responder() {
        let t = ScriptedTransport::new();
        let err = block_on(t.send(&req("https://a/x"), 1, &CancelToken::new()));
        assert!(
            matches!(err, Err(TransportError::Network(m)) if m.contains("no reply left for request 1"))
        );

        let t = ScriptedTransport::with_responder(|r| {
            Ok(HttpResponse {
                status: 201,
                headers: vec![],
                body: r.url.clone(),
            })
        });
        t.push_json(500, "first");
        let token = CancelToken::new();
        let a = block_on(t.send(&req("u1"), 1, &token)).map(|r| r.status);
        let b = block_on(t.send(&req("u2"), 1, &token)).map(|r| r.body);
        assert_eq!((a, b), (Ok(500), Ok("u2".to_string())));
    }
}
