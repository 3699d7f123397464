//! The Trialogue side of the differential tests against HuggingFace math-verify 0.9.0 (the
//! Python side, tests/math_verify/, checks that math-verify still gives the
//! verdicts recorded here). Both tables are exact: a case whose verdict changes, on either
//! side, fails until the table is reviewed (tests/math_verify/compare.py prints
//! what changed), and Trialogue's accuracy may not fall below the recorded figures.

use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;

use crate::util::fixture_text;
use trialogue::core::answer::check_solution;

#[derive(Deserialize)]
struct Generated {
    id: String,
    ground_truth: String,
    solution: String,
    intended: Option<bool>,
}

#[derive(Deserialize)]
struct Disagreement {
    id: String,
    trialogue: bool,
    math_verify: bool,
    intended: Option<bool>,
    right: String,
    why: String,
}

#[derive(Deserialize)]
struct SuiteCase {
    id: String,
    gold: String,
    prediction: String,
    expected: bool,
    marked: bool,
}

#[derive(Deserialize)]
struct Suite {
    cases: Vec<SuiteCase>,
}

#[derive(Deserialize)]
struct SuiteMiss {
    id: String,
    trialogue: bool,
    right: String,
    why: String,
}

#[derive(Deserialize)]
struct DifferentialFigures {
    cases: usize,
    clear: usize,
    trialogue_right: usize,
    math_verify_right: usize,
}

#[derive(Deserialize)]
struct SuiteFigures {
    cases: usize,
    trialogue_agrees: usize,
    marked: usize,
    trialogue_agrees_marked: usize,
}

#[derive(Deserialize)]
struct Figures {
    differential: DifferentialFigures,
    suite: SuiteFigures,
}

fn json<T: for<'de> Deserialize<'de>>(path: &str) -> T {
    serde_json::from_str(&fixture_text(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn generated() -> Vec<Generated> {
    fixture_text("answers/differential/cases.jsonl")
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).expect("a generated case"))
        .collect()
}

fn figures() -> Figures {
    json("answers/differential/figures.json")
}

#[test]
fn trialogue_is_right_on_the_recorded_share_of_the_generated_cases_and_ahead_of_math_verify() {
    let cases = generated();
    let figures = figures().differential;
    assert_eq!(cases.len(), figures.cases);
    let clear: Vec<&Generated> = cases.iter().filter(|c| c.intended.is_some()).collect();
    assert_eq!(clear.len(), figures.clear);
    let right = clear
        .iter()
        .filter(|c| Some(check_solution(&c.solution, &c.ground_truth).correct) == c.intended)
        .count();
    assert!(
        right >= figures.trialogue_right,
        "Trialogue is right on {right} of {} clear cases, below the recorded {}",
        clear.len(),
        figures.trialogue_right
    );
    assert!(
        right * 100 >= clear.len() * 95,
        "below the 95 % target: {right}/{}",
        clear.len()
    );
    assert!(right > figures.math_verify_right);
}

#[test]
fn the_disagreement_table_lists_exactly_the_cases_where_trialogue_and_math_verify_differ() {
    let cases = generated();
    let math_verify: BTreeMap<String, bool> =
        json("answers/differential/math_verify_verdicts.json");
    let table: Vec<Disagreement> = json("answers/differential/disagreements.json");
    let by_id: BTreeMap<&str, &Disagreement> = table.iter().map(|d| (d.id.as_str(), d)).collect();
    let mut differing = BTreeSet::new();
    for case in &cases {
        let ours = check_solution(&case.solution, &case.ground_truth).correct;
        let theirs = math_verify[&case.id];
        if ours != theirs {
            differing.insert(case.id.as_str());
        }
        if let Some(row) = by_id.get(case.id.as_str()) {
            assert_eq!(
                row.trialogue, ours,
                "{}: Trialogue's verdict changed; review the table",
                case.id
            );
            assert_eq!(row.math_verify, theirs, "{}", case.id);
            assert_eq!(row.intended, case.intended, "{}", case.id);
            assert!(
                ["trialogue", "math-verify", "unclear"].contains(&row.right.as_str())
                    && !row.why.trim().is_empty(),
                "{}: every row says which side is right and why",
                case.id
            );
        }
    }
    let listed: BTreeSet<&str> = by_id.keys().copied().collect();
    assert_eq!(
        differing, listed,
        "disagreements (left) and the table (right) differ"
    );
}

#[test]
fn trialogue_agrees_with_math_verifys_own_suite_at_least_as_recorded() {
    let suite: Suite = json("answers/math_verify_suite.json");
    let figures = figures().suite;
    assert_eq!(suite.cases.len(), figures.cases);
    let agrees = |c: &SuiteCase| check_solution(&c.prediction, &c.gold).correct == c.expected;
    let all = suite.cases.iter().filter(|c| agrees(c)).count();
    let marked: Vec<&SuiteCase> = suite.cases.iter().filter(|c| c.marked).collect();
    let marked_agree = marked.iter().filter(|c| agrees(c)).count();
    assert_eq!(marked.len(), figures.marked);
    assert!(
        all >= figures.trialogue_agrees,
        "{all} < {}",
        figures.trialogue_agrees
    );
    assert!(
        marked_agree >= figures.trialogue_agrees_marked,
        "{marked_agree} < {}",
        figures.trialogue_agrees_marked
    );
    assert!(
        marked_agree * 10 >= marked.len() * 9,
        "below the 90 % target: {marked_agree}/{}",
        marked.len()
    );
}

#[test]
fn every_case_of_math_verifys_suite_trialogue_misses_is_listed_with_its_reason() {
    let suite: Suite = json("answers/math_verify_suite.json");
    let misses: Vec<SuiteMiss> = json("answers/suite_misses.json");
    let missed: BTreeSet<&str> = suite
        .cases
        .iter()
        .filter(|c| check_solution(&c.prediction, &c.gold).correct != c.expected)
        .map(|c| c.id.as_str())
        .collect();
    let listed: BTreeSet<&str> = misses.iter().map(|m| m.id.as_str()).collect();
    assert_eq!(
        missed, listed,
        "misses now (left) and the table (right) differ"
    );
    for miss in &misses {
        let case = suite
            .cases
            .iter()
            .find(|c| c.id == miss.id)
            .expect("listed case exists");
        assert_eq!(miss.trialogue, !case.expected, "{}", miss.id);
        assert!(
            ["trialogue", "math-verify", "configuration", "unmarked"]
                .contains(&miss.right.as_str())
                && !miss.why.trim().is_empty(),
            "{}: every miss says who is right and why",
            miss.id
        );
    }
}
