//! The browser transport on a long-lived cancel token: each request's abort is registered on
//! the token only while the request is in flight.

use trialogue::core::cancel::CancelToken;
use trialogue::core::llm::chat::HttpRequest;
use trialogue::core::llm::transport::{Transport, TransportError, MAX_RESPONSE_BYTES};
use trialogue::web::http::{read_body_capped, BrowserTransport};
use wasm_bindgen_test::wasm_bindgen_test;

#[wasm_bindgen_test]
async fn requests_leave_no_abort_behind_on_a_shared_token() {
    let token = CancelToken::new();
    let transport = BrowserTransport::new();
    // A `data:` URL answers without a server: fetch reads it like any other response.
    let request = HttpRequest {
        method: "GET".into(),
        url: "data:application/json,%7B%22ok%22%3Atrue%7D".into(),
        headers: Vec::new(),
        body: String::new(),
    };
    for _ in 0..200 {
        let response = transport
            .send(&request, 10_000, &token)
            .await
            .expect("a data: URL is fetched");
        assert_eq!(response.body, r#"{"ok":true}"#);
    }
    assert_eq!(token.pending_callbacks(), 0);
}

#[wasm_bindgen_test]
async fn a_streamed_body_arrives_in_chunks_that_add_up_to_it_and_leaves_the_body_empty() {
    let token = CancelToken::new();
    let transport = BrowserTransport::new();
    let events = "data: {\"a\":1}\n\ndata: [DONE]\n\n";
    let encoded: String = events.bytes().map(|b| format!("%{b:02X}")).collect();
    let request = HttpRequest {
        method: "GET".into(),
        url: format!("data:text/event-stream,{encoded}"),
        headers: Vec::new(),
        body: String::new(),
    };
    let mut received = Vec::new();
    let mut chunks = 0;
    let response = transport
        .send_streaming(&request, 10_000, &token, &mut |chunk, _| {
            chunks += 1;
            received.extend_from_slice(chunk);
        })
        .await
        .expect("a data: URL is fetched");
    assert_eq!(response.status, 200);
    assert_eq!(response.body, "");
    assert!(chunks >= 1);
    assert_eq!(String::from_utf8(received).unwrap(), events);
    assert_eq!(token.pending_callbacks(), 0);
}

/// A response of `len` bytes of `x`, built in the page (no `Content-Length` header, so the
/// reader cannot refuse it up front and must count while it streams).
fn response_of(len: usize, headers: &[(&str, &str)]) -> web_sys::Response {
    let bytes = js_sys::Uint8Array::new_with_length(len as u32);
    bytes.fill(b'x', 0, len as u32);
    let parts = js_sys::Array::of1(&bytes);
    let blob = web_sys::Blob::new_with_u8_array_sequence(&parts).expect("a blob");
    let init = web_sys::ResponseInit::new();
    let h = web_sys::Headers::new().expect("headers");
    for (name, value) in headers {
        h.append(name, value).expect("a header");
    }
    init.set_headers(&h);
    web_sys::Response::new_with_opt_blob_and_init(Some(&blob), &init).expect("a response")
}

#[wasm_bindgen_test]
async fn a_body_is_read_up_to_the_limit_and_refused_beyond_it() {
    let limit = 64 * 1024;
    let fits = read_body_capped(&response_of(limit, &[]), limit).await;
    assert_eq!(fits.map(|b| b.len()), Ok(limit));
    let streamed = read_body_capped(&response_of(limit + 1, &[]), limit).await;
    assert_eq!(
        streamed,
        Err(TransportError::TooLarge { limit_bytes: limit })
    );
    // A declared length past the limit is refused before the body is read.
    let declared = response_of(10, &[("content-length", "70000")]);
    assert_eq!(
        read_body_capped(&declared, limit).await,
        Err(TransportError::TooLarge { limit_bytes: limit })
    );
    assert!(!declared.body_used(), "nothing was read");
}

#[wasm_bindgen_test]
async fn the_transport_refuses_a_reply_longer_than_the_cap() {
    let too_long = response_of(MAX_RESPONSE_BYTES + 1, &[]);
    let blob = wasm_bindgen_futures::JsFuture::from(too_long.blob().expect("blob()"))
        .await
        .expect("the blob");
    let url = web_sys::Url::create_object_url_with_blob(&blob.into()).expect("a blob: URL");
    let request = HttpRequest {
        method: "GET".into(),
        url: url.clone(),
        headers: Vec::new(),
        body: String::new(),
    };
    let sent = BrowserTransport::new()
        .send(&request, 10_000, &CancelToken::new())
        .await;
    web_sys::Url::revoke_object_url(&url).expect("revoked");
    assert_eq!(
        sent.map(|r| r.body.len()),
        Err(TransportError::TooLarge {
            limit_bytes: MAX_RESPONSE_BYTES
        })
    );
}

/// A stream made in the page that enqueues `chunks` at once when it starts, then closes, or
/// (with `cut`) errors as a dropped connection does.
fn stream_of(chunks: &[&str], cut: bool) -> web_sys::ReadableStreamDefaultReader {
    use wasm_bindgen::{JsCast, JsValue};
    let chunks: Vec<Vec<u8>> = chunks.iter().map(|c| c.as_bytes().to_vec()).collect();
    let start = wasm_bindgen::closure::Closure::once_into_js(move |controller: JsValue| {
        let call = |name: &str, arg: &JsValue| {
            let method: js_sys::Function = js_sys::Reflect::get(&controller, &name.into())
                .unwrap()
                .unchecked_into();
            method.call1(&controller, arg).unwrap();
        };
        for chunk in &chunks {
            call(
                "enqueue",
                &js_sys::Uint8Array::from(chunk.as_slice()).into(),
            );
        }
        if cut {
            call("error", &js_sys::TypeError::new("network error").into());
        } else {
            call("close", &JsValue::UNDEFINED);
        }
    });
    let source = js_sys::Object::new();
    js_sys::Reflect::set(&source, &"start".into(), &start).unwrap();
    let stream = web_sys::ReadableStream::new_with_underlying_source(&source).unwrap();
    stream.get_reader().unchecked_into()
}

#[wasm_bindgen_test]
async fn a_pumped_stream_hands_its_chunks_over_gathered_in_order_and_ends_with_the_stream() {
    use trialogue::web::chunk_pump::pump_chunks;
    let pieces: Vec<String> = (0..60).map(|i| format!("data: {i}\n\n")).collect();
    let refs: Vec<&str> = pieces.iter().map(String::as_str).collect();
    let mut batches = 0;
    let mut received = Vec::new();
    let mut times = Vec::new();
    let ended = pump_chunks(
        stream_of(&refs, false),
        MAX_RESPONSE_BYTES,
        &mut |batch, arrivals| {
            batches += 1;
            // Each piece of a batch says where it ends, the last at the batch's end.
            assert_eq!(arrivals.last().map(|a| a.0), Some(batch.len()));
            times.extend(arrivals.iter().map(|a| a.1));
            received.extend_from_slice(batch);
        },
    )
    .await;
    assert!(ended.is_ok());
    assert_eq!(String::from_utf8(received).unwrap(), pieces.concat());
    // Every piece kept the time it came, in order.
    assert!(!times.is_empty() && times.windows(2).all(|w| w[0] <= w[1]));
    // The first chunk goes at once; the others came within one gathering interval.
    assert!(batches <= 3, "60 chunks arrived in {batches} batches");
}

#[wasm_bindgen_test]
async fn a_stream_cut_mid_body_fails_after_handing_over_what_came() {
    use trialogue::web::chunk_pump::{pump_chunks, PumpFailure};
    let mut received = Vec::new();
    let ended = pump_chunks(
        stream_of(&["data: 1\n\n", "data: 2\n\n"], true),
        1024,
        &mut |b, _| received.extend_from_slice(b),
    )
    .await;
    assert!(matches!(ended, Err(PumpFailure::Js(_))));
    // What arrived before the cut may or may not have been read first; never anything else.
    assert!("data: 1\n\ndata: 2\n\n".as_bytes().starts_with(&received));
}

#[wasm_bindgen_test]
async fn a_pumped_stream_past_its_limit_is_refused() {
    use trialogue::web::chunk_pump::{pump_chunks, PumpFailure};
    let ended = pump_chunks(stream_of(&["12345", "6789"], false), 8, &mut |_, _| {}).await;
    assert!(matches!(
        ended,
        Err(PumpFailure::Transport(TransportError::TooLarge {
            limit_bytes: 8
        }))
    ));
}
