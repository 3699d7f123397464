//! A page's async job as signals (`ui::job::Job`): going while it runs, its outcome once it
//! ends, and only the newest run's outcome.

use futures::channel::oneshot;
use leptos::prelude::GetUntracked;
use wasm_bindgen_test::wasm_bindgen_test;

use trialogue::ui::job::Job;

use crate::util::next_tick;

/// Work that ends with what is sent on the returned sender.
fn work() -> (
    oneshot::Sender<u32>,
    impl std::future::Future<Output = u32> + 'static,
) {
    let (tx, rx) = oneshot::channel();
    (tx, async move { rx.await.unwrap_or(0) })
}

#[wasm_bindgen_test]
async fn a_run_is_going_until_it_ends_and_leaves_its_outcome() {
    let job = Job::<u32>::new();
    assert!(!job.going());
    let (end, first) = work();
    job.run(first);
    assert!(job.going());
    assert_eq!(job.outcome().get_untracked(), None);
    end.send(7).unwrap();
    next_tick().await;
    assert!(!job.going());
    assert_eq!(job.outcome().get_untracked(), Some(7));

    let (end, second) = work();
    job.run(second);
    assert_eq!(
        job.outcome().get_untracked(),
        None,
        "a new run clears the last outcome"
    );
    end.send(8).unwrap();
    next_tick().await;
    assert_eq!(job.outcome().get_untracked(), Some(8));
}

#[wasm_bindgen_test]
async fn only_the_newest_run_lands() {
    let job = Job::<u32>::new();
    let (end_older, older) = work();
    let (end_newer, newer) = work();
    job.run(older);
    job.run(newer);
    end_newer.send(2).unwrap();
    next_tick().await;
    assert_eq!(job.outcome().get_untracked(), Some(2));
    assert!(!job.going());
    end_older.send(1).unwrap();
    next_tick().await;
    assert_eq!(
        job.outcome().get_untracked(),
        Some(2),
        "the older run ended last but does not land"
    );
    assert!(!job.going());
}

#[wasm_bindgen_test]
async fn a_run_keeping_the_outcome_shows_the_last_one_until_its_own() {
    let job = Job::<u32>::new();
    let (end, first) = work();
    job.run(first);
    end.send(1).unwrap();
    next_tick().await;
    let (end, again) = work();
    job.run_keeping(again);
    assert!(job.going());
    assert_eq!(job.outcome().get_untracked(), Some(1));
    end.send(2).unwrap();
    next_tick().await;
    assert_eq!(job.outcome().get_untracked(), Some(2));
}
