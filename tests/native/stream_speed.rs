//! Streamed-call speed per model (`core::stream_speed`): medians and nearest-rank 90th
//! percentiles worked out by hand, and only streamed steps counted.

use trialogue::core::jsonl::parse_line;
use trialogue::core::stream_speed::{speed_by_model, Spread, StepSpeed};

/// A stored step of `model` with the stream figures given (absent when `None`).
fn step(model: &str, ttft_ms: Option<f64>, rate: Option<f64>) -> String {
    let mut metadata = serde_json::json!({ "model": model, "tokens": { "prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2 } });
    if let Some(t) = ttft_ms {
        metadata["streamed"] = true.into();
        metadata["ttft_ms"] = t.into();
    }
    if let Some(r) = rate {
        metadata["output_tokens_per_s"] = r.into();
    }
    serde_json::json!({
        "timestamp": "2026-12-07T00:00:00.000000+00:00", "run_id": "run_x", "step_id": 1,
        "agent": "solver", "action": "generate", "input": {}, "output": {},
        "metadata": metadata, "reward": null, "terminal": false, "success": null,
    })
    .to_string()
}

fn speeds(lines: &[String]) -> Vec<StepSpeed> {
    lines
        .iter()
        .filter_map(|l| StepSpeed::of(&parse_line(l).unwrap()))
        .collect()
}

#[test]
fn the_median_of_an_even_count_is_the_mean_of_the_middle_two_and_p90_is_a_seen_value() {
    // Ten values 10..100: the middle two are 50 and 60; rank ⌈0.9 × 10⌉ = 9 is 90.
    let values = vec![70.0, 10.0, 100.0, 40.0, 20.0, 90.0, 30.0, 60.0, 80.0, 50.0];
    assert_eq!(
        Spread::of(values),
        Some(Spread {
            p50: 55.0,
            p90: 90.0
        })
    );
    // Eleven values 1..11: the middle one is 6; rank ⌈0.9 × 11⌉ = 10 is 10.
    let values: Vec<f64> = (1..=11).rev().map(f64::from).collect();
    assert_eq!(
        Spread::of(values),
        Some(Spread {
            p50: 6.0,
            p90: 10.0
        })
    );
    assert_eq!(Spread::of(vec![7.0]), Some(Spread { p50: 7.0, p90: 7.0 }));
    assert_eq!(Spread::of(Vec::new()), None);
}

#[test]
fn each_model_gets_its_streamed_steps_spread_and_whole_replies_are_left_out() {
    let lines = [
        step("openai/o4-mini", Some(100.0), Some(50.0)),
        step("openai/o4-mini", Some(300.0), Some(30.0)),
        step("openai/o4-mini", Some(200.0), None),
        // A whole reply: no first token to time.
        step("openai/o4-mini", None, None),
        step("anthropic/claude-sonnet-4-5", Some(900.0), Some(80.0)),
    ];
    let by_model = speed_by_model(&speeds(&lines));
    assert_eq!(by_model.len(), 2);
    let claude = &by_model[0];
    assert_eq!(claude.model, "anthropic/claude-sonnet-4-5");
    assert_eq!(claude.steps, 1);
    assert_eq!(
        claude.ttft_ms,
        Some(Spread {
            p50: 900.0,
            p90: 900.0
        })
    );
    let openai = &by_model[1];
    assert_eq!(openai.steps, 3);
    // 100, 200, 300: median 200, rank ⌈2.7⌉ = 3 is 300.
    assert_eq!(
        openai.ttft_ms,
        Some(Spread {
            p50: 200.0,
            p90: 300.0
        })
    );
    // 30, 50: median 40, rank ⌈1.8⌉ = 2 is 50.
    assert_eq!(
        openai.output_tokens_per_s,
        Some(Spread {
            p50: 40.0,
            p90: 50.0
        })
    );
}
