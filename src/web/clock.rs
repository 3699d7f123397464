//! The browser's [`Clock`]: `Date.now()` and `setTimeout`.

use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

use crate::core::clock::Clock;

/// Wall-clock time and waiting in the page.
#[derive(Debug, Clone, Copy, Default)]
pub struct BrowserClock;

impl BrowserClock {
    /// The page's clock.
    pub fn new() -> Self {
        Self
    }
}

impl Clock for BrowserClock {
    fn now_ms(&self) -> f64 {
        js_sys::Date::now()
    }

    async fn sleep(&self, ms: u64) {
        // setTimeout takes an i32; longer waits are clamped (about 24.8 days).
        let delay = i32::try_from(ms).unwrap_or(i32::MAX);
        let promise = js_sys::Promise::new(&mut |resolve, _reject| {
            let scheduled = web_sys::window()
                .map(|w| w.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, delay));
            // Without a window (never the case for this app's page) there is no timer to wait
            // on; resolve at once rather than hang forever.
            if !matches!(scheduled, Some(Ok(_))) {
                let _ = resolve.call0(&wasm_bindgen::JsValue::UNDEFINED);
            }
        });
        // The promise only ever resolves.
        let _ = JsFuture::from(promise).await;
    }
}

/// Resolves once the next frame has been painted: work started after it does not hold that
/// frame back.
pub async fn after_next_paint() {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        let now = resolve.clone();
        // A timeout queued from inside the frame callback runs after that frame is painted.
        let after_paint = Closure::once_into_js(move || {
            if let Some(window) = web_sys::window() {
                let _ = window.set_timeout_with_callback(resolve.unchecked_ref());
            }
        });
        let queued = web_sys::window()
            .map(|w| {
                w.request_animation_frame(after_paint.unchecked_ref())
                    .is_ok()
            })
            .unwrap_or(false);
        if !queued {
            let _ = now.call0(&wasm_bindgen::JsValue::NULL);
        }
    });
    let _ = JsFuture::from(promise).await;
}
