//! How numbers read on screen, on every page: costs, tokens, latencies and dates.
//!
//! Costs are written as plain decimal numbers (never exponent notation), because the `run-cost`
//! test hook promises "a plain number like 0.001234", and an unknown cost is the word `unknown`,
//! never a made-up `0`.

use crate::core::clock::iso8601_utc;
use crate::core::llm::Usage;

/// What the UI shows for a cost whose price is unknown.
pub const UNKNOWN_COST: &str = "unknown";

/// Decimal places a cost is written with; a smaller non-zero cost gets as many more as it
/// needs to show a significant digit, up to [`MAX_COST_DECIMALS`].
const COST_DECIMALS: usize = 6;
const MAX_COST_DECIMALS: usize = 12;

/// A USD cost as a plain number (`0.001234`), or `unknown` when no price was known.
///
/// Six decimals, so cents and tenths of cents read at a glance; a non-zero cost below
/// 0.000001 gets more decimals instead of reading as zero.
pub fn cost_text(cost_usd: Option<f64>) -> String {
    let Some(cost) = cost_usd.filter(|c| c.is_finite()) else {
        return UNKNOWN_COST.to_string();
    };
    let mut decimals = COST_DECIMALS;
    let mut text = format!("{cost:.decimals$}");
    while cost != 0.0
        && decimals < MAX_COST_DECIMALS
        && text.trim_start_matches(['-', '0', '.']).is_empty()
    {
        decimals += 1;
        text = format!("{cost:.decimals$}");
    }
    text
}

/// A cost with its dollar sign for prose (`$0.001234`), `unknown` when no price was known.
pub fn dollars(cost_usd: Option<f64>) -> String {
    match cost_usd.filter(|c| c.is_finite()) {
        Some(_) => format!("${}", cost_text(cost_usd)),
        None => UNKNOWN_COST.to_string(),
    }
}

/// A whole number with thousands separators (`12,345`).
pub fn count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The `s` of a plural for a count of `n` (`format!("{n} run{}", plural(n))`): none for 1.
pub fn plural<N: PartialEq + From<u8>>(n: N) -> &'static str {
    if n == N::from(1) {
        ""
    } else {
        "s"
    }
}

/// `1 problem`, `20 problems`: the count with the word that fits it, for words whose plural is
/// not the singular plus `s` or that read better written out.
pub fn count_of(n: usize, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

/// Token usage in one line: `1,234 in / 56 out`, plus the cached and reasoning parts when
/// there are any (`(800 cached)`, `(20 reasoning)`).
pub fn tokens_text(usage: &Usage) -> String {
    let mut input = format!("{} in", count(usage.input_tokens));
    if usage.cache_read_tokens > 0 {
        input.push_str(&format!(" ({} cached)", count(usage.cache_read_tokens)));
    }
    let mut output = format!("{} out", count(usage.output_tokens));
    match usage.reasoning_tokens_known() {
        Some(0) => {}
        Some(n) => output.push_str(&format!(" ({} reasoning)", count(n))),
        None => output.push_str(" (reasoning: count unknown)"),
    }
    format!("{input} / {output}")
}

/// A latency in milliseconds as people read it: `850 ms`, `2.4 s`, `1 min 5 s`.
pub fn latency_text(ms: f64) -> String {
    if !ms.is_finite() || ms < 0.0 {
        return "–".to_string();
    }
    if ms < 1000.0 {
        return format!("{} ms", ms.round() as u64);
    }
    let secs = ms / 1000.0;
    if secs < 60.0 {
        return format!("{secs:.1} s");
    }
    let whole = secs.round() as u64;
    format!("{} min {} s", whole / 60, whole % 60)
}

/// Epoch milliseconds as `YYYY-MM-DD HH:MM` (UTC), for tables; `–` when not a finite time.
pub fn date_text(epoch_ms: f64) -> String {
    if !epoch_ms.is_finite() {
        return "–".to_string();
    }
    // iso8601_utc: `YYYY-MM-DDTHH:MM:SS.ffffff+00:00`.
    let iso = iso8601_utc(epoch_ms);
    match (iso.get(..10), iso.get(11..16)) {
        (Some(day), Some(time)) => format!("{day} {time}"),
        _ => iso,
    }
}

/// `YYYY-MM-DD` (UTC), for file names.
pub fn day_text(epoch_ms: f64) -> String {
    let iso = iso8601_utc(epoch_ms);
    iso.get(..10).map_or(iso.clone(), str::to_string)
}

/// A score in `[0, 1]` with two decimals (`0.80`), `–` when there is none (or it is not a
/// finite number).
pub fn score_text(score: Option<f64>) -> String {
    score
        .filter(|s| s.is_finite())
        .map_or_else(|| "–".to_string(), |s| format!("{s:.2}"))
}

/// `yes` / `no` / `–`.
pub fn yes_no(value: Option<bool>) -> &'static str {
    match value {
        Some(true) => "yes",
        Some(false) => "no",
        None => "–",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn costs_are_plain_numbers_or_unknown() {
        assert_eq!(cost_text(Some(0.001234)), "0.001234");
        assert_eq!(cost_text(Some(1.5)), "1.500000");
        assert_eq!(cost_text(Some(0.0)), "0.000000");
        // 3.2e-8 would read 0.000000 with six decimals: more are added until a digit shows.
        assert_eq!(cost_text(Some(0.000_000_032)), "0.00000003");
        assert_eq!(cost_text(None), "unknown");
        assert_eq!(cost_text(Some(f64::NAN)), "unknown");
        assert_eq!(dollars(Some(0.25)), "$0.250000");
        assert_eq!(dollars(None), "unknown");
    }

    #[test]
    fn plurals_follow_the_count() {
        assert_eq!(format!("{} run{}", 1, plural(1u64)), "1 run");
        assert_eq!(format!("{} run{}", 0, plural(0usize)), "0 runs");
        assert_eq!(plural(2u32), "s");
        assert_eq!(count_of(1, "problem", "problems"), "1 problem");
        assert_eq!(count_of(20, "problem", "problems"), "20 problems");
        assert_eq!(count_of(0, "retry", "retries"), "0 retries");
    }

    #[test]
    fn counts_and_tokens_read_naturally() {
        assert_eq!(count(0), "0");
        assert_eq!(count(999), "999");
        assert_eq!(count(1000), "1,000");
        assert_eq!(count(1_234_567), "1,234,567");
        let usage = Usage {
            input_tokens: 1200,
            output_tokens: 56,
            total_tokens: 1256,
            cache_read_tokens: 800,
            cache_write_tokens: 0,
            reasoning_tokens: 20,
            reasoning_tokens_unknown: false,
        };
        assert_eq!(
            tokens_text(&usage),
            "1,200 in (800 cached) / 56 out (20 reasoning)"
        );
        assert_eq!(tokens_text(&Usage::default()), "0 in / 0 out");
    }

    #[test]
    fn latencies_dates_and_scores() {
        assert_eq!(latency_text(849.6), "850 ms");
        assert_eq!(latency_text(2440.0), "2.4 s");
        assert_eq!(latency_text(65_000.0), "1 min 5 s");
        assert_eq!(latency_text(-1.0), "–");
        // 2026-11-24T21:10:09.123Z
        assert_eq!(date_text(1_795_554_609_123.0), "2026-11-24 21:10");
        assert_eq!(day_text(1_795_554_609_123.0), "2026-11-24");
        assert_eq!(score_text(Some(0.8)), "0.80");
        assert_eq!(score_text(None), "–");
        assert_eq!(yes_no(Some(false)), "no");
    }

    #[test]
    fn number_formatters_are_total_over_f64() {
        for x in crate::app::charts::scale::tests::any_f64s(3_000) {
            let texts = [
                cost_text(Some(x)),
                dollars(Some(x)),
                latency_text(x),
                date_text(x),
                score_text(Some(x)),
                crate::core::cost::format_usd(x),
            ];
            for text in &texts {
                assert!(!text.is_empty(), "{x:e}");
                assert!(
                    !text.contains("inf") && !text.contains("NaN"),
                    "{x:e}: {text}"
                );
                // A cost is written in full (the `run-cost` hook): up to 309 digits and its
                // decimals for the largest doubles.
                assert!(text.chars().count() <= 340, "{x:e}: {text}");
            }
        }
    }
}
