//! Answer checking: the hand table with its verdicts' sources, one test per failure class of
//! issue 17, the bounds that keep hostile text cheap, and the differential tests against
//! math-verify (whose Python side is tests/math_verify/).

mod bounds;
mod classes;
mod differential;
mod table;

use trialogue::core::answer::check_solution;

/// Asserts that `solution` answers `truth` correctly.
#[track_caller]
fn right(truth: &str, solution: &str) {
    let check = check_solution(solution, truth);
    assert!(
        check.correct,
        "{solution:?} should be right for {truth:?} (extracted {:?}, unreadable {:?})",
        check.extracted, check.unreadable
    );
}

/// Asserts that `solution` does not answer `truth` correctly.
#[track_caller]
fn wrong(truth: &str, solution: &str) {
    let check = check_solution(solution, truth);
    assert!(
        !check.correct,
        "{solution:?} should be wrong for {truth:?} (extracted {:?})",
        check.extracted
    );
}
