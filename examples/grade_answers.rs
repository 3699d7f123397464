//! Grades a JSONL file of answer-checking cases with Trialogue's checker, for the differential
//! harness against math-verify (tests/math_verify/compare.py) and the benchmark
//! of one check's time (bench/answers.mjs).
//!
//!     cargo run --release --example grade_answers -- CASES.jsonl
//!     cargo run --release --example grade_answers -- --timing CASES.jsonl
//!
//! Each input line is an object with `id`, `solution` and `ground_truth`. Without `--timing`
//! each output line is `{"id", "correct", "extracted"}`, in the input's order; with it, one
//! object: the median, 95th percentile and largest of the cases' times per check (each case's
//! time is the median of [`REPEATS`] checks), in microseconds, and the slowest case.

use std::io::{BufRead, BufReader, Write};
use std::time::Instant;

use serde::{Deserialize, Serialize};
use trialogue::core::answer::check_solution;

/// Checks timed per case; the median of them is the case's time.
const REPEATS: usize = 21;

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

#[derive(Serialize)]
struct Timing<'a> {
    cases: usize,
    repeats: usize,
    median_us: f64,
    p95_us: f64,
    max_us: f64,
    slowest: &'a str,
}

fn read_cases(path: &str) -> Result<Vec<Case>, String> {
    let file = std::fs::File::open(path).map_err(|e| format!("cannot open {path}: {e}"))?;
    let mut cases = Vec::new();
    for (number, line) in BufReader::new(file).lines().enumerate() {
        let line = line.map_err(|e| format!("{path}: {e}"))?;
        if line.trim().is_empty() {
            continue;
        }
        cases.push(
            serde_json::from_str(&line)
                .map_err(|e| format!("{path}:{}: not a case: {e}", number + 1))?,
        );
    }
    Ok(cases)
}

/// The nearest-rank quantile of sorted values.
fn quantile(sorted: &[(f64, &str)], q: f64) -> f64 {
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1].0
}

fn timing(cases: &[Case]) -> Result<String, serde_json::Error> {
    let mut times: Vec<(f64, &str)> = cases
        .iter()
        .map(|case| {
            let mut samples: Vec<f64> = (0..REPEATS)
                .map(|_| {
                    let start = Instant::now();
                    std::hint::black_box(check_solution(
                        std::hint::black_box(&case.solution),
                        &case.ground_truth,
                    ));
                    start.elapsed().as_secs_f64() * 1e6
                })
                .collect();
            samples.sort_by(f64::total_cmp);
            (samples[REPEATS / 2], case.id.as_str())
        })
        .collect();
    times.sort_by(|a, b| a.0.total_cmp(&b.0));
    let slowest = times.last().map_or(("", 0.0), |t| (t.1, t.0));
    serde_json::to_string(&Timing {
        cases: cases.len(),
        repeats: REPEATS,
        median_us: quantile(&times, 0.5),
        p95_us: quantile(&times, 0.95),
        max_us: slowest.1,
        slowest: slowest.0,
    })
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let usage =
        "usage: grade_answers [--timing] CASES.jsonl (one {id, solution, ground_truth} per line)";
    let args: Vec<String> = std::env::args().skip(1).collect();
    let timed = args.iter().any(|a| a == "--timing");
    let path = args.iter().find(|a| *a != "--timing").ok_or(usage)?;
    let cases = read_cases(path)?;
    if cases.is_empty() {
        return Err(format!("{path} has no cases").into());
    }
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    if timed {
        writeln!(out, "{}", timing(&cases)?)?;
        return Ok(());
    }
    for case in &cases {
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
