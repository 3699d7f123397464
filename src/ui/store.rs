//! The run store as the app shares it: one connection, opened the first time anything needs it
//! behind one shared open future, and provided as context ([`SharedStore`]).
//!
//! The code that opens (and upgrades) the database is split off the first page's wasm, with the
//! start-up checks (`startup_checks`): the Configure page never reads the store, and the checks
//! that do fetch the chunk right after the first page draws.

use std::cell::RefCell;
use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Poll, Waker};

use leptos::prelude::*;
use leptos::wasm_split::{wasm_split, SplitLoaderError};
use wasm_bindgen_futures::spawn_local;

use crate::web::idb::{StoreError, TrajectoryStore};

/// What opening the store gives.
type Opened = Result<TrajectoryStore, StoreError>;

/// An open under way or done, which every caller that asks meanwhile awaits.
///
/// The open runs as a task of its own, so a caller that goes away (a page left mid-load) never
/// stalls it for the others. (Not `futures`' `Shared`: that brings a mutex and a slab into the
/// first page's wasm for what is one thread's wait.)
#[derive(Default)]
struct Open {
    result: RefCell<Option<Opened>>,
    waiting: RefCell<Vec<Waker>>,
}

impl Open {
    fn settle(&self, result: Opened) {
        *self.result.borrow_mut() = Some(result);
        for waker in self.waiting.take() {
            waker.wake();
        }
    }

    async fn result(&self) -> Opened {
        poll_fn(|cx| match &*self.result.borrow() {
            Some(result) => Poll::Ready(result.clone()),
            None => {
                let mut waiting = self.waiting.borrow_mut();
                if !waiting.iter().any(|w| w.will_wake(cx.waker())) {
                    waiting.push(cx.waker().clone());
                }
                Poll::Pending
            }
        })
        .await
    }
}

type Opening = Pin<Box<dyn Future<Output = Opened>>>;

struct Connection {
    /// Starts opening a connection.
    opener: Box<dyn Fn() -> Opening>,
    /// The open every caller shares; `None` before the first call and after a failed open.
    open: RefCell<Option<Rc<Open>>>,
}

/// The page's one connection to the run store (a context value:
/// `expect_context::<SharedStore>()`, then [`SharedStore::open`]).
///
/// At load the run and batch start-up checks and the first page all ask at once; they await
/// the one open rather than each opening a connection (every open costs the page a round trip
/// through the browser's database process before its first read).
///
/// A failed open is not remembered, so the next call tries again (the user may have closed the
/// other tab that blocked an upgrade). A connection that was closed under us (a newer
/// Trialogue upgraded the database) knows it ([`TrajectoryStore::is_closed`]), and the next
/// call opens a new one.
#[derive(Clone, Copy)]
pub struct SharedStore(StoredValue<Connection, LocalStorage>);

impl SharedStore {
    /// The app's database ([`crate::web::idb::DB_NAME`]), not opened yet.
    pub fn new() -> Self {
        Self::with_opener(TrajectoryStore::open)
    }

    /// A store whose connections `opener` opens (tests use databases of their own).
    pub fn with_opener<F, Fut>(opener: F) -> Self
    where
        F: Fn() -> Fut + 'static,
        Fut: Future<Output = Opened> + 'static,
    {
        SharedStore(StoredValue::new_local(Connection {
            opener: Box::new(move || Box::pin(opener())),
            open: RefCell::new(None),
        }))
    }

    /// The open store: the connection opened before while it is open, else the open under way,
    /// else a new open.
    pub async fn open(self) -> Result<TrajectoryStore, StoreError> {
        let open = self.current();
        match open.result().await {
            Ok(store) if store.is_closed() => {
                self.forget(&open);
                self.current().result().await
            }
            Err(error) => {
                self.forget(&open);
                Err(error)
            }
            opened => opened,
        }
    }

    /// The open under way or done, or a new one.
    fn current(self) -> Rc<Open> {
        self.0.with_value(|c| {
            let mut slot = c.open.borrow_mut();
            if let Some(open) = slot.as_ref() {
                return Rc::clone(open);
            }
            let open = Rc::new(Open::default());
            let opening = (c.opener)();
            let settled = Rc::clone(&open);
            spawn_local(async move { settled.settle(opening.await) });
            *slot = Some(Rc::clone(&open));
            open
        })
    }

    /// Drops `done` unless a newer open replaced it already (another caller saw it fail first).
    fn forget(self, done: &Rc<Open>) {
        self.0.with_value(|c| {
            let mut slot = c.open.borrow_mut();
            if slot
                .as_ref()
                .is_some_and(|current| Rc::ptr_eq(current, done))
            {
                *slot = None;
            }
        });
    }
}

/// Opens the app's database with the split-off code, fetching it the first time.
async fn open_app_database() -> Opened {
    match app_database_opening().await {
        Ok(opening) => opening.await,
        Err(_) => Err(StoreError::CodeUnavailable),
    }
}

/// Starts opening the app's database, once the chunk holding the open is loaded.
#[wasm_split(startup_checks, wasm_split_path = ::leptos::wasm_split, fallible)]
fn app_database_opening() -> Result<Opening, SplitLoaderError> {
    Ok(Box::pin(TrajectoryStore::open()))
}

impl Default for SharedStore {
    fn default() -> Self {
        Self::new()
    }
}

/// Provides the app's [`SharedStore`], which opens the database with the split-off code, as
/// context. The root component calls it once, before anything that reads the store. (Only the
/// app build resolves a split point, so the split open is reached from here alone, never from
/// code the browser tests link.)
pub fn provide_store() {
    provide_context(SharedStore::with_opener(open_app_database));
}
