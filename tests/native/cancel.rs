//! Cancellation: waits registered on a long-lived token (a batch's) are taken off it when they
//! end, and a wait in progress still hears the cancel.

use std::future::pending;

use trialogue::core::cancel::CancelToken;
use trialogue::core::clock::{Clock, ManualClock};
use trialogue::core::llm::client::until_cancelled;

use crate::util::{block_on, Driver};

#[test]
fn ten_thousand_waits_on_one_token_leave_no_callbacks_behind() {
    let token = CancelToken::new();
    let clock = ManualClock::starting_at(0.0);
    for i in 0..10_000u64 {
        // A backoff that runs to its end…
        assert_eq!(
            block_on(until_cancelled(clock.sleep(i % 7), &token)),
            Some(())
        );
        // …and a request abandoned mid-wait (its future dropped while registered).
        let mut abandoned = Driver::new(until_cancelled(pending::<()>(), &token));
        assert_eq!(abandoned.run_until_stalled(), None);
        assert_eq!(
            token.pending_callbacks(),
            1,
            "the wait in progress is registered"
        );
    }
    assert_eq!(token.pending_callbacks(), 0);
    assert!(!token.is_cancelled());
}

#[test]
fn a_wait_in_progress_is_woken_by_the_cancel() {
    let token = CancelToken::new();
    let mut wait = Driver::new(until_cancelled(pending::<()>(), &token));
    assert_eq!(wait.run_until_stalled(), None);
    token.cancel();
    // The driver polls again only if the cancel woke the wait.
    assert_eq!(wait.run_until_stalled(), Some(None));
    assert_eq!(token.pending_callbacks(), 0);
}
