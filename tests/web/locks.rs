//! Tab locks (the Web Locks API) in a real browser: a held lock is refused to every other
//! request, and dropping it hands it back.

use trialogue::core::clock::Clock;
use trialogue::web::clock::BrowserClock;
use trialogue::web::locks::{batch_lock_name, claim, run_lock_name, try_hold, Claim};
use wasm_bindgen_test::wasm_bindgen_test;

#[wasm_bindgen_test]
async fn a_held_lock_is_refused_to_others_and_listed_until_dropped() {
    let name = run_lock_name("20261124T000000Z-locktest");
    let held = try_hold(&name)
        .await
        .unwrap()
        .expect("a fresh lock is free");
    assert_eq!(held.name(), name);
    assert!(
        try_hold(&name).await.unwrap().is_none(),
        "a second request for a held lock must be refused"
    );
    assert!(matches!(claim(&name).await, Claim::Taken));

    drop(held);
    // The browser hands the lock back once the promise its callback returned settles, a task
    // later; give it a few.
    let clock = BrowserClock::new();
    let mut again = Claim::Taken;
    for _ in 0..50 {
        again = claim(&name).await;
        if again.is_free() {
            break;
        }
        clock.sleep(10).await;
    }
    assert!(
        matches!(again, Claim::Held(_)),
        "a dropped lock must become free again"
    );
}

#[wasm_bindgen_test]
async fn locks_of_runs_and_batches_are_distinct() {
    let run = try_hold(&run_lock_name("x")).await.unwrap().unwrap();
    let batch = try_hold(&batch_lock_name("x")).await.unwrap();
    assert!(
        batch.is_some(),
        "a run and a batch with the same id must not share a lock"
    );
    assert_ne!(run.name(), batch.as_ref().unwrap().name());
}
