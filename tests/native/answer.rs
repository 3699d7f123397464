//! The answer-checking table: MATH-500-style ground truths against model outputs, with the
//! verdict a careful human grader would give (see tests/fixtures/answers/README.md).

use serde::Deserialize;

use crate::util::fixture_text;
use trialogue::core::answer::{answers_match, check_solution, extract_answer, normalize_answer};

#[derive(Deserialize)]
struct Case {
    ground_truth: String,
    model_output: String,
    expected: bool,
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
fn the_table_has_both_verdicts_in_good_number() {
    let cases = cases();
    let negatives = cases.iter().filter(|c| !c.expected).count();
    assert!(negatives >= 15, "only {negatives} negative cases");
    assert!(cases.len() - negatives >= 40);
}

#[test]
fn matching_is_symmetric_on_the_table() {
    for c in cases() {
        if let Some(answer) = extract_answer(&c.model_output) {
            assert_eq!(
                answers_match(&c.ground_truth, &answer),
                answers_match(&answer, &c.ground_truth),
                "{:?} / {:?}",
                c.ground_truth,
                answer
            );
        }
    }
}
