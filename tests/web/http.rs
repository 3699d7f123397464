//! The browser transport on a long-lived cancel token: each request's abort is registered on
//! the token only while the request is in flight.

use trialogue::core::cancel::CancelToken;
use trialogue::core::llm::chat::HttpRequest;
use trialogue::core::llm::transport::Transport;
use trialogue::web::http::BrowserTransport;
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
        .send_streaming(&request, 10_000, &token, &mut |chunk| {
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
