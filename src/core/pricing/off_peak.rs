//! Time-of-day prices: a provider's off-peak rates and the windows in which they apply
//! (LiteLLM's `off_peak_pricing`; DeepSeek's, <https://api-docs.deepseek.com/quick_start/pricing>).

use serde::{Deserialize, Serialize};

use super::rates::RateSet;

const MINUTES_PER_DAY: u32 = 24 * 60;
const MS_PER_MINUTE: f64 = 60_000.0;

/// Off-peak rates and when they apply. A rate the block leaves out is the standard one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OffPeak {
    /// The rates that replace the standard ones while a window is open.
    #[serde(flatten)]
    pub rates: RateSet,
    /// When the rates apply; open when any window is.
    pub windows: Vec<OffPeakWindow>,
    /// Minutes east of UTC of the calendar the windows' weekdays are read in (Beijing time
    /// is 480); 0 means UTC. The hours are always UTC.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub weekday_offset_minutes: i32,
}

fn is_zero(n: &i32) -> bool {
    *n == 0
}

/// Hours of the day (UTC) on some weekdays.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OffPeakWindow {
    /// The spans of the day, in UTC.
    pub hours_utc: Vec<DaySpan>,
    /// ISO weekdays (1 = Monday … 7 = Sunday) the spans apply on; empty means every day.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub weekdays: Vec<u8>,
}

/// A span of the day, `HH:MM-HH:MM` in UTC: the start is in it, the end is not; a span whose
/// end is before its start runs past midnight, and one whose end equals its start is the whole
/// day (as LiteLLM reads them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct DaySpan {
    start: u32,
    end: u32,
}

impl DaySpan {
    fn contains(self, minute: u32) -> bool {
        match self.start.cmp(&self.end) {
            std::cmp::Ordering::Less => (self.start..self.end).contains(&minute),
            std::cmp::Ordering::Greater => minute >= self.start || minute < self.end,
            std::cmp::Ordering::Equal => true,
        }
    }
}

impl TryFrom<String> for DaySpan {
    type Error = String;
    fn try_from(text: String) -> Result<Self, String> {
        let minute = |s: &str| -> Option<u32> {
            let (h, m) = s.trim().split_once(':')?;
            let all_digits =
                |p: &str| !p.is_empty() && p.len() <= 2 && p.bytes().all(|b| b.is_ascii_digit());
            if !all_digits(h) || !all_digits(m) {
                return None;
            }
            let (h, m) = (h.parse::<u32>().ok()?, m.parse::<u32>().ok()?);
            (h < 24 && m < 60).then_some(h * 60 + m)
        };
        let parsed = text
            .split_once('-')
            .and_then(|(a, b)| Some((minute(a)?, minute(b)?)));
        match parsed {
            Some((start, end)) => Ok(DaySpan { start, end }),
            None => Err(format!(
                "`{text}` is not a span of the day like `16:30-00:30` (UTC)"
            )),
        }
    }
}

impl From<DaySpan> for String {
    fn from(span: DaySpan) -> String {
        format!(
            "{:02}:{:02}-{:02}:{:02}",
            span.start / 60,
            span.start % 60,
            span.end / 60,
            span.end % 60
        )
    }
}

impl OffPeak {
    /// Whether a window is open at `epoch_ms` (milliseconds since the Unix epoch, UTC).
    pub fn is_open(&self, epoch_ms: f64) -> bool {
        if !epoch_ms.is_finite() {
            return false;
        }
        let minutes = (epoch_ms / MS_PER_MINUTE).floor() as i64;
        let minute_of_day = minutes.rem_euclid(MINUTES_PER_DAY as i64) as u32;
        let local_days =
            (minutes + self.weekday_offset_minutes as i64).div_euclid(MINUTES_PER_DAY as i64);
        // 1970-01-01 was a Thursday (ISO weekday 4).
        let weekday = ((local_days + 3).rem_euclid(7) + 1) as u8;
        self.windows.iter().any(|w| {
            (w.weekdays.is_empty() || w.weekdays.contains(&weekday))
                && w.hours_utc.iter().any(|s| s.contains(minute_of_day))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span(text: &str) -> DaySpan {
        DaySpan::try_from(text.to_string()).unwrap()
    }

    /// Epoch milliseconds of a UTC date and time (days from 1970-01-01 by the civil calendar).
    fn at(y: i64, mo: i64, d: i64, h: i64, mi: i64) -> f64 {
        let (y, mo) = if mo <= 2 { (y - 1, mo + 12) } else { (y, mo) };
        let days = 365 * y + y / 4 - y / 100 + y / 400 + (153 * (mo - 3) + 2) / 5 + d - 719_469;
        ((days * 24 * 60 + h * 60 + mi) * 60_000) as f64
    }

    #[test]
    fn spans_read_and_write_as_litellm_writes_them() {
        assert_eq!(String::from(span("4:00-06:30")), "04:00-06:30");
        for bad in [
            "24:00-01:00",
            "10-12",
            "aa:00-01:00",
            "01:60-02:00",
            "01:00",
        ] {
            assert!(DaySpan::try_from(bad.to_string()).is_err(), "{bad}");
        }
        let night = span("16:30-00:30");
        assert!(night.contains(16 * 60 + 30) && night.contains(0) && !night.contains(30));
        assert!(span("00:00-00:00").contains(12 * 60));
    }

    #[test]
    fn deepseek_windows_follow_the_weekday_and_the_hour() {
        let block = OffPeak {
            rates: RateSet::default(),
            windows: vec![
                OffPeakWindow {
                    hours_utc: vec![
                        span("00:00-01:00"),
                        span("04:00-06:00"),
                        span("10:00-00:00"),
                    ],
                    weekdays: vec![1, 2, 3, 4, 5],
                },
                OffPeakWindow {
                    hours_utc: vec![span("00:00-00:00")],
                    weekdays: vec![6, 7],
                },
            ],
            weekday_offset_minutes: 0,
        };
        // 2026-03-04 is a Wednesday, 2026-03-07 a Saturday.
        assert!(!block.is_open(at(2026, 3, 4, 2, 30)));
        assert!(block.is_open(at(2026, 3, 4, 4, 0)));
        assert!(!block.is_open(at(2026, 3, 4, 9, 59)));
        assert!(block.is_open(at(2026, 3, 4, 12, 0)));
        assert!(block.is_open(at(2026, 3, 7, 3, 0)));
        assert!(!block.is_open(f64::NAN));
        // Weekdays read in Beijing time: Friday 20:00 UTC is Saturday 04:00 there.
        let weekends = |weekday_offset_minutes| OffPeak {
            rates: RateSet::default(),
            windows: vec![OffPeakWindow {
                hours_utc: vec![span("00:00-00:00")],
                weekdays: vec![6, 7],
            }],
            weekday_offset_minutes,
        };
        let friday_evening = at(2026, 3, 6, 20, 0);
        assert!(!weekends(0).is_open(friday_evening));
        assert!(weekends(480).is_open(friday_evening));
        assert!(
            !weekends(480).is_open(at(2026, 3, 8, 16, 0)),
            "Monday 00:00 in Beijing"
        );
    }
}
