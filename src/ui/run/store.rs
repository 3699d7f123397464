//! The page's one connection to the run store, opened on first use and shared after that.

use std::cell::RefCell;

use crate::web::idb::{StoreError, TrajectoryStore};

thread_local! {
    static STORE: RefCell<Option<TrajectoryStore>> = const { RefCell::new(None) };
}

/// The open run store; the first call opens it, later calls share that connection.
///
/// A failed open is not remembered, so the next call tries again (the user may have closed the
/// other tab that blocked an upgrade). A connection that was closed under us (a newer
/// Trialogue upgraded the database) is dropped by [`forget_if_closed`] and opened afresh.
pub async fn run_store() -> Result<TrajectoryStore, StoreError> {
    if let Some(store) = STORE.with(|s| s.borrow().clone()) {
        return Ok(store);
    }
    let store = TrajectoryStore::open().await?;
    STORE.with(|s| *s.borrow_mut() = Some(store.clone()));
    Ok(store)
}

/// Drops the shared connection when `error` says it was closed, so the next
/// [`run_store`] opens a new one.
pub fn forget_if_closed(error: &StoreError) {
    if matches!(error, StoreError::Closed { .. }) {
        STORE.with(|s| *s.borrow_mut() = None);
    }
}
