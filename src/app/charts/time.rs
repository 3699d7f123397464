//! The time axis of a line over time: ticks at calendar steps (seconds to years, whichever
//! gives at most the ticks asked for over the span) and their labels, in UTC.
//!
//! Positions along the axis are proportional to time ([`super::line::x_of`]), so a stretch
//! without points shows as a stretch of axis without points, labelled with its dates.

use crate::core::clock::{civil_from_epoch_ms, parse_iso8601};

const SECOND: f64 = 1_000.0;
const MINUTE: f64 = 60.0 * SECOND;
const HOUR: f64 = 60.0 * MINUTE;
const DAY: f64 = 24.0 * HOUR;
/// 1970-01-05, the first Monday after the epoch: weekly ticks fall on Mondays.
const FIRST_MONDAY: f64 = 4.0 * DAY;
/// The widest instant the axis accepts, the range of a JavaScript `Date` (±100,000,000 days):
/// beyond it a time is no date at all.
const LARGEST_MS: f64 = 8.64e15;

/// A step between ticks.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum TimeStep {
    /// A fixed length in milliseconds (seconds to two weeks); weeks start on Mondays.
    Fixed(f64),
    /// Calendar months (1, 3 or 6), from the first of a month.
    Months(u32),
    /// Calendar years, from the first of January.
    Years(u32),
}

/// The fixed steps, smallest first.
const FIXED: [f64; 16] = [
    SECOND,
    5.0 * SECOND,
    15.0 * SECOND,
    30.0 * SECOND,
    MINUTE,
    5.0 * MINUTE,
    15.0 * MINUTE,
    30.0 * MINUTE,
    HOUR,
    3.0 * HOUR,
    6.0 * HOUR,
    12.0 * HOUR,
    DAY,
    2.0 * DAY,
    7.0 * DAY,
    14.0 * DAY,
];

/// One tick: where, and what it says.
#[derive(Debug, Clone, PartialEq)]
pub struct TimeTick {
    /// The instant, in epoch milliseconds.
    pub ms: f64,
    /// Its label: the time of day within a day, the date where the day changes (and on the
    /// first tick), the month and year for monthly steps, the year for yearly ones.
    pub label: String,
}

/// The step for ticks over `first_ms..=last_ms`: the smallest calendar step that makes at
/// most `max_ticks` intervals (at least 1).
pub fn time_step(first_ms: f64, last_ms: f64, max_ticks: usize) -> TimeStep {
    let span = (last_ms - first_ms).abs();
    let intervals = max_ticks.max(1) as f64;
    if let Some(step) = FIXED.into_iter().find(|step| span / step <= intervals) {
        return TimeStep::Fixed(step);
    }
    let months = span / (30.436_875 * DAY);
    if let Some(n) = [1, 3, 6]
        .into_iter()
        .find(|n| months / f64::from(*n) <= intervals)
    {
        return TimeStep::Months(n);
    }
    let years = span / (365.2425 * DAY);
    // 1, 2, 5 × a power of ten years.
    let mut magnitude = 1u32;
    loop {
        for m in [1, 2, 5] {
            let n = m * magnitude;
            if years / f64::from(n) <= intervals || magnitude >= 100_000_000 {
                return TimeStep::Years(n);
            }
        }
        magnitude *= 10;
    }
}

/// The ticks over `first_ms..=last_ms` (UTC), at most `max_ticks + 1` of them: the calendar
/// instants inside the span at [`time_step`]'s step, each labelled. A span of one instant has
/// one tick there; a span that is not made of finite instants inside a JavaScript date's
/// range has none.
pub fn time_ticks(first_ms: f64, last_ms: f64, max_ticks: usize) -> Vec<TimeTick> {
    let within = |t: f64| t.is_finite() && t.abs() <= LARGEST_MS;
    if !within(first_ms) || !within(last_ms) || last_ms < first_ms {
        return Vec::new();
    }
    if last_ms == first_ms {
        return vec![TimeTick {
            ms: first_ms,
            label: full_label(first_ms),
        }];
    }
    let step = time_step(first_ms, last_ms, max_ticks);
    let limit = max_ticks.max(1) + 1;
    let instants: Vec<f64> = match step {
        TimeStep::Fixed(length) => {
            let origin = if length >= 7.0 * DAY {
                FIRST_MONDAY
            } else {
                0.0
            };
            let start = ((first_ms - origin) / length).ceil() * length + origin;
            (0..limit)
                .map(|i| start + i as f64 * length)
                .take_while(|t| *t <= last_ms)
                .collect()
        }
        TimeStep::Months(n) => {
            let (y, m, ..) = civil_from_epoch_ms(first_ms);
            // Month index counted from year 0, rounded up to a multiple of `n`.
            let mut index = y * 12 + i64::from(m) - 1;
            if month_start(index).is_some_and(|t| t < first_ms) {
                index += 1;
            }
            let n = i64::from(n);
            index = index.div_euclid(n) * n + if index.rem_euclid(n) == 0 { 0 } else { n };
            (0..limit as i64)
                .filter_map(|i| month_start(index + i * n))
                .take_while(|t| *t <= last_ms)
                .collect()
        }
        TimeStep::Years(n) => {
            let (y, ..) = civil_from_epoch_ms(first_ms);
            let mut year = y;
            if month_start(year * 12).is_some_and(|t| t < first_ms) {
                year += 1;
            }
            let n = i64::from(n);
            year = year.div_euclid(n) * n + if year.rem_euclid(n) == 0 { 0 } else { n };
            (0..limit as i64)
                .filter_map(|i| month_start((year + i * n) * 12))
                .take_while(|t| *t <= last_ms)
                .collect()
        }
    };
    let mut ticks = Vec::with_capacity(instants.len());
    let mut previous: Option<f64> = None;
    for ms in instants {
        let label = label(ms, step, previous);
        ticks.push(TimeTick { ms, label });
        previous = Some(ms);
    }
    ticks
}

/// Midnight UTC on the first of month `index` (months counted from January of year 0).
fn month_start(index: i64) -> Option<f64> {
    let (year, month) = (index.div_euclid(12), index.rem_euclid(12) + 1);
    if !(0..=9999).contains(&year) {
        return None;
    }
    parse_iso8601(&format!("{year:04}-{month:02}-01T00:00:00Z"))
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

fn month_name(month: u32) -> &'static str {
    MONTHS[(month.clamp(1, 12) - 1) as usize]
}

/// `7 Dec 2026 14:05`: a lone instant, said in full.
fn full_label(ms: f64) -> String {
    let (y, mo, d, h, mi, ..) = civil_from_epoch_ms(ms);
    format!("{d} {} {y} {h:02}:{mi:02}", month_name(mo))
}

/// The label of the tick at `ms`, after the tick at `previous` (if any).
fn label(ms: f64, step: TimeStep, previous: Option<f64>) -> String {
    let (y, mo, d, h, mi, s, _) = civil_from_epoch_ms(ms);
    let before = previous.map(civil_from_epoch_ms);
    let new_year = before.is_none_or(|b| b.0 != y);
    let new_day = before.is_none_or(|b| (b.0, b.1, b.2) != (y, mo, d));
    let month = month_name(mo);
    match step {
        TimeStep::Years(_) => format!("{y}"),
        TimeStep::Months(_) if new_year => format!("{month} {y}"),
        TimeStep::Months(_) => month.to_string(),
        TimeStep::Fixed(length) if length >= DAY => {
            if new_year {
                format!("{d} {month} {y}")
            } else {
                format!("{d} {month}")
            }
        }
        TimeStep::Fixed(length) => {
            let time = if length < MINUTE {
                format!("{h:02}:{mi:02}:{s:02}")
            } else {
                format!("{h:02}:{mi:02}")
            };
            if new_day {
                format!("{d} {month} {time}")
            } else {
                time
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(iso: &str) -> f64 {
        parse_iso8601(iso).unwrap()
    }

    fn labels(ticks: &[TimeTick]) -> Vec<&str> {
        ticks.iter().map(|t| t.label.as_str()).collect()
    }

    #[test]
    fn a_day_of_runs_is_ticked_by_hours_with_the_date_once() {
        let ticks = time_ticks(at("2026-12-07T09:12:00Z"), at("2026-12-07T21:40:00Z"), 6);
        assert_eq!(labels(&ticks), ["7 Dec 12:00", "15:00", "18:00", "21:00"]);
        assert_eq!(ticks[0].ms, at("2026-12-07T12:00:00Z"));
        // Past midnight the date is said again.
        let ticks = time_ticks(at("2026-12-07T20:10:00Z"), at("2026-12-08T03:00:00Z"), 4);
        assert_eq!(labels(&ticks), ["7 Dec 21:00", "8 Dec 00:00", "03:00"]);
    }

    #[test]
    fn minutes_and_seconds_get_their_own_steps() {
        let ticks = time_ticks(at("2026-12-07T10:00:05Z"), at("2026-12-07T10:00:50Z"), 3);
        assert_eq!(labels(&ticks), ["7 Dec 10:00:15", "10:00:30", "10:00:45"]);
        assert_eq!(
            time_step(0.0, 40.0 * MINUTE, 4),
            TimeStep::Fixed(15.0 * MINUTE)
        );
    }

    #[test]
    fn weeks_start_on_mondays_and_months_on_the_first() {
        // 2026-12-07 is a Monday.
        let ticks = time_ticks(at("2026-11-20T00:00:00Z"), at("2026-12-20T00:00:00Z"), 5);
        assert_eq!(labels(&ticks), ["23 Nov 2026", "30 Nov", "7 Dec", "14 Dec"]);
        let ticks = time_ticks(at("2026-02-10T00:00:00Z"), at("2027-01-15T00:00:00Z"), 4);
        assert_eq!(labels(&ticks), ["Apr 2026", "Jul", "Oct", "Jan 2027"]);
        assert_eq!(ticks[0].ms, at("2026-04-01T00:00:00Z"));
        let ticks = time_ticks(at("2019-06-01T00:00:00Z"), at("2026-06-01T00:00:00Z"), 4);
        assert_eq!(labels(&ticks), ["2020", "2022", "2024", "2026"]);
    }

    #[test]
    fn a_gap_between_runs_keeps_its_dates_on_the_axis() {
        // Runs on 1 and 29 December: the weeks between are ticked although nothing ran.
        let ticks = time_ticks(at("2026-12-01T10:00:00Z"), at("2026-12-29T10:00:00Z"), 6);
        assert_eq!(labels(&ticks), ["7 Dec 2026", "14 Dec", "21 Dec", "28 Dec"]);
    }

    #[test]
    fn every_span_stays_within_the_ticks_asked_for() {
        let start = at("2026-01-01T00:00:00Z");
        for span in [
            1.0,
            999.0,
            7.0 * MINUTE,
            5.0 * HOUR,
            40.0 * DAY,
            800.0 * DAY,
            1e14,
        ] {
            for max in [1, 2, 4, 8] {
                let ticks = time_ticks(start, start + span, max);
                assert!(ticks.len() <= max + 1, "{span} ms, {max}: {ticks:?}");
                assert!(ticks.iter().all(|t| t.ms >= start && t.ms <= start + span));
                assert!(ticks.windows(2).all(|w| w[0].ms < w[1].ms));
            }
        }
    }

    #[test]
    fn one_instant_has_one_tick_and_no_date_has_none() {
        let t = at("2026-12-07T14:05:00Z");
        assert_eq!(labels(&time_ticks(t, t, 4)), ["7 Dec 2026 14:05"]);
        assert!(time_ticks(f64::NAN, t, 4).is_empty());
        assert!(time_ticks(t, f64::INFINITY, 4).is_empty());
        assert!(time_ticks(t, t - 1.0, 4).is_empty());
        assert!(time_ticks(-1e300, 1e300, 4).is_empty());
        assert_eq!(time_step(0.0, 1e15, 4), TimeStep::Years(10_000));
    }
}
