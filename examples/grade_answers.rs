//! Grades a JSONL file of answer-checking cases with Trialogue's checker, for the differential
//! harness against math-verify (tests/differential/math_verify/compare.py).
//!
//!     cargo run --release --example grade_answers -- CASES.jsonl
//!
//! Each input line is an object with `id`, `solution` and `ground_truth`; each output line is
//! `{"id", "correct", "extracted"}`, in the input's order.

use std::io::{BufRead, BufReader, Write};

use serde::{Deserialize, Serialize};
use trialogue::core::answer::check_solution;

#[derive(Deserialize)]
struct Case {
    id: String,
    solution: String,
    ground_truth: String,
}

#[derive(Serialize)]
struct Verdict<'a> {
    id: &'a str,
    correct: bool,
    extracted: Option<String>,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args()
        .nth(1)
        .ok_or("usage: grade_answers CASES.jsonl (one {id, solution, ground_truth} per line)")?;
    let file = std::fs::File::open(&path).map_err(|e| format!("cannot open {path}: {e}"))?;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    for (number, line) in BufReader::new(file).lines().enumerate() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        let case: Case = serde_json::from_str(&line)
            .map_err(|e| format!("{path}:{}: not a case: {e}", number + 1))?;
        let check = check_solution(&case.solution, &case.ground_truth);
        let verdict = Verdict {
            id: &case.id,
            correct: check.correct,
            extracted: check.extracted,
        };
        writeln!(out, "{}", serde_json::to_string(&verdict)?)?;
    }
    Ok(())
}
