//! The app's shared connection to the run store (`ui::store::SharedStore`) in a real browser:
//! one open for every caller, a failed open tried again, a closed connection replaced. Each
//! test opens a database of its own and deletes it at the end.

use std::cell::Cell;
use std::rc::Rc;

use indexed_db_futures::database::Database;
use wasm_bindgen_test::wasm_bindgen_test;

use trialogue::ui::store::SharedStore;
use trialogue::web::idb::{StoreError, TrajectoryStore, DB_VERSION};

use crate::util::next_tick;

/// A store over database `name` that counts the opens it starts; the first `failures` opens
/// fail as a blocked upgrade does (after a turn of the event loop, as a real open would).
fn counting(name: &'static str, failures: u32) -> (SharedStore, Rc<Cell<u32>>) {
    let opens = Rc::new(Cell::new(0));
    let counter = Rc::clone(&opens);
    let store = SharedStore::with_opener(move || {
        let attempt = counter.get() + 1;
        counter.set(attempt);
        async move {
            if attempt <= failures {
                next_tick().await;
                Err(StoreError::Blocked {
                    name: name.to_string(),
                })
            } else {
                TrajectoryStore::open_named(name).await
            }
        }
    });
    (store, opens)
}

#[wasm_bindgen_test]
async fn callers_asking_at_once_share_one_open() {
    const NAME: &str = "trialogue-test-shared-once";
    TrajectoryStore::delete_database(NAME).await.unwrap();
    let (store, opens) = counting(NAME, 0);
    let (a, b, c) = futures::join!(store.open(), store.open(), store.open());
    assert_eq!(opens.get(), 1, "three callers, one open");
    assert!(a.is_ok() && b.is_ok() && c.is_ok());
    let later = store.open().await.unwrap();
    assert_eq!(opens.get(), 1, "an open connection is kept");
    later.close();
    TrajectoryStore::delete_database(NAME).await.unwrap();
}

#[wasm_bindgen_test]
async fn a_failed_open_is_not_remembered() {
    const NAME: &str = "trialogue-test-shared-retry";
    TrajectoryStore::delete_database(NAME).await.unwrap();
    let (store, opens) = counting(NAME, 1);
    let (first, second) = futures::join!(store.open(), store.open());
    assert!(
        matches!(first, Err(StoreError::Blocked { .. })),
        "{first:?}"
    );
    assert!(
        matches!(second, Err(StoreError::Blocked { .. })),
        "a caller waiting on the failed open gets its error: {second:?}"
    );
    assert_eq!(opens.get(), 1);
    let store_now = store.open().await.expect("the next call opens again");
    assert_eq!(opens.get(), 2);
    assert!(!store_now.is_closed());
    store_now.close();
    TrajectoryStore::delete_database(NAME).await.unwrap();
}

#[wasm_bindgen_test]
async fn a_connection_closed_under_it_is_opened_afresh() {
    const NAME: &str = "trialogue-test-shared-reopen";
    TrajectoryStore::delete_database(NAME).await.unwrap();
    let (store, opens) = counting(NAME, 0);
    let first = store.open().await.unwrap();
    let newer = Database::open(NAME)
        .with_version(first.version() + 1)
        .await
        .expect("the page's connection closes for the newer version");
    assert!(first.is_closed());
    newer.close();
    // Back to the app's own version, as a fresh install would be.
    TrajectoryStore::delete_database(NAME).await.unwrap();
    let reopened = store
        .open()
        .await
        .expect("a new connection, not the closed one");
    assert_eq!(opens.get(), 2);
    assert!(!reopened.is_closed());
    assert_eq!(reopened.version(), DB_VERSION);
    assert_eq!(reopened.list_runs().await.unwrap(), vec![]);
    reopened.close();
    TrajectoryStore::delete_database(NAME).await.unwrap();
}
