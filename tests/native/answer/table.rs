//! The hand table (tests/fixtures/answers/cases.json): MATH-500-style ground truths against
//! model outputs, each verdict with its source (see the fixture's README).

use serde::Deserialize;

use crate::util::fixture_text;
use trialogue::core::answer::{check_solution, normalize_answer};

#[derive(Deserialize)]
struct Case {
    ground_truth: String,
    model_output: String,
    expected: bool,
    source: String,
    why: String,
}

fn cases() -> Vec<Case> {
    let text = fixture_text("answers/cases.json");
    serde_json::from_str(&text).expect("the answer table is valid JSON")
}

#[test]
fn every_case_in_the_table_gets_the_expected_verdict() {
    let cases = cases();
    assert!(cases.len() >= 60, "the table has {} cases", cases.len());
    let wrong: Vec<String> = cases
        .iter()
        .filter_map(|c| {
            let check = check_solution(&c.model_output, &c.ground_truth);
            (check.correct != c.expected).then(|| {
                format!(
                    "{:?} vs {:?} ({}): expected {}, got {} (extracted {:?}, normalized {:?} vs {:?})",
                    c.ground_truth,
                    c.model_output,
                    c.why,
                    c.expected,
                    check.correct,
                    check.extracted,
                    normalize_answer(&c.ground_truth),
                    check.extracted.as_deref().map(normalize_answer),
                )
            })
        })
        .collect();
    assert!(
        wrong.is_empty(),
        "{} wrong verdicts:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}

#[test]
fn every_verdict_has_a_stated_source_and_none_cites_the_checker() {
    for c in cases() {
        assert!(
            c.source == "math500-grader" || c.source == "human",
            "{:?}: source {:?}",
            c.ground_truth,
            c.source
        );
        assert!(
            !c.why.trim().is_empty(),
            "{:?} has no reason",
            c.ground_truth
        );
        // A verdict derived from the checker's own tolerance would test the checker against itself.
        assert!(
            !c.why.contains("1e-"),
            "{:?} cites a tolerance: {}",
            c.ground_truth,
            c.why
        );
    }
}

#[test]
fn the_table_has_both_verdicts_in_good_number() {
    let cases = cases();
    let negatives = cases.iter().filter(|c| !c.expected).count();
    assert!(negatives >= 15, "only {negatives} negative cases");
    assert!(cases.len() - negatives >= 40);
}
