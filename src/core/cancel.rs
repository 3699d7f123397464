//! Cooperative cancellation shared by the loop, the LLM client and the transport.
//!
//! Single-threaded by design (the browser has one thread), so it uses `Rc`, not `Arc`.
//!
//! A token lives as long as the run or batch it stops, while the waits registered on it (one
//! per request and per backoff) are short: [`CancelToken::on_cancel`] hands back a
//! [`CancelGuard`] that takes its callback off the token when the wait is over, so a batch of
//! thousands of requests leaves nothing behind on its token.

use std::cell::{Cell, RefCell};
use std::rc::{Rc, Weak};

type Callback = Box<dyn FnOnce()>;

#[derive(Default)]
struct Inner {
    cancelled: Cell<bool>,
    next_id: Cell<u64>,
    // A few at a time (one per wait in flight), so a list searched by id is enough.
    callbacks: RefCell<Vec<(u64, Callback)>>,
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
            .field("pending_callbacks", &self.pending_callbacks())
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
        // Taken out before any runs: a callback may drop guards or register more.
        let callbacks = std::mem::take(&mut *self.inner.callbacks.borrow_mut());
        for (_, callback) in callbacks {
            callback();
        }
    }

    /// Runs `callback` when the token is cancelled, or at once if it already is.
    ///
    /// The callback stays registered while the returned guard lives: keep the guard for as
    /// long as the wait it covers (a request, a backoff) and drop it when the wait ends.
    pub fn on_cancel(&self, callback: impl FnOnce() + 'static) -> CancelGuard {
        if self.is_cancelled() {
            callback();
            return CancelGuard {
                inner: Weak::new(),
                id: 0,
            };
        }
        let id = self.inner.next_id.get();
        self.inner.next_id.set(id + 1);
        self.inner
            .callbacks
            .borrow_mut()
            .push((id, Box::new(callback)));
        CancelGuard {
            inner: Rc::downgrade(&self.inner),
            id,
        }
    }

    /// How many callbacks are registered and waiting for a cancel: one per live
    /// [`CancelGuard`] (none once cancelled).
    pub fn pending_callbacks(&self) -> usize {
        self.inner.callbacks.borrow().len()
    }
}

/// Keeps a callback of [`CancelToken::on_cancel`] registered; dropping it takes the callback
/// off the token (it never runs after that).
#[must_use = "the callback is removed as soon as the guard is dropped; keep it for the wait"]
pub struct CancelGuard {
    inner: Weak<Inner>,
    id: u64,
}

impl std::fmt::Debug for CancelGuard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CancelGuard").field("id", &self.id).finish()
    }
}

impl Drop for CancelGuard {
    fn drop(&mut self) {
        let Some(inner) = self.inner.upgrade() else {
            return;
        };
        // Released before the callback is dropped: what it owns may hold guards of its own.
        let removed = {
            let mut callbacks = inner.callbacks.borrow_mut();
            let at = callbacks.iter().position(|(id, _)| *id == self.id);
            at.map(|at| callbacks.swap_remove(at))
        };
        drop(removed);
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
        let _kept = token.on_cancel(move || h.set(h.get() + 1));
        assert!(!token.clone().is_cancelled());
        token.clone().cancel();
        token.cancel();
        assert_eq!(hits.get(), 1);
        let h = hits.clone();
        let _late = token.on_cancel(move || h.set(h.get() + 10));
        assert_eq!(hits.get(), 11);
        assert!(token.is_cancelled());
        assert_eq!(token.pending_callbacks(), 0);
    }

    #[test]
    fn a_dropped_guard_takes_its_callback_off_the_token() {
        let token = CancelToken::new();
        let hits = Rc::new(Cell::new(0));
        let h = hits.clone();
        let dropped = token.on_cancel(move || h.set(h.get() + 1));
        let h = hits.clone();
        let kept = token.on_cancel(move || h.set(h.get() + 10));
        assert_eq!(token.pending_callbacks(), 2);
        drop(dropped);
        assert_eq!(token.pending_callbacks(), 1);
        token.cancel();
        assert_eq!(hits.get(), 10, "only the callback whose guard lives runs");
        drop(kept);
        assert_eq!(token.pending_callbacks(), 0);
    }

    #[test]
    fn a_callback_may_own_guards_of_the_same_token() {
        let token = CancelToken::new();
        let inner = token.on_cancel(|| {});
        let outer = token.on_cancel(move || drop(inner));
        // Dropping `outer` drops its callback, which drops `inner`: no double borrow.
        drop(outer);
        assert_eq!(token.pending_callbacks(), 0);
        let inner = token.on_cancel(|| {});
        let _outer = token.on_cancel(move || drop(inner));
        token.cancel();
        assert_eq!(token.pending_callbacks(), 0);
    }

    #[test]
    fn guards_outliving_their_token_do_nothing() {
        let token = CancelToken::new();
        let guard = token.on_cancel(|| {});
        drop(token);
        drop(guard);
    }
}
