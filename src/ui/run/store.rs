//! The page's one connection to the run store, opened on first use and shared after that.

use std::cell::RefCell;

use crate::core::clock::Clock;
use crate::web::clock::BrowserClock;
use crate::web::idb::{StoreError, TrajectoryStore};

/// Where the shared connection stands.
#[derive(Clone)]
enum Slot {
    /// Not open: never opened, the last open failed, or it was closed under us.
    Closed,
    /// A caller is opening it; others wait for that open instead of starting their own.
    Opening,
    Open(TrajectoryStore),
}

thread_local! {
    static STORE: RefCell<Slot> = const { RefCell::new(Slot::Closed) };
}

/// How long a caller waits before looking again while another one opens the store.
const OPENING_POLL_MS: u64 = 2;

/// The open run store; the first call opens it, later calls share that connection.
///
/// At load the run and batch start-up checks and the first page all ask at once; they share
/// the one open rather than each opening a connection (every open costs the page a round trip
/// through the browser's database process before its first read).
///
/// A failed open is not remembered, so the next call tries again (the user may have closed the
/// other tab that blocked an upgrade). A connection that was closed under us (a newer
/// Trialogue upgraded the database) is dropped by [`forget_if_closed`] and opened afresh.
pub async fn run_store() -> Result<TrajectoryStore, StoreError> {
    loop {
        match STORE.with(|s| s.borrow().clone()) {
            Slot::Open(store) => return Ok(store),
            Slot::Opening => BrowserClock::new().sleep(OPENING_POLL_MS).await,
            Slot::Closed => break,
        }
    }
    STORE.with(|s| *s.borrow_mut() = Slot::Opening);
    let opened = TrajectoryStore::open().await;
    STORE.with(|s| {
        *s.borrow_mut() = match &opened {
            Ok(store) => Slot::Open(store.clone()),
            Err(_) => Slot::Closed,
        }
    });
    opened
}

/// Drops the shared connection when `error` says it was closed, so the next
/// [`run_store`] opens a new one.
pub fn forget_if_closed(error: &StoreError) {
    if matches!(error, StoreError::Closed { .. }) {
        STORE.with(|s| {
            let mut slot = s.borrow_mut();
            if matches!(*slot, Slot::Open(_)) {
                *slot = Slot::Closed;
            }
        });
    }
}
