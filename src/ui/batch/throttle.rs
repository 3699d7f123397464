//! Coalescing a running batch's updates to the page.
//!
//! A batch reports several events per item, hundreds a second when calls are fast and many run
//! at once. Shown one by one, each re-renders the batch card and repaints the page, and the main
//! thread that also sends the calls and stores the steps spends more time drawing than the user
//! can see (the 200-problem benchmark spent about a third of its main-thread time on it). A
//! [`Throttle`] delivers at most one update per interval: the first after a quiet interval at
//! once, the rest gathered into one delivery at the end of the interval, and urgent ones (a
//! status change) at once.

use std::cell::RefCell;
use std::rc::Rc;

// Not leptos's spawn_local: the timer touches no reactive owner, and this way the throttle
// also runs where no app has set up leptos's executor (its tests).
use wasm_bindgen_futures::spawn_local;

use crate::core::clock::Clock;
use crate::core::driver::saver::delay_left;

struct State<T> {
    /// What waits to be delivered, gathered by [`Throttle::update`].
    pending: Option<T>,
    last_ms: Option<f64>,
    timer_armed: bool,
}

/// Gathers updates into a pending `T` and hands it to a delivery function at most once per
/// interval (see the module doc). Clones share one state.
pub struct Throttle<T, C> {
    state: Rc<RefCell<State<T>>>,
    deliver: Rc<dyn Fn(T)>,
    interval_ms: f64,
    clock: C,
}

impl<T, C: Clone> Clone for Throttle<T, C> {
    fn clone(&self) -> Self {
        Throttle {
            state: Rc::clone(&self.state),
            deliver: Rc::clone(&self.deliver),
            interval_ms: self.interval_ms,
            clock: self.clock.clone(),
        }
    }
}

impl<T: Default + 'static, C: Clock + Clone + 'static> Throttle<T, C> {
    /// A throttle delivering to `deliver` at most once per `interval_ms` by `clock`.
    pub fn new(interval_ms: f64, clock: C, deliver: impl Fn(T) + 'static) -> Self {
        Throttle {
            state: Rc::new(RefCell::new(State {
                pending: None,
                last_ms: None,
                timer_armed: false,
            })),
            deliver: Rc::new(deliver),
            interval_ms,
            clock,
        }
    }

    /// Adds to what waits with `change` (on `T::default()` when nothing waits), and delivers it
    /// now if the interval is over or `urgent`; otherwise a timer delivers it when it is.
    pub fn update(&self, change: impl FnOnce(&mut T), urgent: bool) {
        change(
            self.state
                .borrow_mut()
                .pending
                .get_or_insert_with(T::default),
        );
        if urgent {
            self.flush();
        } else {
            self.deliver_when_due();
        }
    }

    /// Delivers what waits, now.
    pub fn flush(&self) {
        let pending = {
            let mut state = self.state.borrow_mut();
            let pending = state.pending.take();
            if pending.is_some() {
                state.last_ms = Some(self.clock.now_ms());
            }
            pending
        };
        // Delivered outside the borrow: the delivery may lead to another update.
        if let Some(pending) = pending {
            (self.deliver)(pending);
        }
    }

    fn deliver_when_due(&self) {
        let wait = {
            let state = self.state.borrow();
            if state.pending.is_none() {
                return;
            }
            delay_left(state.last_ms, self.clock.now_ms(), self.interval_ms, false)
        };
        if wait <= 0.0 {
            self.flush();
        } else if !std::mem::replace(&mut self.state.borrow_mut().timer_armed, true) {
            let throttle = self.clone();
            spawn_local(async move {
                throttle.clock.sleep(wait.ceil() as u64).await;
                throttle.state.borrow_mut().timer_armed = false;
                // An urgent update or a flush may have delivered meanwhile: then this finds
                // nothing, or waits out the rest of the new interval.
                throttle.deliver_when_due();
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::future::Future;
    use std::pin::Pin;
    use std::task::{Context, Poll, Waker};
    use wasm_bindgen_test::wasm_bindgen_test;

    /// A clock that moves only when the test moves it: a sleep ends once [`ScriptedClock::advance`]
    /// has taken the time to its end, so what the throttle does at each instant is the test's to
    /// choose, whatever the machine's speed.
    #[derive(Clone, Default)]
    struct ScriptedClock(Rc<RefCell<Script>>);

    #[derive(Default)]
    struct Script {
        now_ms: f64,
        /// When each pending sleep ends, and who waits for it.
        sleepers: Vec<(f64, Waker)>,
    }

    impl ScriptedClock {
        fn at(now_ms: f64) -> Self {
            let clock = Self::default();
            clock.0.borrow_mut().now_ms = now_ms;
            clock
        }

        /// Moves the time on by `ms` and wakes the sleeps that ended.
        fn advance(&self, ms: f64) {
            let woken: Vec<Waker> = {
                let mut script = self.0.borrow_mut();
                script.now_ms += ms;
                let now = script.now_ms;
                let (ended, pending) = script.sleepers.drain(..).partition(|(end, _)| *end <= now);
                script.sleepers = pending;
                ended.into_iter().map(|(_, waker)| waker).collect()
            };
            woken.into_iter().for_each(Waker::wake);
        }

        /// When the pending sleeps end.
        fn pending(&self) -> Vec<f64> {
            self.0
                .borrow()
                .sleepers
                .iter()
                .map(|(end, _)| *end)
                .collect()
        }
    }

    struct Sleep {
        clock: ScriptedClock,
        end_ms: f64,
    }

    impl Future for Sleep {
        type Output = ();
        fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
            let mut script = self.clock.0.borrow_mut();
            if script.now_ms >= self.end_ms {
                return Poll::Ready(());
            }
            script
                .sleepers
                .retain(|(_, waker)| !waker.will_wake(cx.waker()));
            script.sleepers.push((self.end_ms, cx.waker().clone()));
            Poll::Pending
        }
    }

    impl Clock for ScriptedClock {
        fn now_ms(&self) -> f64 {
            self.0.borrow().now_ms
        }

        fn sleep(&self, ms: u64) -> impl Future<Output = ()> {
            Sleep {
                clock: self.clone(),
                end_ms: self.now_ms() + ms as f64,
            }
        }
    }

    /// Lets every task woken so far run: wasm-bindgen-futures runs them in microtasks, and the
    /// page's next task starts only once those are done. (A zero timeout: no time passes on the
    /// throttle's clock.)
    async fn run_woken_tasks() {
        crate::web::clock::BrowserClock::new().sleep(0).await;
    }

    #[wasm_bindgen_test]
    async fn updates_within_an_interval_arrive_together_and_urgent_ones_at_once() {
        let clock = ScriptedClock::at(1_000.0);
        let got = Rc::new(RefCell::new(Vec::<Vec<u32>>::new()));
        let sink = Rc::clone(&got);
        let throttle = Throttle::new(200.0, clock.clone(), move |batch: Vec<u32>| {
            sink.borrow_mut().push(batch)
        });
        throttle.update(|p| p.push(1), false);
        throttle.update(|p| p.push(2), false);
        throttle.update(|p| p.push(3), false);
        // The first went at once; 2 and 3 wait for the end of the interval, together: one
        // timer, armed for 1200 ms.
        assert_eq!(*got.borrow(), [vec![1]]);
        run_woken_tasks().await;
        assert_eq!(clock.pending(), [1_200.0]);

        // Not a moment early.
        clock.advance(199.0);
        run_woken_tasks().await;
        assert_eq!(*got.borrow(), [vec![1]]);
        clock.advance(1.0);
        run_woken_tasks().await;
        assert_eq!(*got.borrow(), [vec![1], vec![2, 3]]);
        assert!(clock.pending().is_empty());

        // Within the new interval, an urgent one takes what waits with it at once.
        throttle.update(|p| p.push(4), false);
        run_woken_tasks().await;
        assert_eq!(clock.pending(), [1_400.0]);
        throttle.update(|p| p.push(5), true);
        assert_eq!(*got.borrow(), [vec![1], vec![2, 3], vec![4, 5]]);
        // The timer armed for 4 finds nothing left when it ends: no empty delivery follows,
        // and no timer is armed again.
        clock.advance(200.0);
        run_woken_tasks().await;
        assert_eq!(got.borrow().len(), 3);
        assert!(clock.pending().is_empty());

        // flush delivers what waits without waiting for the timer.
        throttle.update(|p| p.push(6), true);
        throttle.update(|p| p.push(7), false);
        assert_eq!(got.borrow().last(), Some(&vec![6]));
        throttle.flush();
        assert_eq!(got.borrow().last(), Some(&vec![7]));
        assert_eq!(got.borrow().len(), 5);
    }
}
