//! Marks of the loop's phases on the page's performance timeline, for `bench/loop.mjs` to say
//! where the time between one reply's last byte and the next request goes.
//!
//! Off unless the page was loaded with `localStorage["trialogue.bench.phases"] == "1"` (read
//! once per page load): a mark then costs one read of a thread-local flag, and nothing reaches
//! the timeline a user's browser keeps.

use std::cell::Cell;

thread_local! {
    static ENABLED: Cell<Option<bool>> = const { Cell::new(None) };
}

/// The `localStorage` key that turns the marks on.
pub const SWITCH: &str = "trialogue.bench.phases";

fn enabled() -> bool {
    ENABLED.with(|flag| match flag.get() {
        Some(on) => on,
        None => {
            let on = web_sys::window()
                .and_then(|w| w.local_storage().ok().flatten())
                .and_then(|s| s.get_item(SWITCH).ok().flatten())
                .is_some_and(|v| v == "1");
            flag.set(Some(on));
            on
        }
    })
}

/// Puts a mark named `name` on the timeline, when the bench asked for marks.
pub fn mark(name: &str) {
    if !enabled() {
        return;
    }
    if let Some(performance) = web_sys::window().and_then(|w| w.performance()) {
        let _ = performance.mark(name);
    }
}
