//! From cost views to chart rows: bars by agent and by model from a [`CostSummary`], the
//! spend line from a [`CostOverview`], and the Settings link that prices an unknown model.

use crate::app::charts::marks::{Bar, Point};
use crate::app::format::{cost_text, plural};
use crate::core::cost::{BucketSummary, CostSummary};
use crate::core::cost_views::{agent_rank, SpendLine};
use crate::core::sorting;

/// One bar for a bucket of calls: its known cost, `unknown` when every call that used tokens
/// is unpriced (never 0), and a note saying how many calls are not in the figure.
pub fn bucket_bar(label: &str, bucket: &BucketSummary) -> Bar {
    let known = bucket.unpriced_calls == 0 || bucket.cost_usd > 0.0;
    let value = known.then_some(bucket.cost_usd);
    let mut notes = Vec::new();
    if bucket.unpriced_calls > 0 {
        notes.push(format!(
            "{} call{} at an unknown price",
            bucket.unpriced_calls,
            plural(bucket.unpriced_calls)
        ));
    }
    if bucket.incomplete_usage_calls > 0 {
        notes.push(format!(
            "{} call{} without full usage",
            bucket.incomplete_usage_calls,
            plural(bucket.incomplete_usage_calls)
        ));
    }
    let text = match value {
        Some(v) if bucket.unpriced_calls > 0 => format!("at least {}", cost_text(Some(v))),
        other => cost_text(other),
    };
    Bar {
        label: label.to_string(),
        value,
        text,
        note: (!notes.is_empty()).then(|| notes.join(", ")),
        color: 0,
    }
}

/// Bars by agent, in the loop's order (solver, verifier, judge, then others by name).
pub fn agent_bars(summary: &CostSummary) -> Vec<Bar> {
    let mut agents: Vec<(&String, &BucketSummary)> = summary.by_agent.iter().collect();
    sorting::sort_by(&mut agents, |a, b| {
        agent_rank(a.0)
            .cmp(&agent_rank(b.0))
            .then_with(|| a.0.cmp(b.0))
    });
    agents
        .into_iter()
        .map(|(name, bucket)| Bar {
            color: agent_rank(name),
            ..bucket_bar(name, bucket)
        })
        .collect()
}

/// Bars by model, most expensive first, the unknown ones last (by name).
pub fn model_bars(summary: &CostSummary) -> Vec<Bar> {
    let mut bars: Vec<Bar> = summary
        .by_model
        .iter()
        .map(|(name, bucket)| bucket_bar(name, bucket))
        .collect();
    sorting::sort_by(&mut bars, |a, b| match (a.value, b.value) {
        (Some(x), Some(y)) => y.total_cmp(&x).then_with(|| a.label.cmp(&b.label)),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => a.label.cmp(&b.label),
    });
    bars
}

/// Models with calls no price covers, by name.
pub fn unpriced_models(summary: &CostSummary) -> Vec<(String, u64)> {
    summary
        .by_model
        .iter()
        .filter(|(_, b)| b.unpriced_calls > 0)
        .map(|(m, b)| (m.clone(), b.unpriced_calls))
        .collect()
}

/// The points of the spend-over-time line.
pub fn spend_points(line: &SpendLine) -> Vec<Point> {
    let (one, many) = if line.unknown_are_steps {
        ("step at an unknown price", "steps at an unknown price")
    } else {
        ("run of unknown cost", "runs of unknown cost")
    };
    line.points
        .iter()
        .map(|p| Point {
            time_ms: p.time_ms,
            value: p.cumulative_usd,
            label: p.label.clone(),
            text: cost_text(Some(p.cumulative_usd)),
            note: (p.unknown > 0).then(|| {
                let noun = if p.unknown == 1 { one } else { many };
                format!("{} {noun} so far", p.unknown)
            }),
        })
        .collect()
}

/// The Settings link that opens the price form for `model`.
pub fn price_link(model: &str) -> String {
    format!("/settings?price_model={}#pricing", query_escape(model))
}

/// Percent-encodes everything but unreserved characters (RFC 3986), for a query value.
pub fn query_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::llm::Usage;

    fn bucket(calls: u64, unpriced: u64, cost: f64) -> BucketSummary {
        BucketSummary {
            calls,
            unpriced_calls: unpriced,
            incomplete_usage_calls: 0,
            usage: Usage::default(),
            cost_usd: cost,
            complete: unpriced == 0,
        }
    }

    fn summary(by: &[(&str, BucketSummary)]) -> CostSummary {
        CostSummary {
            total: bucket(0, 0, 0.0),
            by_model: by.iter().map(|(k, b)| (k.to_string(), *b)).collect(),
            by_agent: by.iter().map(|(k, b)| (k.to_string(), *b)).collect(),
        }
    }

    #[test]
    fn unknown_buckets_are_unknown_never_zero() {
        let b = bucket_bar("mystery/x", &bucket(2, 2, 0.0));
        assert_eq!((b.value, b.text.as_str()), (None, "unknown"));
        assert_eq!(b.note.as_deref(), Some("2 calls at an unknown price"));
        let b = bucket_bar("gpt-4o", &bucket(3, 1, 0.25));
        assert_eq!(
            (b.value, b.text.as_str()),
            (Some(0.25), "at least 0.250000")
        );
        // A free local model is known and 0.
        let b = bucket_bar("local/smollm2", &bucket(3, 0, 0.0));
        assert_eq!(
            (b.value, b.text.as_str(), b.note),
            (Some(0.0), "0.000000", None)
        );
    }

    #[test]
    fn bars_are_ordered_for_reading() {
        let s = summary(&[
            ("judge", bucket(1, 0, 0.1)),
            ("alpha", bucket(1, 1, 0.0)),
            ("solver", bucket(1, 0, 0.3)),
            ("verifier", bucket(1, 0, 0.2)),
        ]);
        let agents: Vec<String> = agent_bars(&s).into_iter().map(|b| b.label).collect();
        assert_eq!(agents, ["solver", "verifier", "judge", "alpha"]);
        let models: Vec<String> = model_bars(&s).into_iter().map(|b| b.label).collect();
        assert_eq!(models, ["solver", "verifier", "judge", "alpha"]);
        assert_eq!(unpriced_models(&s), [("alpha".to_string(), 1)]);
    }

    #[test]
    fn price_links_escape_the_model() {
        assert_eq!(
            price_link("mystery/model x+1"),
            "/settings?price_model=mystery%2Fmodel%20x%2B1#pricing"
        );
        assert_eq!(query_escape("gpt-4.1_mini~"), "gpt-4.1_mini~");
        assert_eq!(query_escape("é"), "%C3%A9");
    }
}
