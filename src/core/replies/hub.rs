//! [`ReplyHub`]: the reply store as a session's runs share it — the requests in flight, the
//! index of stored hashes, and the writes of paid replies, kept off the call's path.
//!
//! A paid reply is handed to the hub and the call goes on; the hub writes the replies one at a
//! time, in the order they were paid, in a task of its own (when it was given a spawner; without
//! one each write is awaited where it is made). Until its write is done a reply answers from the
//! queue, so a later identical request of the session finds it either way, and
//! [`ReplyHub::flushed`] lets a run's end wait for every write. A write that fails is kept as a
//! [`ReplyWriteFailure`] for the session to report.

use std::cell::{Cell, RefCell};
use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Poll, Waker};

use super::cache::Flight;
use super::known::{Known, StoredHashes};
use super::reads::ReadQueue;
use super::store::{ReplyStore, ReplyStoreError, StoredReply};

/// Runs a future to its end on the page's executor (`spawn_local` in the browser).
pub type Spawner = Rc<dyn Fn(Pin<Box<dyn Future<Output = ()>>>)>;

/// A paid reply the store refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the reply to request {request_hash} (paid by run {paid_by}) could not be kept: {error}")]
pub struct ReplyWriteFailure {
    /// The request's address.
    pub request_hash: String,
    /// The run that paid for it.
    pub paid_by: String,
    /// Why the store refused it.
    pub error: ReplyStoreError,
}

/// The store, the requests in flight and the writes on their way, shared by every run of a
/// session.
pub struct ReplyHub<S> {
    store: S,
    pub(super) flights: RefCell<HashMap<String, Rc<Flight>>>,
    known: Rc<StoredHashes>,
    /// Reads of stored replies, gathered while one is on its way.
    reads: ReadQueue,
    spawner: Option<Spawner>,
    /// Replies waiting to be written, oldest first; the front one is being written.
    queue: RefCell<VecDeque<StoredReply>>,
    writing: Cell<bool>,
    idle_waiters: RefCell<Vec<Waker>>,
    failures: RefCell<Vec<ReplyWriteFailure>>,
}

impl<S> std::fmt::Debug for ReplyHub<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReplyHub")
            .field("flights", &self.flights.borrow().len())
            .field("queued", &self.queue.borrow().len())
            .finish()
    }
}

impl<S: ReplyStore> ReplyHub<S> {
    /// A hub over `store` that awaits each write where it is made and reads its own index.
    pub fn new(store: S) -> Rc<Self> {
        Self::with_options(store, StoredHashes::new(), None)
    }

    /// A hub over `store` whose index is `known` (shared, so it is read once for many hubs)
    /// and whose writes run in tasks `spawner` starts, off the call's path.
    pub fn in_background(store: S, known: Rc<StoredHashes>, spawner: Spawner) -> Rc<Self> {
        Self::with_options(store, known, Some(spawner))
    }

    fn with_options(store: S, known: Rc<StoredHashes>, spawner: Option<Spawner>) -> Rc<Self> {
        Rc::new(ReplyHub {
            store,
            flights: RefCell::default(),
            known,
            reads: ReadQueue::default(),
            spawner,
            queue: RefCell::default(),
            writing: Cell::new(false),
            idle_waiters: RefCell::default(),
            failures: RefCell::default(),
        })
    }

    /// The store.
    pub fn store(&self) -> &S {
        &self.store
    }

    /// Forgets the flight of `request_hash` (its reply is queued or stored, or it failed).
    pub fn settle(&self, request_hash: &str) {
        self.flights.borrow_mut().remove(request_hash);
    }

    fn queued(&self, request_hash: &str) -> Option<StoredReply> {
        self.queue
            .borrow()
            .iter()
            .find(|r| r.request_hash == request_hash)
            .cloned()
    }

    /// The reply stored (or queued) under `request_hash`, for a request that may reuse one. A
    /// hash the index does not list costs no read; a listed one is read, and dropped from the
    /// index if the store no longer holds it. A store that cannot be read is a miss.
    pub async fn lookup(&self, request_hash: &str) -> Option<StoredReply> {
        if let Some(reply) = self.queued(request_hash) {
            return Some(reply);
        }
        if !self.known.is_filled() {
            // Read once; a failed read leaves the index empty and every lookup asks the store.
            if let Ok(hashes) = self.store.stored_hashes().await {
                self.known.fill(hashes);
            }
        }
        if self.known.lookup(request_hash) == Known::Absent {
            return None;
        }
        match self.reads.read(&self.store, request_hash).await {
            Ok(Some(reply)) => {
                self.known.insert(request_hash);
                Some(reply)
            }
            Ok(None) => {
                self.known.remove(request_hash);
                None
            }
            Err(_) => None,
        }
    }

    /// The reply under `request_hash` read from the queue or the store itself, whatever the
    /// index says (a replay needs every reply and reports a failed read).
    pub async fn read(&self, request_hash: &str) -> Result<Option<StoredReply>, ReplyStoreError> {
        if let Some(reply) = self.queued(request_hash) {
            return Ok(Some(reply));
        }
        self.reads.read(&self.store, request_hash).await
    }

    /// The writes that failed so far, taken (each is reported once).
    pub fn take_failures(&self) -> Vec<ReplyWriteFailure> {
        std::mem::take(&mut *self.failures.borrow_mut())
    }

    /// Resolves once every reply handed to [`Self::keep`] so far is written (or has failed).
    pub async fn flushed(&self) {
        std::future::poll_fn(|cx| {
            if !self.writing.get() && self.queue.borrow().is_empty() {
                Poll::Ready(())
            } else {
                self.idle_waiters.borrow_mut().push(cx.waker().clone());
                Poll::Pending
            }
        })
        .await
    }

    async fn write(&self, reply: &StoredReply) {
        if let Err(error) = self.store.put_reply(reply).await {
            self.known.remove(&reply.request_hash);
            self.failures.borrow_mut().push(ReplyWriteFailure {
                request_hash: reply.request_hash.clone(),
                paid_by: reply.paid_by.clone(),
                error,
            });
        }
    }

    /// Writes the queue front to back, each reply leaving the queue once it is written.
    async fn drain(&self) {
        loop {
            let front = self.queue.borrow().front().cloned();
            let Some(reply) = front else { break };
            self.write(&reply).await;
            self.queue.borrow_mut().pop_front();
        }
        self.writing.set(false);
        for waker in self.idle_waiters.borrow_mut().drain(..) {
            waker.wake();
        }
    }
}

impl<S: ReplyStore + 'static> ReplyHub<S> {
    /// Keeps a paid reply: listed and answerable at once, written in order behind the ones
    /// before it. Without a spawner the write is awaited here.
    pub async fn keep(self: &Rc<Self>, reply: StoredReply) {
        self.known.insert(&reply.request_hash);
        let Some(spawner) = &self.spawner else {
            self.write(&reply).await;
            return;
        };
        self.queue.borrow_mut().push_back(reply);
        if !self.writing.replace(true) {
            let hub = Rc::clone(self);
            spawner(Box::pin(async move { hub.drain().await }));
        }
    }
}
