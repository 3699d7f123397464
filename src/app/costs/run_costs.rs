//! A run's costs as its page charts them: a column per round (and one for the judge), a part per
//! agent, in cost and in tokens.

use crate::app::charts::marks::{Segment, Stack};
use crate::app::format::{cost_text, count};
use crate::core::cost_views::RoundCosts;
use crate::core::sorting;

/// The columns of a run's cost chart: one per round (and one for the judge), a part per agent.
/// A part whose steps all lack a price is `unknown`; one where only some do reads
/// `at least …`.
pub fn cost_stacks(rounds: &[RoundCosts]) -> Vec<Stack> {
    rounds
        .iter()
        .map(|round| {
            let segments: Vec<Segment> = round
                .agents
                .iter()
                .map(|a| {
                    let all_unpriced = a.unpriced_steps > 0 && a.unpriced_steps == a.steps;
                    let value = (!all_unpriced).then(|| a.usd());
                    let text = match (value, a.unpriced_steps) {
                        (None, _) => cost_text(None),
                        (Some(v), 0) => cost_text(Some(v)),
                        (Some(v), _) => format!("at least {}", cost_text(Some(v))),
                    };
                    Segment {
                        series: a.agent.clone(),
                        value,
                        text,
                    }
                })
                .collect();
            let unknown = round.agents.iter().any(|a| a.unpriced_steps > 0);
            let total = round.usd();
            Stack {
                label: round.label.clone(),
                total_text: if unknown {
                    format!("{} + unknown", cost_text(Some(total)))
                } else {
                    cost_text(Some(total))
                },
                total,
                segments,
            }
        })
        .collect()
}

/// The columns of a run's token chart.
pub fn token_stacks(rounds: &[RoundCosts]) -> Vec<Stack> {
    rounds
        .iter()
        .map(|round| {
            let segments: Vec<Segment> = round
                .agents
                .iter()
                .map(|a| Segment {
                    series: a.agent.clone(),
                    value: Some(a.usage.total_tokens as f64),
                    text: count(a.usage.total_tokens),
                })
                .collect();
            let total: u64 = round.agents.iter().map(|a| a.usage.total_tokens).sum();
            Stack {
                label: round.label.clone(),
                total_text: count(total),
                total: total as f64,
                segments,
            }
        })
        .collect()
}

/// The agents of the rounds, in stacking order.
pub fn series_of(rounds: &[RoundCosts]) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for round in rounds {
        for a in &round.agents {
            if !names.contains(&a.agent) {
                names.push(a.agent.clone());
            }
        }
    }
    sorting::sort_by_key(&mut names, |n| crate::core::cost_views::agent_rank(n));
    names
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::cost_views::{costs_by_round, StepCost};
    use crate::core::llm::Usage;

    fn step(agent: &str, iteration: Option<u32>, tokens: u64, cost: Option<f64>) -> StepCost {
        StepCost {
            step_id: 0,
            agent: agent.into(),
            model: Some("m".into()),
            provider: String::new(),
            iteration,
            usage: Some(Usage {
                input_tokens: tokens,
                total_tokens: tokens,
                ..Usage::default()
            }),
            cost_usd: cost,
            usage_complete: true,
            requests: Vec::new(),
            sent_via: crate::core::llm::SentVia::Live,
            billed_at: None,
            speed: None,
            reused: false,
        }
    }

    #[test]
    fn unpriced_parts_read_unknown_or_at_least() {
        let rounds = costs_by_round(&[
            step("verifier", Some(1), 10, None),
            step("solver", Some(1), 20, Some(0.5)),
            step("solver", Some(1), 30, None),
            step("judge", None, 5, Some(0.25)),
        ]);
        let stacks = cost_stacks(&rounds);
        assert_eq!(stacks.len(), 2);
        let round = &stacks[0];
        assert_eq!(round.label, "Round 1");
        let parts: Vec<(&str, Option<f64>, &str)> = round
            .segments
            .iter()
            .map(|s| (s.series.as_str(), s.value, s.text.as_str()))
            .collect();
        assert_eq!(
            parts,
            [
                ("solver", Some(0.5), "at least 0.500000"),
                ("verifier", None, "unknown"),
            ]
        );
        assert_eq!(round.total, 0.5);
        assert_eq!(round.total_text, "0.500000 + unknown");
        assert_eq!(stacks[1].total_text, "0.250000");
        let tokens = token_stacks(&rounds);
        assert_eq!(
            (tokens[0].total, tokens[0].total_text.as_str()),
            (60.0, "60")
        );
        assert_eq!(series_of(&rounds), ["solver", "verifier", "judge"]);
    }
}
