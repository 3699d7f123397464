//! Helpers the browser tests share.

/// Lets every task woken so far run (the browser's microtask queue turns once).
pub async fn next_tick() {
    let resolved = js_sys::Promise::resolve(&wasm_bindgen::JsValue::NULL);
    wasm_bindgen_futures::JsFuture::from(resolved)
        .await
        .unwrap();
}
