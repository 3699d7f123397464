//! The browser edge: storage, downloads and file reading (HTTP and the clock join as they land).
//!
//! Everything here wraps a browser API behind a small typed error, so the UI never handles a raw
//! `JsValue` and core never sees the browser.

pub mod chunk_pump;
pub mod clock;
pub mod download;
pub mod file;
pub mod http;
pub mod idb;
pub mod locks;
pub mod preconnect;
pub mod save_file;
pub mod spool_file;
pub mod storage;

use wasm_bindgen::JsValue;

/// A readable reason from a thrown JavaScript value: `Name: message` for `Error`s and
/// `DOMException`s, the string itself for strings, a debug rendering otherwise.
pub(crate) fn js_reason(value: &JsValue) -> String {
    if let Some(text) = value.as_string() {
        return text;
    }
    let field = |name: &str| {
        js_sys::Reflect::get(value, &JsValue::from_str(name))
            .ok()
            .and_then(|v| v.as_string())
            .filter(|s| !s.is_empty())
    };
    match (field("name"), field("message")) {
        (Some(name), Some(message)) => format!("{name}: {message}"),
        (None, Some(message)) => message,
        (Some(name), None) => name,
        (None, None) => format!("{value:?}"),
    }
}
