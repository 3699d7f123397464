//! Reads a response body's stream in a loop of the browser's own promises, and hands the
//! reader what arrived in batches ([`ChunkGather`]).
//!
//! Awaiting each `read()` from Rust made every piece of a stream a future of its own (two
//! closures made and dropped, a task woken, everything above the read polled again). Here the
//! read loop is chained on the stream's promises with one pair of closures per body, and the
//! Rust reader is woken once per batch of pieces: at once for the first piece, the end, a
//! failure or a large backlog, otherwise by one timer shared by every stream of the page, so
//! all the pieces that came within a gathering interval are handled in one wake.
//!
//! An abort (cancel, timeout) rejects the pending read, which ends the pump at once with that
//! rejection; a connection cut mid-body does the same, so both stay the transport errors they
//! were.

use std::cell::{Cell, RefCell};
use std::future::poll_fn;
use std::rc::{Rc, Weak};
use std::task::{Poll, Waker};

use js_sys::Uint8Array;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{ReadableStreamDefaultReader, ReadableStreamReadResult};

use crate::core::clock::Clock;
use crate::core::llm::chunk_gather::{Arrival, ChunkGather, Delivery, GATHER_INTERVAL_MS};
use crate::core::llm::transport::TransportError;
use crate::web::clock::BrowserClock;

/// Why a pumped body ended before its end.
pub enum PumpFailure {
    /// The pending read rejected (an abort, a cut connection).
    Js(JsValue),
    /// The body broke a rule of ours (it is longer than its limit).
    Transport(TransportError),
}

/// The read callbacks of one body: they re-arm themselves after each piece.
type ReadCallbacks = (Closure<dyn FnMut(JsValue)>, Closure<dyn FnMut(JsValue)>);

struct PumpState {
    gather: ChunkGather,
    end: Option<Result<(), PumpFailure>>,
    waker: Option<Waker>,
    /// Whether the shared timer will wake this body's reader.
    queued: bool,
    reader: ReadableStreamDefaultReader,
    /// Held from the first read to the end: each read's promise calls them, and they hold
    /// this state (a cycle the end breaks).
    callbacks: Option<ReadCallbacks>,
    /// One piece's bytes, copied out of the browser's buffer.
    piece: Vec<u8>,
}

/// Hands every piece of `reader`'s stream to `on_batch`, gathered (see the module doc), with
/// where each piece ends in the batch and when it arrived, until the stream ends, fails, or
/// passes `limit` bytes (then the stream is cancelled).
pub async fn pump_chunks(
    reader: ReadableStreamDefaultReader,
    limit: usize,
    on_batch: &mut dyn FnMut(&[u8], &[Arrival]),
) -> Result<(), PumpFailure> {
    let pump = Pump::start(reader, limit);
    let (mut batch, mut arrivals) = (Vec::new(), Vec::new());
    loop {
        let end = poll_fn(|cx| pump.poll_batch(cx.waker(), &mut batch, &mut arrivals)).await;
        if !batch.is_empty() {
            on_batch(&batch, &arrivals);
        }
        if let Some(end) = end {
            return end;
        }
    }
}

/// One body being pumped; dropping it before the end cancels the stream.
struct Pump {
    state: Rc<RefCell<PumpState>>,
}

impl Pump {
    fn start(reader: ReadableStreamDefaultReader, limit: usize) -> Pump {
        let state = Rc::new(RefCell::new(PumpState {
            gather: ChunkGather::new(limit),
            end: None,
            waker: None,
            queued: false,
            reader,
            callbacks: None,
            piece: Vec::new(),
        }));
        let on_read = {
            let state = Rc::clone(&state);
            Closure::<dyn FnMut(JsValue)>::new(move |result: JsValue| on_read(&state, result))
        };
        let on_reject = {
            let state = Rc::clone(&state);
            Closure::<dyn FnMut(JsValue)>::new(move |error: JsValue| {
                finish(&state, Err(PumpFailure::Js(error)));
            })
        };
        {
            let mut s = state.borrow_mut();
            let _ = s.reader.read().then2(&on_read, &on_reject);
            s.callbacks = Some((on_read, on_reject));
        }
        Pump { state }
    }

    /// Moves what arrived into `batch` and its pieces' ends and times into `arrivals`; ready
    /// with the end too once the body is over.
    fn poll_batch(
        &self,
        waker: &Waker,
        batch: &mut Vec<u8>,
        arrivals: &mut Vec<Arrival>,
    ) -> Poll<Option<Result<(), PumpFailure>>> {
        let mut s = self.state.borrow_mut();
        if s.gather.has_pending() {
            s.gather.take_into(batch, arrivals);
            return Poll::Ready(s.end.take());
        }
        batch.clear();
        arrivals.clear();
        if let Some(end) = s.end.take() {
            return Poll::Ready(Some(end));
        }
        match &mut s.waker {
            Some(w) if w.will_wake(waker) => {}
            slot => *slot = Some(waker.clone()),
        }
        Poll::Pending
    }
}

impl Drop for Pump {
    fn drop(&mut self) {
        let s = self.state.borrow();
        if s.callbacks.is_some() {
            // The read pending resolves as done, which ends the pump and frees its callbacks.
            let _ = s.reader.cancel();
        }
    }
}

/// One `read()` resolved: keep its piece, decide when the reader has it, read on.
fn on_read(state: &Rc<RefCell<PumpState>>, result: JsValue) {
    let result: ReadableStreamReadResult = result.unchecked_into();
    if result.get_done() != Some(false) {
        finish(state, Ok(()));
        return;
    }
    let value = Uint8Array::new(&result.get_value());
    let delivery = {
        let mut s = state.borrow_mut();
        let mut piece = std::mem::take(&mut s.piece);
        piece.resize(value.length() as usize, 0);
        value.copy_to(&mut piece);
        let delivery = s.gather.push(&piece, BrowserClock::new().now_ms());
        s.piece = piece;
        delivery
    };
    match delivery {
        Err(too_large) => {
            // The rejection of the cancelled stream's reads is of no interest.
            let _ = state.borrow().reader.cancel();
            finish(state, Err(PumpFailure::Transport(too_large)));
            return;
        }
        Ok(Delivery::Now) => wake(state),
        Ok(Delivery::Later) => {
            let mut s = state.borrow_mut();
            if !s.queued {
                s.queued = true;
                drop(s);
                GATHERED.with(|g| g.queue(Rc::downgrade(state)));
            }
        }
    }
    let s = state.borrow();
    if let Some((on_read, on_reject)) = &s.callbacks {
        let _ = s.reader.read().then2(on_read, on_reject);
    }
}

/// The body is over: the reader is woken, and the callbacks (called no more) are let go, which
/// breaks the cycle through them. A closure dropped while it runs is freed when it returns.
fn finish(state: &Rc<RefCell<PumpState>>, end: Result<(), PumpFailure>) {
    let callbacks = {
        let mut s = state.borrow_mut();
        if s.end.is_none() && s.callbacks.is_some() {
            s.end = Some(end);
        }
        s.callbacks.take()
    };
    wake(state);
    drop(callbacks);
}

fn wake(state: &Rc<RefCell<PumpState>>) {
    let waker = state.borrow_mut().waker.take();
    if let Some(waker) = waker {
        waker.wake();
    }
}

thread_local! {
    static GATHERED: Gathered = Gathered::default();
}

/// The bodies whose readers the next tick of the shared timer wakes.
#[derive(Default)]
struct Gathered {
    queue: RefCell<Vec<Weak<RefCell<PumpState>>>>,
    armed: Cell<bool>,
    tick: RefCell<Option<Closure<dyn FnMut()>>>,
}

impl Gathered {
    fn queue(&self, pump: Weak<RefCell<PumpState>>) {
        self.queue.borrow_mut().push(pump);
        if self.armed.get() {
            return;
        }
        let mut tick = self.tick.borrow_mut();
        let tick = tick.get_or_insert_with(|| Closure::new(|| GATHERED.with(Gathered::deliver)));
        let armed = web_sys::window().and_then(|w| {
            w.set_timeout_with_callback_and_timeout_and_arguments_0(
                tick.as_ref().unchecked_ref(),
                GATHER_INTERVAL_MS,
            )
            .ok()
        });
        match armed {
            Some(_) => self.armed.set(true),
            // No timer to be had: deliver at once rather than never.
            None => self.deliver(),
        }
    }

    fn deliver(&self) {
        self.armed.set(false);
        let pumps = std::mem::take(&mut *self.queue.borrow_mut());
        for pump in pumps.iter().filter_map(Weak::upgrade) {
            pump.borrow_mut().queued = false;
            wake(&pump);
        }
    }
}
