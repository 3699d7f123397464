//! The browser's [`Transport`]: `fetch` through gloo-net, aborted by an `AbortController` when the
//! run is cancelled or the request times out.
//!
//! Dropping a fetch future does not stop the request, so both cancellation and the timeout go
//! through the controller; the fetch then rejects with an `AbortError`, which is reported as
//! [`TransportError::Cancelled`] or [`TransportError::Timeout`] depending on which fired.
//!
//! A streamed request reads a successful body from the response's `ReadableStream` as the
//! bytes arrive, handed over a few chunks at a time ([`super::chunk_pump`]); the same
//! controller aborts it mid-stream.
//!
//! The body is read as a stream and reading stops at [`MAX_RESPONSE_BYTES`]: `text()` would
//! hold any size the server sends.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use gloo_net::http::{Headers, Method, RequestBuilder};
use js_sys::Uint8Array;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{AbortController, ReadableStreamDefaultReader, ReadableStreamReadResult};

use crate::core::cancel::{CancelGuard, CancelToken};
use crate::core::llm::chat::{HttpRequest, HttpResponse};
use crate::core::llm::transport::{BodyBuffer, Transport, TransportError, MAX_RESPONSE_BYTES};

use super::chunk_pump::{pump_chunks, PumpFailure};
use crate::core::llm::chunk_gather::Arrival;

/// Where a streamed body's chunks go.
type ChunkSink<'a> = &'a mut dyn FnMut(&[u8], Option<f64>);

/// Sends requests with the page's `fetch`.
#[derive(Debug, Clone, Copy, Default)]
pub struct BrowserTransport;

impl BrowserTransport {
    /// A transport using the page's `fetch`.
    pub fn new() -> Self {
        Self
    }
}

impl Transport for BrowserTransport {
    async fn send(
        &self,
        request: &HttpRequest,
        timeout_ms: u64,
        cancel: &CancelToken,
    ) -> Result<HttpResponse, TransportError> {
        self.exchange(request, timeout_ms, cancel, None).await
    }

    async fn send_streaming(
        &self,
        request: &HttpRequest,
        timeout_ms: u64,
        cancel: &CancelToken,
        on_chunk: &mut dyn FnMut(&[u8], Option<f64>),
    ) -> Result<HttpResponse, TransportError> {
        self.exchange(request, timeout_ms, cancel, Some(on_chunk))
            .await
    }
}

impl BrowserTransport {
    /// One request: the body read whole, or (with `on_chunk`, on 2xx) piece by piece.
    async fn exchange(
        &self,
        request: &HttpRequest,
        timeout_ms: u64,
        cancel: &CancelToken,
        on_chunk: Option<ChunkSink<'_>>,
    ) -> Result<HttpResponse, TransportError> {
        if cancel.is_cancelled() {
            return Err(TransportError::Cancelled);
        }
        let controller = AbortController::new().map_err(|e| {
            TransportError::Network(format!("cannot create an AbortController: {e:?}"))
        })?;
        let abort = Abort::arm(&controller, timeout_ms, cancel);

        let result = fetch(request, &controller, on_chunk).await;
        // Which of cancel / timeout fired decides how an abort is reported.
        let timed_out = abort.timed_out.get();
        drop(abort);
        result.map_err(|failure| match failure {
            _ if cancel.is_cancelled() => TransportError::Cancelled,
            _ if timed_out => TransportError::Timeout,
            // NOTE: fetch rejects with a bare TypeError for every failure before a response
            // (offline, DNS, refused connection, CORS); the page cannot tell them apart.
            // https://fetch.spec.whatwg.org/#concept-network-error
            Failure::Js { name, message } if name == "TypeError" => TransportError::Network(
                format!("{message} (no response; a CORS block looks the same to the page)"),
            ),
            Failure::Js { name, message } => TransportError::Network(format!("{name}: {message}")),
            Failure::Invalid(message) => TransportError::Network(message),
            Failure::Transport(error) => error,
        })
    }
}

/// Why `fetch` failed, before we know whether an abort was ours.
enum Failure {
    /// The browser rejected with an error (`TypeError` for network and CORS failures,
    /// `AbortError` for aborts).
    Js { name: String, message: String },
    /// The request could not be built (a header the browser refuses, an unknown method).
    Invalid(String),
    /// Reading the response failed for a reason of our own (its body is too long).
    Transport(TransportError),
}

async fn fetch(
    request: &HttpRequest,
    controller: &AbortController,
    on_chunk: Option<ChunkSink<'_>>,
) -> Result<HttpResponse, Failure> {
    let method = Method::from_bytes(request.method.as_bytes())
        .map_err(|_| Failure::Invalid(format!("invalid HTTP method {:?}", request.method)))?;
    let raw = web_sys::Headers::new()
        .map_err(|e| Failure::Invalid(format!("cannot create request headers: {e:?}")))?;
    for (name, value) in &request.headers {
        // web_sys's append reports a bad header (e.g. a key pasted with a line break) as an
        // error; gloo's own `header()` would throw instead.
        raw.append(name, value).map_err(|_| {
            Failure::Invalid(format!(
                "the browser refused the header {name:?}: check the API key and custom headers \
                 for line breaks or non-ASCII characters"
            ))
        })?;
    }
    let builder = RequestBuilder::new(&request.url)
        .method(method)
        .headers(Headers::from_raw(raw))
        .abort_signal(Some(&controller.signal()));
    // A GET or HEAD request must not carry a body, even an empty one.
    let built = if request.body.is_empty() {
        builder.build()
    } else {
        builder.body(request.body.as_str())
    };
    let built = built.map_err(gloo_failure)?;
    let response = built.send().await.map_err(gloo_failure)?;
    let status = response.status();
    let headers = response
        .headers()
        .entries()
        .map(|(k, v)| (k.to_ascii_lowercase(), v))
        .collect();
    let body = match (on_chunk, response.body()) {
        (Some(on_chunk), Some(stream)) if (200..300).contains(&status) => {
            read_chunks(&stream, MAX_RESPONSE_BYTES, on_chunk).await?;
            String::new()
        }
        _ => read_body(&response.into(), MAX_RESPONSE_BYTES).await?,
    };
    Ok(HttpResponse {
        status,
        headers,
        body,
    })
}

/// Hands the chunks of `stream` to `on_chunk` as they arrive, several at a time (see
/// [`super::chunk_pump`]), until the stream ends or more than `limit` bytes came (then the
/// stream is cancelled and the read fails with [`TransportError::TooLarge`], as a whole body's
/// read does). A stream the connection drops rejects the pending read, which is reported as
/// the failure it is.
async fn read_chunks(
    stream: &web_sys::ReadableStream,
    limit: usize,
    on_chunk: &mut dyn FnMut(&[u8], Option<f64>),
) -> Result<(), Failure> {
    let reader: ReadableStreamDefaultReader = stream.get_reader().unchecked_into();
    // Each piece goes on with the time it came, however late its batch is handed over.
    let mut on_batch = |batch: &[u8], arrivals: &[Arrival]| {
        let mut start = 0;
        for &(end, arrived_ms) in arrivals {
            on_chunk(&batch[start..end], Some(arrived_ms));
            start = end;
        }
    };
    pump_chunks(reader, limit, &mut on_batch)
        .await
        .map_err(|failure| match failure {
            PumpFailure::Js(value) => js_failure(value),
            PumpFailure::Transport(error) => Failure::Transport(error),
        })
}

/// Reads `response`'s body as text, chunk by chunk, up to `limit` bytes; past it (or when its
/// `Content-Length` says so first) the stream is cancelled, which closes the connection, and
/// the read fails with [`TransportError::TooLarge`]. Other read failures are network errors.
pub async fn read_body_capped(
    response: &web_sys::Response,
    limit: usize,
) -> Result<String, TransportError> {
    read_body(response, limit)
        .await
        .map_err(|failure| match failure {
            Failure::Transport(error) => error,
            Failure::Js { name, message } => TransportError::Network(format!("{name}: {message}")),
            Failure::Invalid(message) => TransportError::Network(message),
        })
}

async fn read_body(response: &web_sys::Response, limit: usize) -> Result<String, Failure> {
    let declared = response.headers().get("content-length").ok().flatten();
    let mut body = BodyBuffer::new(limit, declared.as_deref()).map_err(Failure::Transport)?;
    // No body at all (204, a HEAD request) reads as empty, as `text()` does.
    let Some(stream) = response.body() else {
        return Ok(String::new());
    };
    let reader: ReadableStreamDefaultReader = stream.get_reader().unchecked_into();
    loop {
        let read = JsFuture::from(reader.read()).await.map_err(js_failure)?;
        let read: ReadableStreamReadResult = read.unchecked_into();
        if read.get_done().unwrap_or(true) {
            return Ok(body.into_text());
        }
        let chunk = Uint8Array::new(&read.get_value()).to_vec();
        if let Err(too_large) = body.push(&chunk) {
            // The rejection of an already-failing read is of no interest.
            let _ = reader.cancel();
            return Err(Failure::Transport(too_large));
        }
    }
}

/// A rejection from a stream read (an `AbortError` when the request is aborted mid-body).
fn js_failure(value: wasm_bindgen::JsValue) -> Failure {
    match value.dyn_ref::<js_sys::Error>() {
        Some(error) => Failure::Js {
            name: error.name().into(),
            message: error.message().into(),
        },
        None => Failure::Js {
            name: "Error".into(),
            message: format!("{value:?}"),
        },
    }
}

fn gloo_failure(error: gloo_net::Error) -> Failure {
    match error {
        gloo_net::Error::JsError(js) => Failure::Js {
            name: js.name,
            message: js.message,
        },
        other => Failure::Invalid(other.to_string()),
    }
}

/// Wires one request's abort: to the cancel token, and to a timer. Dropping it disarms both, so
/// a finished request neither keeps its controller alive in the token nor leaves a timer that
/// would call a dropped closure.
struct Abort {
    timed_out: Rc<Cell<bool>>,
    controller: Rc<RefCell<Option<AbortController>>>,
    timer: Option<(i32, Closure<dyn FnMut()>)>,
    /// Takes the abort off the token when the request is over (a batch's token is shared by
    /// every request of the batch).
    _cancel_registration: CancelGuard,
}

impl Abort {
    fn arm(controller: &AbortController, timeout_ms: u64, cancel: &CancelToken) -> Abort {
        let shared = Rc::new(RefCell::new(Some(controller.clone())));
        let timed_out = Rc::new(Cell::new(false));

        let on_cancel = shared.clone();
        let cancel_registration = cancel.on_cancel(move || {
            if let Some(c) = on_cancel.borrow_mut().take() {
                c.abort();
            }
        });

        let on_timeout = shared.clone();
        let flag = timed_out.clone();
        let closure = Closure::<dyn FnMut()>::new(move || {
            if let Some(c) = on_timeout.borrow_mut().take() {
                flag.set(true);
                c.abort();
            }
        });
        // setTimeout takes an i32; longer waits are clamped (about 24.8 days).
        let delay = i32::try_from(timeout_ms).unwrap_or(i32::MAX);
        let timer = web_sys::window().and_then(|w| {
            w.set_timeout_with_callback_and_timeout_and_arguments_0(
                closure.as_ref().unchecked_ref(),
                delay,
            )
            .ok()
        });
        Abort {
            timed_out,
            controller: shared,
            timer: timer.map(|handle| (handle, closure)),
            _cancel_registration: cancel_registration,
        }
    }
}

impl Drop for Abort {
    fn drop(&mut self) {
        self.controller.borrow_mut().take();
        if let Some((handle, _closure)) = self.timer.take() {
            if let Some(window) = web_sys::window() {
                window.clear_timeout_with_handle(handle);
            }
        }
    }
}
