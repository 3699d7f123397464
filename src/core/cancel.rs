//! Cooperative cancellation shared by the loop, the LLM client and the transport.
//!
//! Single-threaded by design (the browser has one thread), so it uses `Rc`, not `Arc`.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

type Callback = Box<dyn FnOnce()>;

#[derive(Default)]
struct Inner {
    cancelled: Cell<bool>,
    callbacks: RefCell<Vec<Callback>>,
}

/// A clonable handle: every clone sees the same cancellation.
#[derive(Clone, Default)]
pub struct CancelToken {
    inner: Rc<Inner>,
}

impl std::fmt::Debug for CancelToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CancelToken")
            .field("cancelled", &self.is_cancelled())
            .finish()
    }
}

impl CancelToken {
    /// A fresh, not yet cancelled token.
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether [`cancel`](Self::cancel) has been called on any clone.
    pub fn is_cancelled(&self) -> bool {
        self.inner.cancelled.get()
    }

    /// Cancels, running every registered callback once (e.g. aborting a fetch in flight).
    pub fn cancel(&self) {
        if self.inner.cancelled.replace(true) {
            return;
        }
        let callbacks = std::mem::take(&mut *self.inner.callbacks.borrow_mut());
        for callback in callbacks {
            callback();
        }
    }

    /// Runs `callback` when the token is cancelled, or at once if it already is.
    pub fn on_cancel(&self, callback: impl FnOnce() + 'static) {
        if self.is_cancelled() {
            callback();
        } else {
            self.inner.callbacks.borrow_mut().push(Box::new(callback));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cancel_runs_callbacks_once_and_late_callbacks_immediately() {
        let token = CancelToken::new();
        let hits = Rc::new(Cell::new(0));
        let h = hits.clone();
        token.on_cancel(move || h.set(h.get() + 1));
        assert!(!token.clone().is_cancelled());
        token.clone().cancel();
        token.cancel();
        assert_eq!(hits.get(), 1);
        let h = hits.clone();
        token.on_cancel(move || h.set(h.get() + 10));
        assert_eq!(hits.get(), 11);
        assert!(token.is_cancelled());
    }
}
