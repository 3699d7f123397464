//! How provider batch mode's current round reads on the Batch page: its number, the provider's
//! counts, and how long ago it was submitted.

use crate::core::batch::{BatchEngine, BatchRecord, BatchStatus};
use crate::core::provider_batch::turnaround::{TimeEstimate, TurnaroundBasis, BATCH_WINDOW_S};
use crate::core::provider_batch::{BatchFamily, RoundStatus, RoundView};

/// Whether opening `record`'s page should take it up at once: a batch in provider batch mode
/// that a closed tab cut off (not one the user cancelled or paused) while one of its `rounds`
/// was at the provider. Its results are then collected, and it goes on, without a Resume
/// press; applying them is idempotent, so opening it twice does no harm.
pub fn polls_on_open(record: &BatchRecord, rounds: &[RoundStatus]) -> bool {
    record.spec.engine == BatchEngine::ProviderBatch
        && record.status == BatchStatus::Interrupted
        && record.items.iter().any(|i| !i.is_finished())
        && rounds.contains(&RoundStatus::Submitted)
}

/// The current round as the page shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoundLine {
    /// The round's number.
    pub round: u32,
    /// Requests submitted in it.
    pub submitted: u64,
    /// Requests the provider is still working on (neither answered nor failed).
    pub processing: u64,
    /// Requests the provider answered.
    pub succeeded: u64,
    /// Requests that failed or expired (they go into the next round).
    pub errored: u64,
    /// One sentence: where the round stands.
    pub text: String,
}

/// The round to show: the latest one (rounds are numbered in submission order).
pub fn current_round(rounds: &[RoundView], now_ms: f64) -> Option<RoundLine> {
    let round = rounds.iter().max_by_key(|r| r.round)?;
    let since = ago_text(now_ms - round.submitted_ms);
    let provider = round
        .provider_batch_id
        .as_deref()
        .map(|id| format!(" ({id})"))
        .unwrap_or_default();
    let settled = round.counts.succeeded + round.counts.errored;
    let processing = match round.status {
        // The provider's own total once polled, the requests sent before that.
        RoundStatus::Submitting | RoundStatus::Submitted => {
            (round.counts.total.max(round.requests as u64)).saturating_sub(settled)
        }
        RoundStatus::Ended | RoundStatus::Failed => 0,
    };
    let text = match round.status {
        RoundStatus::Submitting => format!("Round {}: submitting {} requests…", round.round, round.requests),
        RoundStatus::Submitted => format!(
            "Round {}: {} requests at the provider{provider}, submitted {since}; {processing} processing, {} done, {} failed so far",
            round.round, round.requests, round.counts.succeeded, round.counts.errored
        ),
        RoundStatus::Ended => format!(
            "Round {}: ended{provider}, submitted {since}; {} done, {} failed",
            round.round, round.counts.succeeded, round.counts.errored
        ),
        RoundStatus::Failed => format!(
            "Round {}: failed{provider}: {}",
            round.round,
            round.message.as_deref().unwrap_or("the provider gave no reason")
        ),
    };
    Some(RoundLine {
        round: round.round,
        submitted: round.requests as u64,
        processing,
        succeeded: round.counts.succeeded,
        errored: round.counts.errored,
        text,
    })
}

/// A duration as people say it: `just now`, `5 s ago`, `3 min ago`, `2 h 5 min ago`.
pub fn ago_text(ms: f64) -> String {
    let secs = (ms.max(0.0) / 1000.0).floor() as u64;
    match secs {
        0..=4 => "just now".to_string(),
        5..=59 => format!("{secs} s ago"),
        60..=3599 => format!("{} min ago", secs / 60),
        _ => format!("{} h {} min ago", secs / 3600, (secs % 3600) / 60),
    }
}

/// A span of time as people say it: `45 s`, `3 min`, `2 h 5 min`, `1 d 3 h`.
pub fn duration_text(seconds: f64) -> String {
    let secs = seconds.max(0.0).round() as u64;
    match secs {
        0..=59 => format!("{secs} s"),
        60..=3599 => format!("{} min", secs / 60),
        3600..=86_399 => match (secs % 3600) / 60 {
            0 => format!("{} h", secs / 3600),
            min => format!("{} h {min} min", secs / 3600),
        },
        _ => match (secs % 86_400) / 3600 {
            0 => format!("{} d", secs / 86_400),
            h => format!("{} d {h} h", secs / 86_400),
        },
    }
}

fn family_name(family: BatchFamily) -> &'static str {
    match family {
        BatchFamily::OpenAi => "OpenAI",
        BatchFamily::Anthropic => "Anthropic",
        BatchFamily::Gemini => "Gemini",
    }
}

/// The time forecast of a batch in provider batch mode, as one sentence.
pub fn time_forecast_text(estimate: &TimeEstimate, families: &[BatchFamily]) -> String {
    let rounds = estimate.rounds;
    let rounds_text = if rounds.fewest == rounds.most {
        format!("{} rounds", rounds.most)
    } else {
        format!("{}–{} rounds", rounds.fewest, rounds.most)
    };
    let (low, high) = estimate.per_round_s;
    let total = format!(
        "about {} to {}",
        duration_text(estimate.min_s),
        duration_text(estimate.max_s)
    );
    let basis = match &estimate.basis {
        TurnaroundBasis::Learned { samples } => format!(
            "{}–{} per round (25th–90th percentile of your past provider batches, {} at least \
             per provider)",
            duration_text(low),
            duration_text(high),
            samples
        ),
        TurnaroundBasis::Typical { learned } => {
            let unknown: Vec<&str> = families
                .iter()
                .filter(|f| !learned.contains(f))
                .map(|f| family_name(*f))
                .collect();
            format!(
                "no past batches on {} to learn the turnaround from: a provider answers a round \
                 within 24 h, usually under an hour ({}–{} per round assumed)",
                unknown.join(", "),
                duration_text(low),
                duration_text(high)
            )
        }
    };
    format!(
        "Time: {rounds_text} per problem (one per turn; a re-ask adds one) × {basis}: {total}, \
         at most {} if every round takes the providers' whole 24-hour window.",
        duration_text(f64::from(rounds.most) * BATCH_WINDOW_S)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::provider_batch::BatchCounts;

    #[test]
    fn only_a_cut_off_provider_batch_with_a_round_at_the_provider_polls_on_open() {
        use crate::core::batch::{BatchModes, BatchRecord, BatchSpec};
        use crate::core::config::PipelineConfig;
        let spec = BatchSpec::new(
            "b",
            "ds",
            "d",
            vec!["P1".into()],
            BatchModes::Debate,
            1,
            PipelineConfig::default(),
            0.0,
            |_| false,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let mut record = BatchRecord::new(spec);
        record.spec.engine = BatchEngine::ProviderBatch;
        record.status = BatchStatus::Interrupted;
        let at_provider = [RoundStatus::Ended, RoundStatus::Submitted];
        assert!(polls_on_open(&record, &at_provider));
        // Nothing at the provider: the user resumes it when they want.
        assert!(!polls_on_open(
            &record,
            &[RoundStatus::Ended, RoundStatus::Submitting]
        ));
        // Cancelled on purpose, or a live batch: never on its own.
        record.status = BatchStatus::Cancelled;
        assert!(!polls_on_open(&record, &at_provider));
        record.status = BatchStatus::Interrupted;
        record.spec.engine = BatchEngine::Live;
        assert!(!polls_on_open(&record, &at_provider));
    }

    fn round(n: u32, status: RoundStatus, submitted_ms: f64) -> RoundView {
        RoundView {
            round: n,
            provider_batch_id: Some(format!("batch_{n}")),
            status,
            submitted_ms,
            ended_ms: None,
            requests: 4,
            counts: BatchCounts {
                total: 4,
                succeeded: 3,
                errored: 1,
            },
            message: None,
        }
    }

    #[test]
    fn the_latest_round_is_shown_with_the_time_since_its_submit() {
        let rounds = [
            round(1, RoundStatus::Ended, 0.0),
            round(2, RoundStatus::Submitted, 60_000.0),
        ];
        let line = current_round(&rounds, 60_000.0 + 185_000.0);
        assert_eq!(
            line,
            Some(RoundLine {
                round: 2,
                submitted: 4,
                processing: 0,
                succeeded: 3,
                errored: 1,
                text: "Round 2: 4 requests at the provider (batch_2), submitted 3 min ago; 0 processing, 3 done, 1 failed so far".into(),
            })
        );
        assert_eq!(current_round(&[], 0.0), None);
    }

    #[test]
    fn durations_read_as_people_say_them() {
        assert_eq!(ago_text(-5.0), "just now");
        assert_eq!(ago_text(4_999.0), "just now");
        assert_eq!(ago_text(5_000.0), "5 s ago");
        assert_eq!(ago_text(61_000.0), "1 min ago");
        assert_eq!(ago_text(7_500_000.0), "2 h 5 min ago");
    }

    #[test]
    fn the_time_forecast_names_its_rounds_its_turnaround_and_where_that_comes_from() {
        use crate::core::provider_batch::turnaround::RoundCount;
        assert_eq!(duration_text(45.4), "45 s");
        assert_eq!(duration_text(7_500.0), "2 h 5 min");
        assert_eq!(duration_text(7_200.0), "2 h");
        assert_eq!(duration_text(97_200.0), "1 d 3 h");
        let learned = TimeEstimate {
            rounds: RoundCount { fewest: 3, most: 5 },
            per_round_s: (120.0, 600.0),
            min_s: 360.0,
            max_s: 3000.0,
            basis: TurnaroundBasis::Learned { samples: 4 },
        };
        let text = time_forecast_text(&learned, &[BatchFamily::OpenAi]);
        assert!(text.starts_with("Time: 3–5 rounds per problem"), "{text}");
        assert!(text.contains("2 min–10 min per round"), "{text}");
        assert!(text.contains("about 6 min to 50 min"), "{text}");
        assert!(text.contains("at most 5 d"), "{text}");
        let typical = TimeEstimate {
            basis: TurnaroundBasis::Typical {
                learned: vec![BatchFamily::OpenAi],
            },
            ..learned
        };
        let text = time_forecast_text(&typical, &[BatchFamily::OpenAi, BatchFamily::Gemini]);
        assert!(text.contains("no past batches on Gemini"), "{text}");
        assert!(text.contains("usually under an hour"), "{text}");
    }

    #[test]
    fn a_round_at_the_provider_counts_what_it_still_processes() {
        let mut at_provider = round(3, RoundStatus::Submitted, 0.0);
        at_provider.requests = 10;
        at_provider.counts = BatchCounts {
            total: 10,
            succeeded: 6,
            errored: 1,
        };
        let line = current_round(&[at_provider.clone()], 5_000.0);
        assert_eq!(line.as_ref().map(|l| l.processing), Some(3));
        let text = line.map(|l| l.text).unwrap_or_default();
        assert!(
            text.contains("submitted 5 s ago; 3 processing, 6 done, 1 failed"),
            "{text}"
        );
        // Not polled yet: every request it holds is processing.
        at_provider.counts = BatchCounts::default();
        assert_eq!(
            current_round(&[at_provider], 0.0).map(|l| l.processing),
            Some(10)
        );
    }
}
