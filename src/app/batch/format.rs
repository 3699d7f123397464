//! How batch numbers read on screen: rates, intervals, durations, the rate-limit note, and the
//! concurrency field's parsing.
//!
//! Rates are written as plain decimal numbers in [0, 1] (the `batch-accuracy` hook promises a
//! plain number), with four decimals: enough to tell 1 problem in 1,000 apart.

use crate::core::batch::MAX_CONCURRENCY;

/// Decimals a rate is written with.
const RATE_DECIMALS: usize = 4;

/// A proportion as a plain number: `0.7500`; `–` when there is none.
pub fn rate_text(rate: Option<f64>) -> String {
    match rate.filter(|r| r.is_finite()) {
        Some(r) => format!("{r:.RATE_DECIMALS$}"),
        None => "–".to_string(),
    }
}

/// A 95 % interval: `[0.5313, 0.8881]`.
pub fn interval_text(low: f64, high: f64) -> String {
    format!("[{}, {}]", rate_text(Some(low)), rate_text(Some(high)))
}

/// A difference of rates with its sign: `+0.1000`, `−0.0500` (a true minus sign), `0.0000`.
pub fn signed_rate_text(difference: f64) -> String {
    let magnitude = rate_text(Some(difference.abs()));
    if magnitude.trim_start_matches(['0', '.']).is_empty() {
        magnitude
    } else if difference > 0.0 {
        format!("+{magnitude}")
    } else {
        format!("\u{2212}{magnitude}")
    }
}

/// A duration for an ETA: `45 s`, `3 min 20 s`, `2 h 5 min`; `–` when unknown.
pub fn duration_text(ms: Option<f64>) -> String {
    let Some(ms) = ms.filter(|m| m.is_finite() && *m >= 0.0) else {
        return "–".to_string();
    };
    let secs = (ms / 1000.0).round() as u64;
    match secs {
        0..=59 => format!("{secs} s"),
        60..=3599 => format!("{} min {} s", secs / 60, secs % 60),
        _ => {
            let minutes = (secs + 30) / 60;
            format!("{} h {} min", minutes / 60, minutes % 60)
        }
    }
}

/// The note shown while the scheduler runs fewer items than asked because a provider answered
/// 429: `rate limited — running 4 of 8`; `None` at full speed.
pub fn rate_limit_text(effective: u32, limit: u32) -> Option<String> {
    (effective < limit).then(|| format!("rate limited \u{2014} running {effective} of {limit}"))
}

/// Why the concurrency field cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConcurrencyError {
    /// Not a whole number.
    #[error("concurrency must be a whole number from 1 to {MAX_CONCURRENCY}, not `{text}`")]
    NotANumber {
        /// What was typed.
        text: String,
    },
    /// A whole number outside 1..=64.
    #[error("concurrency must be from 1 to {MAX_CONCURRENCY}, not {value}; a local model usually wants 1 or 2, a hosted API 4 to 16")]
    OutOfRange {
        /// What was typed.
        value: u64,
    },
}

/// The concurrency field's value: a whole number in 1..=[`MAX_CONCURRENCY`].
pub fn parse_concurrency(text: &str) -> Result<u32, ConcurrencyError> {
    let trimmed = text.trim();
    let value: u64 = trimmed.parse().map_err(|_| ConcurrencyError::NotANumber {
        text: trimmed.to_string(),
    })?;
    match u32::try_from(value) {
        Ok(v) if (1..=MAX_CONCURRENCY).contains(&v) => Ok(v),
        _ => Err(ConcurrencyError::OutOfRange { value }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_and_intervals_are_plain_numbers() {
        assert_eq!(rate_text(Some(0.75)), "0.7500");
        assert_eq!(rate_text(Some(1.0)), "1.0000");
        assert_eq!(rate_text(Some(2.0 / 3.0)), "0.6667");
        assert_eq!(rate_text(None), "–");
        assert_eq!(rate_text(Some(f64::NAN)), "–");
        assert_eq!(interval_text(0.5, 0.875), "[0.5000, 0.8750]");
        assert_eq!(signed_rate_text(0.1), "+0.1000");
        assert_eq!(signed_rate_text(-0.05), "\u{2212}0.0500");
        assert_eq!(signed_rate_text(0.0), "0.0000");
        assert_eq!(signed_rate_text(-0.00001), "0.0000");
    }

    #[test]
    fn durations_read_naturally() {
        assert_eq!(duration_text(Some(44_600.0)), "45 s");
        assert_eq!(duration_text(Some(200_000.0)), "3 min 20 s");
        // 2 h 4 min 40 s rounds to 2 h 5 min.
        assert_eq!(duration_text(Some(7_480_000.0)), "2 h 5 min");
        assert_eq!(duration_text(None), "–");
        assert_eq!(duration_text(Some(-5.0)), "–");
    }

    #[test]
    fn the_rate_limit_note_shows_only_when_backed_off() {
        assert_eq!(
            rate_limit_text(4, 8).as_deref(),
            Some("rate limited \u{2014} running 4 of 8")
        );
        assert_eq!(rate_limit_text(8, 8), None);
    }

    #[test]
    fn concurrency_is_a_whole_number_from_1_to_256() {
        assert_eq!(parse_concurrency(" 4 "), Ok(4));
        assert_eq!(parse_concurrency("64"), Ok(64));
        assert_eq!(parse_concurrency("256"), Ok(256));
        assert_eq!(
            parse_concurrency("0"),
            Err(ConcurrencyError::OutOfRange { value: 0 })
        );
        assert_eq!(
            parse_concurrency("257"),
            Err(ConcurrencyError::OutOfRange { value: 257 })
        );
        assert_eq!(
            parse_concurrency("99999999999"),
            Err(ConcurrencyError::OutOfRange {
                value: 99_999_999_999
            })
        );
        assert_eq!(
            parse_concurrency("2.5"),
            Err(ConcurrencyError::NotANumber { text: "2.5".into() })
        );
        assert!(parse_concurrency("")
            .unwrap_err()
            .to_string()
            .contains("from 1 to 256"));
    }
}
