//! Which tab owns a run or a batch, through the Web Locks API.
//!
//! IndexedDB is shared by every tab of the app, but a run's `running` status only says that
//! some page started it. When the app loads it turns runs and batches left `running` into
//! `interrupted`; without knowing whether another open tab is still driving them, it would cut
//! off that tab's live work. A tab therefore holds an exclusive lock named after each run or
//! batch it drives, for as long as it drives it. The browser releases a tab's locks when the
//! tab closes, reloads or crashes, so a held lock means live work and a free one means work a
//! closed page left behind.
//!
//! `web-sys` only exposes `navigator.locks` behind its unstable-API cfg, so the two calls used
//! here are declared below. Browsers without the API (and pages outside a secure context,
//! where it is hidden) get [`LockError::Unsupported`]; callers then fall back to treating no
//! work as live elsewhere, which is what a single tab needs.

use js_sys::{Array, Function, Object, Promise, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

use crate::core::driver::{self, TabLocks, Work};

use super::js_reason;

#[wasm_bindgen]
extern "C" {
    /// `navigator.locks`.
    type LockManager;

    /// `LockManager.request(name, options, callback)`.
    #[wasm_bindgen(method, catch, js_name = request)]
    fn request_with_options(
        this: &LockManager,
        name: &str,
        options: &Object,
        callback: &Function,
    ) -> Result<Promise, JsValue>;
}

/// Why a lock could not be taken or listed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LockError {
    /// The page has no `navigator.locks` (an old browser, or a page not served from
    /// `https:`, `localhost` or `127.0.0.1`).
    #[error("this browser gives the page no Web Locks, so other open tabs of the app cannot be told apart from closed ones; keep the app open in one tab")]
    Unsupported,
    /// The browser refused the request.
    #[error("the browser refused a tab lock: {reason}")]
    Failed {
        /// What the browser said.
        reason: String,
    },
}

/// The lock name for the run `run_id`.
pub fn run_lock_name(run_id: &str) -> String {
    format!("trialogue.run.{run_id}")
}

/// The lock name for the batch `batch_id`.
pub fn batch_lock_name(batch_id: &str) -> String {
    format!("trialogue.batch.{batch_id}")
}

/// An exclusive lock this tab holds until the value is dropped.
#[derive(Debug)]
pub struct TabLock {
    name: String,
    release: Function,
}

impl TabLock {
    /// The lock's name.
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl Drop for TabLock {
    fn drop(&mut self) {
        // Resolving the promise the lock callback returned hands the lock back.
        let _ = self.release.call0(&JsValue::NULL);
    }
}

fn lock_manager() -> Result<LockManager, LockError> {
    let window = web_sys::window().ok_or(LockError::Unsupported)?;
    let locks = Reflect::get(&window.navigator(), &JsValue::from_str("locks"))
        .map_err(|_| LockError::Unsupported)?;
    if locks.is_undefined() || locks.is_null() {
        return Err(LockError::Unsupported);
    }
    Ok(locks.unchecked_into())
}

fn failed(value: &JsValue) -> LockError {
    LockError::Failed {
        reason: js_reason(value),
    }
}

/// A promise and the function that resolves it.
fn deferred() -> (Promise, Function) {
    let mut resolve = None;
    let promise = Promise::new(&mut |res, _rej| resolve = Some(res));
    let resolve = resolve.expect("the Promise executor runs at once");
    (promise, resolve)
}

/// Takes the exclusive lock `name` if no tab (this one included) holds it. `Ok(None)` means
/// another holder has it: the run or batch is live elsewhere.
pub async fn try_hold(name: &str) -> Result<Option<TabLock>, LockError> {
    let manager = lock_manager()?;
    let (held_until, release) = deferred();
    let (granted, grant) = deferred();
    let callback = Closure::once_into_js(move |lock: JsValue| -> JsValue {
        let got = !lock.is_null();
        let _ = grant.call1(&JsValue::NULL, &JsValue::from_bool(got));
        if got {
            held_until.into()
        } else {
            JsValue::UNDEFINED
        }
    });
    let options = Object::new();
    Reflect::set(&options, &"ifAvailable".into(), &JsValue::TRUE).map_err(|e| failed(&e))?;
    let request = manager
        .request_with_options(name, &options, callback.unchecked_ref())
        .map_err(|e| failed(&e))?;
    // The request settles only once the lock is handed back, or rejects if the browser refuses
    // it before calling back; racing it with the callback's answer covers both.
    let outcome = Promise::race(&Array::of2(&granted, &request));
    let got = JsFuture::from(outcome).await.map_err(|e| failed(&e))?;
    if got.as_bool() == Some(true) {
        Ok(Some(TabLock {
            name: name.to_string(),
            release,
        }))
    } else {
        Ok(None)
    }
}

/// What asking for a lock found (see [`driver::Claim`]).
pub type Claim = driver::Claim<TabLock>;

/// The lock name of `work`.
pub fn lock_name(work: &Work) -> String {
    match work {
        Work::Run(run_id) => run_lock_name(run_id),
        Work::Batch(batch_id) => batch_lock_name(batch_id),
    }
}

/// This tab's Web Locks, as the run and batch drivers take them.
#[derive(Debug, Clone, Copy, Default)]
pub struct WebLocks;

impl TabLocks for WebLocks {
    type Guard = TabLock;

    async fn claim(&self, work: &Work) -> Claim {
        claim(&lock_name(work)).await
    }
}

/// Asks for the exclusive lock `name` without waiting ([`try_hold`]), folding a browser
/// without Web Locks into [`Claim::Unlocked`].
pub async fn claim(name: &str) -> Claim {
    match try_hold(name).await {
        Ok(Some(lock)) => Claim::Held(lock),
        Ok(None) => Claim::Taken,
        Err(_) => Claim::Unlocked,
    }
}
