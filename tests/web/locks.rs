//! Tab locks (the Web Locks API) in a real browser: a held lock is refused to every other
//! request, and dropping it hands it back.

use js_sys::{Function, Promise, Reflect};
use trialogue::web::locks::{batch_lock_name, claim, run_lock_name, try_hold, Claim};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::wasm_bindgen_test;

/// Asks for `name` the way a waiting tab would (`navigator.locks.request` with no options, which
/// the browser queues until the holder lets go) and resolves once that request has been granted
/// and has let the lock go again: whether it was granted a lock.
fn queued_request(name: &str) -> JsFuture {
    let locks = Reflect::get(
        &web_sys::window().expect("a window").navigator(),
        &"locks".into(),
    )
    .expect("navigator.locks");
    let request: Function = Reflect::get(&locks, &"request".into())
        .expect("navigator.locks.request")
        .unchecked_into();
    let callback =
        Closure::once_into_js(|lock: JsValue| -> JsValue { JsValue::from_bool(!lock.is_null()) });
    let promise: Promise = request
        .call2(&locks, &JsValue::from_str(name), &callback)
        .expect("a lock request")
        .unchecked_into();
    JsFuture::from(promise)
}

#[wasm_bindgen_test]
async fn a_held_lock_is_refused_to_others_and_listed_until_dropped() {
    let name = run_lock_name("20261124T000000Z-locktest");
    let held = try_hold(&name)
        .await
        .unwrap()
        .expect("a fresh lock is free");
    assert_eq!(held.name(), name);
    assert!(
        try_hold(&name).await.unwrap().is_none(),
        "a second request for a held lock must be refused"
    );
    assert!(matches!(claim(&name).await, Claim::Taken));

    // A request that waits is queued behind the holder and granted once the lock is dropped:
    // the browser's own event, no timer. (Were it never handed back, this would never settle
    // and the test would time out.)
    let waiting = queued_request(&name);
    drop(held);
    let granted = waiting.await.expect("the queued request settles");
    assert_eq!(
        granted.as_bool(),
        Some(true),
        "a dropped lock must be handed on"
    );
    // That request has let it go in turn: the lock is free to claim.
    assert!(
        matches!(claim(&name).await, Claim::Held(_)),
        "a dropped lock must become free again"
    );
}

#[wasm_bindgen_test]
async fn locks_of_runs_and_batches_are_distinct() {
    let run = try_hold(&run_lock_name("x")).await.unwrap().unwrap();
    let batch = try_hold(&batch_lock_name("x")).await.unwrap();
    assert!(
        batch.is_some(),
        "a run and a batch with the same id must not share a lock"
    );
    assert_ne!(run.name(), batch.as_ref().unwrap().name());
}
