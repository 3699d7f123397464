//! Work a session runs in the background (a run, a batch): started by a page, it goes on
//! whatever page is shown, and the pages see whether it is going.
//!
//! The work's future is made where it is started, by a page, and only spawned here: the app's
//! root holds no reference to the work's code, which stays in the page's chunk of the split
//! wasm rather than in the first load.

use std::future::Future;

use leptos::prelude::*;
use leptos::task::spawn_local;

/// Runs a session's work in the background (see the module doc).
#[derive(Clone, Copy)]
pub struct Tasks {
    going: RwSignal<bool>,
}

impl Tasks {
    /// Nothing going.
    pub fn new() -> Self {
        Tasks {
            going: RwSignal::new(false),
        }
    }

    /// Whether work is going: true from [`start`](Self::start) until its future ends.
    pub fn going(&self) -> Signal<bool> {
        self.going.into()
    }

    /// Starts `work`. It is queued before the pages redraw for it, so its first request (a
    /// database read, a call) goes out first.
    pub fn start(&self, work: impl Future<Output = ()> + 'static) {
        let going = self.going;
        spawn_local(async move {
            work.await;
            going.set(false);
        });
        going.set(true);
    }
}

impl Default for Tasks {
    fn default() -> Self {
        Self::new()
    }
}
