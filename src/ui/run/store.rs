//! The page's one connection to the run store, opened on first use and shared after that.

use std::cell::RefCell;

use crate::core::clock::Clock;
use crate::web::clock::BrowserClock;
use crate::web::idb::{StoreError, TrajectoryStore};

/// Where the shared connection stands.
#[derive(Clone)]
enum Slot {
    /// Not open: never opened, or the last open failed.
    Closed,
    /// A caller is opening it; others wait for that open instead of starting their own.
    Opening,
    /// Opened; replaced on the next call once it was closed under us.
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
/// Trialogue upgraded the database) knows it ([`TrajectoryStore::is_closed`]), and the next
/// call opens a new one.
pub async fn run_store() -> Result<TrajectoryStore, StoreError> {
    loop {
        match STORE.with(|s| s.borrow().clone()) {
            Slot::Open(store) if !store.is_closed() => return Ok(store),
            Slot::Open(_) => break,
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
