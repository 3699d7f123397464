//! [`SharedSlots`]: one concurrency limit over several batches driven side by side (an
//! experiment's configs), handed out in problem order across the batches.
//!
//! Each batch's scheduler still starts up to its own limit, but an item only runs once it holds
//! one of the shared slots ([`SlottedRunner`]). A free slot goes to the waiting item of the
//! lowest `(item index, batch)`, so the batches go through their problems abreast: the configs'
//! turns on the same problem are made at the same moment, and a turn they share is sent once and
//! awaited by all of them (the reply store's requests in flight). An item takes no slot on its
//! first poll, so that every batch started together has a say before the first slots go.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use crate::core::cancel::{CancelGuard, CancelToken};
use crate::core::trajectory::RunStatus;

use super::scheduler::{ItemContext, ItemOutcome, ItemRunner};

/// Who waits for a slot: the item's index, then its batch's position.
type Claim = (usize, usize);

#[derive(Debug)]
struct SlotsState {
    free: usize,
    waiting: BTreeMap<Claim, Waker>,
}

/// A limit of slots shared by several batches, given to the lowest waiting claim first.
#[derive(Debug)]
pub struct SharedSlots {
    limit: usize,
    state: RefCell<SlotsState>,
}

impl SharedSlots {
    /// `limit` slots (at least one).
    pub fn new(limit: usize) -> Rc<SharedSlots> {
        let limit = limit.max(1);
        Rc::new(SharedSlots {
            limit,
            state: RefCell::new(SlotsState {
                free: limit,
                waiting: BTreeMap::new(),
            }),
        })
    }

    /// How many slots there are.
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// How many slots are taken now.
    pub fn taken(&self) -> usize {
        self.limit - self.state.borrow().free
    }

    /// Waits for a slot for item `index` of batch `batch`; `None` once `cancel` fires first.
    pub async fn acquire(
        self: &Rc<Self>,
        index: usize,
        batch: usize,
        cancel: &CancelToken,
    ) -> Option<Slot> {
        Acquire {
            slots: Rc::clone(self),
            claim: (index, batch),
            cancel: cancel.clone(),
            woken_on_cancel: Rc::default(),
            guard: None,
            asked: false,
            done: false,
        }
        .await
    }

    /// Wakes the lowest claim when a slot is free: it is the one that may take it.
    fn wake_next(&self) {
        let waker = {
            let state = self.state.borrow();
            if state.free == 0 {
                return;
            }
            state.waiting.values().next().cloned()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

/// A slot held; given back when dropped.
#[derive(Debug)]
pub struct Slot(Rc<SharedSlots>);

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.state.borrow_mut().free += 1;
        self.0.wake_next();
    }
}

struct Acquire {
    slots: Rc<SharedSlots>,
    claim: Claim,
    cancel: CancelToken,
    woken_on_cancel: Rc<RefCell<Option<Waker>>>,
    guard: Option<CancelGuard>,
    asked: bool,
    done: bool,
}

impl Future for Acquire {
    type Output = Option<Slot>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Slot>> {
        let this = self.get_mut();
        if this.cancel.is_cancelled() {
            this.withdraw();
            return Poll::Ready(None);
        }
        *this.woken_on_cancel.borrow_mut() = Some(cx.waker().clone());
        if this.guard.is_none() {
            let waker = Rc::clone(&this.woken_on_cancel);
            this.guard = Some(this.cancel.on_cancel(move || {
                if let Some(waker) = waker.borrow_mut().take() {
                    waker.wake();
                }
            }));
        }
        let granted = {
            let mut state = this.slots.state.borrow_mut();
            let first = state.waiting.keys().next().is_none_or(|c| *c >= this.claim);
            if this.asked && state.free > 0 && first {
                state.free -= 1;
                state.waiting.remove(&this.claim);
                true
            } else {
                state.waiting.insert(this.claim, cx.waker().clone());
                false
            }
        };
        if granted {
            this.done = true;
            // Another slot may be free for the next claim.
            this.slots.wake_next();
            return Poll::Ready(Some(Slot(Rc::clone(&this.slots))));
        }
        if !this.asked {
            // Registered; the next poll may take a slot, once every batch polled now has asked.
            this.asked = true;
            cx.waker().wake_by_ref();
        }
        Poll::Pending
    }
}

impl Acquire {
    fn withdraw(&mut self) {
        if self.done {
            return;
        }
        self.done = true;
        self.slots.state.borrow_mut().waiting.remove(&self.claim);
        // A free slot this claim held back goes to the next one.
        self.slots.wake_next();
    }
}

impl Drop for Acquire {
    fn drop(&mut self) {
        self.withdraw();
    }
}

/// An [`ItemRunner`] whose items each run holding one of `slots` (as batch `batch`), or
/// straight through when there are none.
pub struct SlottedRunner<'r, R> {
    inner: &'r R,
    slots: Option<(Rc<SharedSlots>, usize)>,
}

impl<'r, R: ItemRunner> SlottedRunner<'r, R> {
    /// `inner`, its items holding a slot of `slots` (with the batch's position) when given.
    pub fn new(inner: &'r R, slots: Option<(Rc<SharedSlots>, usize)>) -> Self {
        SlottedRunner { inner, slots }
    }
}

impl<R: ItemRunner> ItemRunner for SlottedRunner<'_, R> {
    async fn run_item(&self, item: ItemContext) -> ItemOutcome {
        let Some((slots, batch)) = &self.slots else {
            return self.inner.run_item(item).await;
        };
        let Some(slot) = slots.acquire(item.index, *batch, &item.cancel).await else {
            // Cancelled before it started: the item stays pending, its run (if any) untouched.
            return ItemOutcome {
                run_id: None,
                status: RunStatus::Cancelled,
                message: None,
                cost_usd: None,
                cost_complete: true,
                possibly_billed_usd: 0.0,
                stop_reason: None,
            };
        };
        let outcome = self.inner.run_item(item).await;
        drop(slot);
        outcome
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn poll<F: Future>(future: &mut Pin<Box<F>>) -> Poll<F::Output> {
        future
            .as_mut()
            .poll(&mut Context::from_waker(Waker::noop()))
    }

    #[test]
    fn slots_go_to_the_lowest_item_across_batches_and_come_back_when_dropped() {
        let slots = SharedSlots::new(2);
        let token = CancelToken::new();
        // Batch 0 asks for items 0 and 1 before batch 1 asks for its item 0.
        let mut a0 = Box::pin(slots.acquire(0, 0, &token));
        let mut a1 = Box::pin(slots.acquire(1, 0, &token));
        let mut b0 = Box::pin(slots.acquire(0, 1, &token));
        for future in [&mut a0, &mut a1, &mut b0] {
            assert!(
                poll(future).is_pending(),
                "nothing is taken on the first poll"
            );
        }
        let first = poll(&mut a0);
        assert!(matches!(first, Poll::Ready(Some(_))));
        assert!(poll(&mut a1).is_pending(), "item 0 of batch 1 comes first");
        let second = poll(&mut b0);
        assert!(matches!(second, Poll::Ready(Some(_))));
        assert_eq!(slots.taken(), 2);
        assert!(poll(&mut a1).is_pending(), "no slot is free");
        drop(first);
        let third = poll(&mut a1);
        assert!(matches!(third, Poll::Ready(Some(_))));
        drop(second);
        assert_eq!(slots.taken(), 1);
        drop(third);
        assert_eq!(slots.taken(), 0, "every slot came back");
    }

    #[test]
    fn a_cancelled_wait_gives_up_its_claim() {
        let slots = SharedSlots::new(1);
        let token = CancelToken::new();
        let other = CancelToken::new();
        let mut held = Box::pin(slots.acquire(0, 0, &token));
        assert!(poll(&mut held).is_pending());
        let held = match poll(&mut held) {
            Poll::Ready(Some(slot)) => slot,
            _ => panic!("the only claim takes the slot"),
        };
        let cancelled = CancelToken::new();
        let mut waiting = Box::pin(slots.acquire(1, 0, &cancelled));
        let mut later = Box::pin(slots.acquire(2, 0, &other));
        assert!(poll(&mut waiting).is_pending());
        assert!(poll(&mut later).is_pending());
        cancelled.cancel();
        assert!(matches!(poll(&mut waiting), Poll::Ready(None)));
        drop(held);
        assert!(
            matches!(poll(&mut later), Poll::Ready(Some(_))),
            "the cancelled claim no longer holds the next one back"
        );
    }
}
