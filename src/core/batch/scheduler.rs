//! Running a batch's items concurrently on one thread.
//!
//! The scheduler keeps up to N items making calls and polls them from one hand-written
//! select-like future ([`NextEvent`]) together with a backoff timer and the control's wake-ups:
//! no executor, no `Send`, no threads, so it runs the same in the browser and in native tests.
//! An item that reports [`ItemReporter::calls_done`] no longer counts against N while it
//! stores its last results, so the next item's calls overlap that write instead of waiting
//! for it; it is reported finished once it has stored them.
//!
//! ## Adapting to rate limits (AIMD)
//! N starts at the batch's concurrency (the user's limit) and:
//! - halves (at least 1) when an item reports a rate limit (HTTP 429), once per "generation":
//!   reports from items started before the last halving do not halve again, so a burst of 429s
//!   from items that were all in flight together counts once (as TCP counts one loss per
//!   round trip);
//! - honours the provider's retry-after by starting nothing new until then (items in flight
//!   go on);
//! - grows by 1 after [`SchedulerOptions::recover_after`] items in a row finished without a rate
//!   limit, never above the user's limit.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, Wake, Waker};

use serde::{Deserialize, Serialize};

use crate::core::cancel::CancelToken;
use crate::core::clock::Clock;
use crate::core::llm::retry::honoured_wait_ms;
use crate::core::trajectory::RunStatus;

use super::{BatchRecord, BatchStatus, ItemKey, ItemStatus};

/// What a runner is given for one item.
#[derive(Debug, Clone)]
pub struct ItemContext {
    /// The item's position in the batch.
    pub index: usize,
    /// The item.
    pub key: ItemKey,
    /// The run to continue from its committed steps, if the item has one.
    pub resume_run_id: Option<String>,
    /// Fires when the batch is cancelled.
    pub cancel: CancelToken,
    /// Where the runner reports rate limits and the run it started.
    pub reporter: ItemReporter,
}

/// How one item's run ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ItemOutcome {
    /// The run made or continued, if one was.
    pub run_id: Option<String>,
    /// The run's status: `completed` makes the item done; `failed` makes it failed; any other
    /// leaves it pending, to be resumed (`budget_exceeded` also pauses the batch).
    pub status: RunStatus,
    /// Why it stopped early, as a sentence.
    pub message: Option<String>,
    /// What the run cost so far (priced steps), earlier sessions included.
    pub cost_usd: Option<f64>,
    /// Whether every step was priced.
    pub cost_complete: bool,
    /// What its requests without a reply may have cost (see
    /// [`RunRecord::possibly_billed_usd`](crate::core::trajectory::RunRecord)).
    #[serde(default)]
    pub possibly_billed_usd: f64,
    /// Why the run stopped, when it ran.
    #[serde(default)]
    pub stop_reason: Option<crate::core::trajectory::StopReason>,
}

impl ItemOutcome {
    /// An item that failed before any run existed (e.g. storage refused to create it).
    pub fn failed(message: impl Into<String>) -> ItemOutcome {
        ItemOutcome {
            run_id: None,
            status: RunStatus::Failed,
            message: Some(message.into()),
            cost_usd: None,
            cost_complete: true,
            possibly_billed_usd: 0.0,
            stop_reason: None,
        }
    }
}

/// Runs one item. Implemented by [`super::runner::PipelineRunner`], and by any
/// `Fn(ItemContext) -> impl Future<Output = ItemOutcome>` closure (tests).
// Futures are not `Send` in the browser, by design.
#[allow(async_fn_in_trait)]
pub trait ItemRunner {
    /// Runs (or resumes) the item; must return soon after `item.cancel` fires.
    async fn run_item(&self, item: ItemContext) -> ItemOutcome;
}

impl<F, Fut> ItemRunner for F
where
    F: Fn(ItemContext) -> Fut,
    Fut: Future<Output = ItemOutcome>,
{
    async fn run_item(&self, item: ItemContext) -> ItemOutcome {
        self(item).await
    }
}

/// Something the in-flight items tell the scheduler.
#[derive(Debug, Clone, PartialEq)]
enum Signal {
    RateLimited {
        index: usize,
        generation: u64,
        retry_after_ms: Option<u64>,
    },
    RunStarted {
        index: usize,
        run_id: String,
    },
    CallsDone {
        index: usize,
    },
}

#[derive(Debug)]
struct ControlState {
    paused: bool,
    pause_reason: Option<String>,
    /// A batch budget raised with [`BatchControl::resume_with_budget`], for the record.
    raised_budget_usd: Option<f64>,
    limit: u32,
    effective: u32,
    /// Bumped on every halving; items remember the value they started under.
    aimd_generation: u64,
    streak: u32,
    waiting_until_ms: Option<f64>,
    /// Bumped on every change the scheduler must look at.
    changes: u64,
    inbox: VecDeque<Signal>,
    waker: Option<Waker>,
}

/// The handle the UI keeps to steer a running batch (pause, resume, cancel) and to read the
/// effective concurrency. Clones share one state.
#[derive(Debug, Clone)]
pub struct BatchControl {
    state: Rc<RefCell<ControlState>>,
    cancel: CancelToken,
}

impl Default for BatchControl {
    fn default() -> Self {
        BatchControl::new()
    }
}

impl BatchControl {
    /// A control for a batch that is not paused or cancelled.
    pub fn new() -> BatchControl {
        BatchControl {
            state: Rc::new(RefCell::new(ControlState {
                paused: false,
                pause_reason: None,
                raised_budget_usd: None,
                limit: 1,
                effective: 1,
                aimd_generation: 0,
                streak: 0,
                waiting_until_ms: None,
                changes: 0,
                inbox: VecDeque::new(),
                waker: None,
            })),
            cancel: CancelToken::new(),
        }
    }

    fn changed(&self, change: impl FnOnce(&mut ControlState)) {
        let waker = {
            let mut state = self.state.borrow_mut();
            change(&mut state);
            state.changes += 1;
            state.waker.take()
        };
        // Woken outside the borrow: a waker may poll at once.
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    /// Starts no new items; those in flight finish.
    pub fn pause(&self) {
        self.changed(|s| {
            s.paused = true;
            s.pause_reason = None;
        });
    }

    /// Starts items again after a pause (a budget pause included).
    pub fn resume(&self) {
        self.changed(|s| {
            s.paused = false;
            s.pause_reason = None;
        });
    }

    /// Starts items again after a pause, noting in the batch's record that its budget was
    /// raised to `budget_usd` (the caller raised its budget gate). The record keeps it, so a
    /// later resume runs under it too.
    pub fn resume_with_budget(&self, budget_usd: f64) {
        self.changed(|s| {
            s.paused = false;
            s.pause_reason = None;
            s.raised_budget_usd = Some(budget_usd);
        });
    }

    /// Cancels the batch: the items in flight are told through their cancel token, and no new
    /// ones start. Their runs keep their steps and can be resumed later, by a scheduler with a
    /// new control (a cancelled control stays cancelled).
    pub fn cancel(&self) {
        self.cancel.cancel();
        self.changed(|_| {});
    }

    /// Whether [`pause`](Self::pause) is in effect (or a budget paused the batch).
    pub fn is_paused(&self) -> bool {
        self.state.borrow().paused
    }

    /// Whether [`cancel`](Self::cancel) was called.
    pub fn is_cancelled(&self) -> bool {
        self.cancel.is_cancelled()
    }

    /// The cancel token the items get.
    pub fn cancel_token(&self) -> CancelToken {
        self.cancel.clone()
    }

    /// How many items may be in flight now (≤ the user's limit; lower after rate limits).
    pub fn effective_concurrency(&self) -> u32 {
        self.state.borrow().effective
    }

    /// The user's limit.
    pub fn concurrency_limit(&self) -> u32 {
        self.state.borrow().limit
    }

    /// Until when (epoch ms) no new items start because a provider asked to wait.
    pub fn waiting_until_ms(&self) -> Option<f64> {
        self.state.borrow().waiting_until_ms
    }

    fn pause_with(&self, reason: String) {
        self.changed(|s| {
            s.paused = true;
            s.pause_reason = Some(reason);
        });
    }

    fn post(&self, signal: Signal) {
        self.changed(|s| s.inbox.push_back(signal));
    }
}

/// Where a runner reports what the scheduler adapts to.
#[derive(Debug, Clone)]
pub struct ItemReporter {
    control: BatchControl,
    index: usize,
    generation: u64,
    rate_limited: Rc<Cell<bool>>,
}

impl ItemReporter {
    /// A provider answered 429; `retry_after_ms` is how long it asked to wait, if it said.
    /// The batch waits as long as the client would ([`honoured_wait_ms`]): a day-long
    /// `Retry-After` must not hold a batch that shows "running".
    pub fn rate_limited(&self, retry_after_ms: Option<u64>) {
        self.rate_limited.set(true);
        self.control.post(Signal::RateLimited {
            index: self.index,
            generation: self.generation,
            retry_after_ms: retry_after_ms.map(honoured_wait_ms),
        });
    }

    /// The run for this item now exists (so the batch can note it before the run ends).
    pub fn run_started(&self, run_id: &str) {
        self.control.post(Signal::RunStarted {
            index: self.index,
            run_id: run_id.to_string(),
        });
    }

    /// The item makes no more calls; it only stores what it got. Its place counts no longer
    /// against the concurrency, so the next item starts while this one is stored (it is still
    /// reported finished only when it is).
    pub fn calls_done(&self) {
        self.control.post(Signal::CallsDone { index: self.index });
    }
}

/// Tuning of the scheduler.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SchedulerOptions {
    /// Items in a row that must finish without a rate limit before the concurrency grows by
    /// one. Default 5.
    pub recover_after: u32,
}

impl Default for SchedulerOptions {
    fn default() -> Self {
        SchedulerOptions { recover_after: 5 }
    }
}

/// What the scheduler reports while it runs.
#[derive(Debug, Clone, PartialEq)]
pub enum BatchEvent {
    /// The batch's status changed (running, paused, cancelled, completed).
    Status(BatchStatus),
    /// An item was started.
    ItemStarted {
        /// Its position.
        index: usize,
    },
    /// An item's run was created (its id is in the record now).
    RunStarted {
        /// Its position.
        index: usize,
    },
    /// An item finished (done, failed, or stopped and pending again).
    ItemFinished {
        /// Its position.
        index: usize,
    },
    /// The effective concurrency changed.
    Concurrency {
        /// The new value.
        effective: u32,
    },
    /// No new item starts until this time because a provider asked to wait.
    Waiting {
        /// Epoch milliseconds.
        until_ms: f64,
    },
}

/// Hears about the batch's progress, with the record as it now is (to show and to store).
pub trait BatchListener {
    /// Called synchronously; keep it quick (start storing in a task of its own).
    fn on_event(&self, event: &BatchEvent, record: &BatchRecord);
}

impl<F: Fn(&BatchEvent, &BatchRecord)> BatchListener for F {
    fn on_event(&self, event: &BatchEvent, record: &BatchRecord) {
        self(event, record)
    }
}

struct Silent;

impl BatchListener for Silent {
    fn on_event(&self, _event: &BatchEvent, _record: &BatchRecord) {}
}

/// Runs a batch's pending items with a runner, a clock and a control.
pub struct Scheduler<'a, R, C> {
    runner: &'a R,
    clock: &'a C,
    control: BatchControl,
    listener: &'a dyn BatchListener,
    options: SchedulerOptions,
}

type ItemFuture<'a> = Pin<Box<dyn Future<Output = ItemOutcome> + 'a>>;
type TimerFuture<'a> = Pin<Box<dyn Future<Output = ()> + 'a>>;

struct InFlight<'a> {
    index: usize,
    future: ItemFuture<'a>,
    /// Set when something the item waits for is ready; only such items are polled.
    wake: Arc<ItemWake>,
    waker: Waker,
    started_ms: f64,
    rate_limited: Rc<Cell<bool>>,
    /// Until the item says [`ItemReporter::calls_done`]: only these count against the
    /// concurrency.
    calling: bool,
}

/// What woke the scheduler.
enum Event {
    Finished(usize, ItemOutcome),
    Timer,
    Control,
}

/// The waker of the task the scheduler runs in, shared by every item's waker.
#[derive(Default)]
struct ParentWaker(Mutex<Option<Waker>>);

impl ParentWaker {
    fn set(&self, waker: &Waker) {
        let mut slot = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if !slot.as_ref().is_some_and(|w| w.will_wake(waker)) {
            *slot = Some(waker.clone());
        }
    }

    fn wake(&self) {
        let waker = self
            .0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

/// One item's waker: marks the item as ready to make progress and wakes the scheduler's task.
/// Every piece of every reply wakes the task; polling only the item it is for keeps the cost
/// of a wake from growing with the number of items in flight.
struct ItemWake {
    woken: AtomicBool,
    parent: Arc<ParentWaker>,
}

impl ItemWake {
    /// A waker for a new item, marked woken so that it is polled a first time.
    fn new(parent: &Arc<ParentWaker>) -> (Arc<ItemWake>, Waker) {
        let wake = Arc::new(ItemWake {
            woken: AtomicBool::new(true),
            parent: Arc::clone(parent),
        });
        let waker = Waker::from(Arc::clone(&wake));
        (wake, waker)
    }
}

impl Wake for ItemWake {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.woken.store(true, Ordering::Release);
        self.parent.wake();
    }
}

/// Polls the in-flight items that were woken, the timer and the control; ready with the first
/// that is.
struct NextEvent<'s, 'a> {
    parent: &'s Arc<ParentWaker>,
    in_flight: &'s mut Vec<InFlight<'a>>,
    timer: &'s mut Option<TimerFuture<'a>>,
    control: &'s BatchControl,
    seen_changes: u64,
}

impl Future for NextEvent<'_, '_> {
    type Output = Event;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Event> {
        let this = self.get_mut();
        // Before the items are polled, so a wake while they are is not lost.
        this.parent.set(cx.waker());
        for i in 0..this.in_flight.len() {
            let item = &mut this.in_flight[i];
            if !item.wake.woken.swap(false, Ordering::AcqRel) {
                continue;
            }
            let mut item_cx = Context::from_waker(&item.waker);
            if let Poll::Ready(outcome) = item.future.as_mut().poll(&mut item_cx) {
                return Poll::Ready(Event::Finished(i, outcome));
            }
        }
        if let Some(timer) = this.timer.as_mut() {
            if timer.as_mut().poll(cx).is_ready() {
                *this.timer = None;
                return Poll::Ready(Event::Timer);
            }
        }
        let mut state = this.control.state.borrow_mut();
        if state.changes != this.seen_changes {
            return Poll::Ready(Event::Control);
        }
        state.waker = Some(cx.waker().clone());
        Poll::Pending
    }
}

impl<'a, R: ItemRunner, C: Clock> Scheduler<'a, R, C> {
    /// A scheduler running items with `runner`, timing with `clock`, steered by `control`.
    pub fn new(runner: &'a R, clock: &'a C, control: BatchControl) -> Self {
        Scheduler {
            runner,
            clock,
            control,
            listener: &Silent,
            options: SchedulerOptions::default(),
        }
    }

    /// Reports progress to `listener`.
    pub fn with_listener(mut self, listener: &'a dyn BatchListener) -> Self {
        self.listener = listener;
        self
    }

    /// Tunes the rate-limit adaptation.
    pub fn with_options(mut self, options: SchedulerOptions) -> Self {
        self.options = options;
        self
    }

    /// Runs every pending item of `record` (a pending item with a run resumes it) and returns
    /// the record when all items are finished (`completed`) or the batch was cancelled and the
    /// items in flight have stopped (`cancelled`). While paused it waits for
    /// [`BatchControl::resume`] or [`BatchControl::cancel`].
    pub async fn run(&self, mut record: BatchRecord) -> BatchRecord {
        let limit = record
            .spec
            .concurrency
            .clamp(1, record.spec.engine.max_concurrency());
        {
            let mut s = self.control.state.borrow_mut();
            s.limit = limit;
            s.effective = limit;
            s.streak = 0;
        }
        for item in &mut record.items {
            if item.status == ItemStatus::Running {
                item.status = ItemStatus::Pending;
            }
        }
        let mut queue: VecDeque<usize> = record
            .items
            .iter()
            .enumerate()
            .filter(|(_, item)| item.status == ItemStatus::Pending)
            .map(|(i, _)| i)
            .collect();
        let mut in_flight: Vec<InFlight<'a>> = Vec::new();
        let parent = Arc::new(ParentWaker::default());
        let mut timer: Option<TimerFuture<'a>> = None;
        let mut timer_until = f64::NEG_INFINITY;

        loop {
            let seen_changes = self.control.state.borrow().changes;
            self.drain_inbox(&mut record, &mut in_flight);

            let cancelled = self.control.is_cancelled();
            let paused = self.control.is_paused();
            let now = self.clock.now_ms();
            let waiting_until = self.control.waiting_until_ms().filter(|until| *until > now);
            if waiting_until.is_none() {
                self.control.state.borrow_mut().waiting_until_ms = None;
            }
            if !cancelled && !paused && waiting_until.is_none() {
                let limit = self.control.effective_concurrency() as usize;
                while in_flight.iter().filter(|f| f.calling).count() < limit {
                    let Some(index) = queue.pop_front() else {
                        break;
                    };
                    in_flight.push(self.start(&mut record, index, now, &parent));
                }
            }

            if in_flight.is_empty() && (cancelled || queue.is_empty()) {
                let status = if cancelled && !queue.is_empty() {
                    BatchStatus::Cancelled
                } else {
                    BatchStatus::Completed
                };
                if status == BatchStatus::Cancelled {
                    record.message = Some(
                        "cancelled; finished items are kept, and resuming runs the rest (stopped \
                         runs continue from their saved steps)"
                            .to_string(),
                    );
                } else {
                    record.message = None;
                }
                self.set_status(&mut record, status);
                return record;
            }

            let status = if paused {
                BatchStatus::Paused
            } else {
                BatchStatus::Running
            };
            let raised = self.control.state.borrow().raised_budget_usd;
            if raised.is_some() && record.raised_budget_usd != raised {
                record.raised_budget_usd = raised;
                // Saved with the status change that comes with it, or on its own.
                if record.status == status {
                    self.set_status(&mut record, status);
                }
            }
            if record.status != status {
                record.message = if paused {
                    self.control.state.borrow().pause_reason.clone()
                } else {
                    None
                };
                self.set_status(&mut record, status);
            }

            match waiting_until {
                Some(until) if !cancelled && !paused && !queue.is_empty() => {
                    if timer.is_none() || timer_until != until {
                        let ms = (until - now).ceil().max(0.0) as u64;
                        timer = Some(Box::pin(self.clock.sleep(ms)));
                        timer_until = until;
                    }
                }
                _ => {
                    timer = None;
                }
            }

            let event = NextEvent {
                parent: &parent,
                in_flight: &mut in_flight,
                timer: &mut timer,
                control: &self.control,
                seen_changes,
            }
            .await;
            match event {
                Event::Finished(slot, outcome) => {
                    let done = in_flight.swap_remove(slot);
                    self.finish(&mut record, &done, outcome, &mut queue);
                }
                Event::Timer | Event::Control => {}
            }
        }
    }

    fn start(
        &self,
        record: &mut BatchRecord,
        index: usize,
        now: f64,
        parent: &Arc<ParentWaker>,
    ) -> InFlight<'a> {
        let item = &mut record.items[index];
        item.status = ItemStatus::Running;
        let rate_limited = Rc::new(Cell::new(false));
        let context = ItemContext {
            index,
            key: item.key(),
            resume_run_id: item.run_id.clone(),
            cancel: self.control.cancel_token(),
            reporter: ItemReporter {
                control: self.control.clone(),
                index,
                generation: self.control.state.borrow().aimd_generation,
                rate_limited: Rc::clone(&rate_limited),
            },
        };
        let runner = self.runner;
        let future: ItemFuture<'a> = Box::pin(async move { runner.run_item(context).await });
        record.updated_ms = now;
        self.listener
            .on_event(&BatchEvent::ItemStarted { index }, record);
        let (wake, waker) = ItemWake::new(parent);
        InFlight {
            index,
            future,
            wake,
            waker,
            started_ms: now,
            rate_limited,
            calling: true,
        }
    }

    fn finish(
        &self,
        record: &mut BatchRecord,
        done: &InFlight<'_>,
        outcome: ItemOutcome,
        queue: &mut VecDeque<usize>,
    ) {
        let now = self.clock.now_ms();
        let index = done.index;
        let item = &mut record.items[index];
        if outcome.run_id.is_some() {
            item.run_id = outcome.run_id.clone();
        }
        // Cancelled before its run was taken up again (waiting for a shared slot): the run is
        // as it was, and so is the status shown for it (a budget's stop stays visible).
        let untouched = outcome.run_id.is_none()
            && item.run_id.is_some()
            && outcome.status == RunStatus::Cancelled;
        if !untouched {
            item.run_status = Some(outcome.status);
        }
        item.message = outcome.message.clone();
        if outcome.cost_usd.is_some() || outcome.run_id.is_some() {
            item.cost_usd = outcome.cost_usd;
            item.cost_complete = outcome.cost_complete;
            item.possibly_billed_usd = outcome.possibly_billed_usd;
            item.stop_reason = outcome.stop_reason;
        }
        item.duration_ms = Some(item.duration_ms.unwrap_or(0.0) + (now - done.started_ms));
        item.status = match outcome.status {
            RunStatus::Completed => ItemStatus::Done,
            RunStatus::Failed => ItemStatus::Failed,
            _ => ItemStatus::Pending,
        };
        if item.status == ItemStatus::Pending {
            // Stopped part-way: it goes back in line, in the batch's order (the queue is
            // ascending, being taken from the front), and resumes from its run later.
            let at = queue.partition_point(|&i| i < index);
            queue.insert(at, index);
        }
        if outcome.status == RunStatus::BudgetExceeded && !self.control.is_paused() {
            let reason = format!(
                "paused: a budget ran out ({}); raise it and resume",
                outcome.message.as_deref().unwrap_or("no detail")
            );
            self.control.pause_with(reason);
        }
        record.updated_ms = now;
        self.listener
            .on_event(&BatchEvent::ItemFinished { index }, record);

        if outcome.status == RunStatus::Completed && !done.rate_limited.get() {
            let grown = {
                let mut s = self.control.state.borrow_mut();
                s.streak += 1;
                if s.streak >= self.options.recover_after.max(1) && s.effective < s.limit {
                    s.effective += 1;
                    s.streak = 0;
                    Some(s.effective)
                } else {
                    None
                }
            };
            if let Some(effective) = grown {
                self.listener
                    .on_event(&BatchEvent::Concurrency { effective }, record);
            }
        }
    }

    fn drain_inbox(&self, record: &mut BatchRecord, in_flight: &mut [InFlight<'_>]) {
        loop {
            let signal = self.control.state.borrow_mut().inbox.pop_front();
            let Some(signal) = signal else { break };
            match signal {
                Signal::CallsDone { index } => {
                    if let Some(item) = in_flight.iter_mut().find(|f| f.index == index) {
                        item.calling = false;
                    }
                }
                Signal::RunStarted { index, run_id } => {
                    // A run that ended without waiting on anything (refused by its budget
                    // before its first call) is finished before this is read: keep its end.
                    let still_going = in_flight.iter().any(|f| f.index == index);
                    if let Some(item) = record.items.get_mut(index).filter(|_| still_going) {
                        item.run_id = Some(run_id);
                        item.run_status = Some(RunStatus::Running);
                        self.listener
                            .on_event(&BatchEvent::RunStarted { index }, record);
                    }
                }
                Signal::RateLimited {
                    generation,
                    retry_after_ms,
                    ..
                } => {
                    let now = self.clock.now_ms();
                    let (halved, until) = {
                        let mut s = self.control.state.borrow_mut();
                        s.streak = 0;
                        let halved = (generation == s.aimd_generation).then(|| {
                            s.effective = (s.effective / 2).max(1);
                            s.aimd_generation += 1;
                            s.effective
                        });
                        let until = retry_after_ms.map(|ms| {
                            let until = now + ms as f64;
                            let until = s.waiting_until_ms.map_or(until, |u| u.max(until));
                            s.waiting_until_ms = Some(until);
                            until
                        });
                        (halved, until)
                    };
                    if let Some(effective) = halved {
                        self.listener
                            .on_event(&BatchEvent::Concurrency { effective }, record);
                    }
                    if let Some(until_ms) = until {
                        self.listener
                            .on_event(&BatchEvent::Waiting { until_ms }, record);
                    }
                }
            }
        }
    }

    fn set_status(&self, record: &mut BatchRecord, status: BatchStatus) {
        record.status = status;
        record.updated_ms = self.clock.now_ms();
        self.listener.on_event(&BatchEvent::Status(status), record);
    }
}
