//! Waiting without an executor of its own (core runs in the browser's and in tests' alike): a
//! [`Notify`] that wakes its one waiter, and futures run side by side ([`first_of`], [`join`]).

use std::cell::RefCell;
use std::future::{poll_fn, Future};
use std::pin::pin;
use std::task::{Poll, Waker};

/// Wakes the task waiting in [`Notify::notified`]; a notice given while nobody waits is kept
/// for the next wait.
#[derive(Debug, Default)]
pub(crate) struct Notify {
    state: RefCell<NotifyState>,
}

#[derive(Debug, Default)]
struct NotifyState {
    notified: bool,
    waker: Option<Waker>,
}

impl Notify {
    /// Wakes the waiter, or the next one to wait.
    pub(crate) fn notify(&self) {
        let waker = {
            let mut state = self.state.borrow_mut();
            state.notified = true;
            state.waker.take()
        };
        // Woken outside the borrow: a waker may poll at once.
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    /// Resolves at the first notice since the last wait ended.
    pub(crate) async fn notified(&self) {
        poll_fn(|cx| {
            let mut state = self.state.borrow_mut();
            if std::mem::take(&mut state.notified) {
                Poll::Ready(())
            } else {
                state.waker = Some(cx.waker().clone());
                Poll::Pending
            }
        })
        .await
    }
}

/// Resolves when either future does; the other is dropped.
pub(crate) async fn first_of(a: impl Future<Output = ()>, b: impl Future<Output = ()>) {
    let mut a = pin!(a);
    let mut b = pin!(b);
    poll_fn(|cx| {
        if a.as_mut().poll(cx).is_ready() || b.as_mut().poll(cx).is_ready() {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    })
    .await
}

/// Runs both futures to their ends, side by side.
pub(crate) async fn join<A: Future, B: Future>(a: A, b: B) -> (A::Output, B::Output) {
    let mut a = pin!(a);
    let mut b = pin!(b);
    let mut a_out = None;
    let mut b_out = None;
    poll_fn(|cx| {
        if a_out.is_none() {
            if let Poll::Ready(out) = a.as_mut().poll(cx) {
                a_out = Some(out);
            }
        }
        if b_out.is_none() {
            if let Poll::Ready(out) = b.as_mut().poll(cx) {
                b_out = Some(out);
            }
        }
        match (a_out.take(), b_out.take()) {
            (Some(a), Some(b)) => Poll::Ready((a, b)),
            (a, b) => {
                a_out = a;
                b_out = b;
                Poll::Pending
            }
        }
    })
    .await
}
