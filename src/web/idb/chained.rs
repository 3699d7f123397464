//! Requests chained from success handlers, for the records kept beside the data they sum (the
//! cost roll-ups' progress, the run counts): such a record is changed in the transaction of the
//! change it follows, and a request of it that fails must never abort that change.

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::IdbRequest;

/// Calls `then` with the result of `request` once it succeeds. When it fails, the failure is
/// kept from aborting the transaction and `failed` runs instead (it drops the derived record,
/// so that the next read builds it again). One handler serves both events, so it is called
/// once and freed either way.
pub(super) fn on_settled(
    request: &IdbRequest,
    then: impl FnOnce(JsValue) + 'static,
    failed: impl FnOnce() + 'static,
) {
    let settled = request.clone();
    let handler = Closure::once_into_js(move |event: web_sys::Event| {
        if event.type_() == "error" {
            event.prevent_default();
            event.stop_propagation();
            failed();
        } else {
            then(settled.result().unwrap_or(JsValue::UNDEFINED));
        }
    });
    request.set_onsuccess(Some(handler.unchecked_ref()));
    request.set_onerror(Some(handler.unchecked_ref()));
}
