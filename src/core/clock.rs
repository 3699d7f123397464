//! Time as core sees it: injected, so the loop and the retry policy run natively with a fake clock.

use std::future::Future;

/// Wall-clock time and waiting. The browser implements it with `Date.now()` and `setTimeout`;
/// tests implement it with a virtual clock that advances instantly.
pub trait Clock {
    /// Milliseconds since the Unix epoch (UTC).
    fn now_ms(&self) -> f64;
    /// Waits `ms` milliseconds.
    fn sleep(&self, ms: u64) -> impl Future<Output = ()>;
}

/// A virtual clock for tests: `sleep` returns at once and advances the time.
#[derive(Debug, Default, Clone)]
pub struct ManualClock {
    now: std::rc::Rc<std::cell::Cell<f64>>,
    slept: std::rc::Rc<std::cell::RefCell<Vec<u64>>>,
}

impl ManualClock {
    /// A clock starting at `start_ms`.
    pub fn starting_at(start_ms: f64) -> Self {
        let clock = Self::default();
        clock.now.set(start_ms);
        clock
    }

    /// Moves time forward without sleeping.
    pub fn advance(&self, ms: f64) {
        self.now.set(self.now.get() + ms);
    }

    /// Every sleep requested so far, in order.
    pub fn sleeps(&self) -> Vec<u64> {
        self.slept.borrow().clone()
    }
}

impl Clock for ManualClock {
    fn now_ms(&self) -> f64 {
        self.now.get()
    }

    async fn sleep(&self, ms: u64) {
        self.slept.borrow_mut().push(ms);
        self.advance(ms as f64);
    }
}

/// Formats epoch milliseconds as ISO 8601 UTC with microseconds, like Python's
/// `datetime.isoformat()` on an aware UTC datetime: `2026-11-24T21:10:09.123000+00:00`.
pub fn iso8601_utc(epoch_ms: f64) -> String {
    let (y, mo, d, h, mi, s, micros) = civil_from_epoch_ms(epoch_ms);
    format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{micros:06}+00:00")
}

/// `YYYYMMDD_HHMMSS` in UTC, the form the original used inside run ids.
pub fn compact_utc(epoch_ms: f64) -> String {
    let (y, mo, d, h, mi, s, _) = civil_from_epoch_ms(epoch_ms);
    format!("{y:04}{mo:02}{d:02}_{h:02}{mi:02}{s:02}")
}

/// Reads an ISO 8601 date-time with an offset (`2026-11-24T21:10:09.123000+00:00`, `…Z`, a
/// fraction of any length or none) as epoch milliseconds; `None` for anything else, such as a
/// time without an offset, whose instant is not known.
pub fn parse_iso8601(text: &str) -> Option<f64> {
    let b = text.as_bytes();
    let digits = |range: std::ops::Range<usize>| -> Option<i64> {
        let part = text.get(range)?;
        (!part.is_empty() && part.bytes().all(|c| c.is_ascii_digit()))
            .then(|| part.parse().ok())
            .flatten()
    };
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') {
        return None;
    }
    if b[13] != b':' || b[16] != b':' {
        return None;
    }
    let (y, mo, d) = (digits(0..4)?, digits(5..7)?, digits(8..10)?);
    let (h, mi, s) = (digits(11..13)?, digits(14..16)?, digits(17..19)?);
    let mut rest = &text[19..];
    let mut fraction_ms = 0.0;
    if let Some(after_dot) = rest.strip_prefix('.') {
        let n = after_dot.bytes().take_while(u8::is_ascii_digit).count();
        if n == 0 {
            return None;
        }
        fraction_ms = format!("0.{}", &after_dot[..n]).parse::<f64>().ok()? * 1000.0;
        rest = &after_dot[n..];
    }
    let offset_minutes = match rest {
        "Z" | "z" => 0,
        _ => {
            let sign = match rest.as_bytes().first()? {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            let (oh, om) = rest[1..].split_once(':')?;
            if oh.len() != 2 || om.len() != 2 {
                return None;
            }
            sign * (oh.parse::<i64>().ok()? * 60 + om.parse::<i64>().ok()?)
        }
    };
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let month_days = [
        31,
        if leap { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    let valid = (1..=12).contains(&mo)
        && d >= 1
        && d <= month_days[(mo - 1) as usize]
        && h < 24
        && mi < 60
        && s < 60;
    if !valid {
        return None;
    }
    // Days since 1970-01-01 (Howard Hinnant's days_from_civil).
    let yy = if mo <= 2 { y - 1 } else { y };
    let era = yy.div_euclid(400);
    let yoe = yy - era * 400;
    let doy = (153 * ((mo + 9) % 12) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let secs = days * 86_400 + h * 3600 + mi * 60 + s - offset_minutes * 60;
    Some(secs as f64 * 1000.0 + fraction_ms)
}

/// The UTC calendar date and time of epoch milliseconds: year, month (1-12), day (1-31),
/// hour, minute, second and microsecond (proleptic Gregorian calendar).
pub fn civil_from_epoch_ms(epoch_ms: f64) -> (i64, u32, u32, u32, u32, u32, u32) {
    let total_micros = (epoch_ms * 1000.0).round() as i64;
    let micros = total_micros.rem_euclid(1_000_000) as u32;
    let secs = total_micros.div_euclid(1_000_000);
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    let (h, mi, s) = (
        (sod / 3600) as u32,
        ((sod % 3600) / 60) as u32,
        (sod % 60) as u32,
    );
    // Days since 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's civil_from_days).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let mo = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(mo <= 2);
    (y, mo, d, h, mi, s, micros)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_known_instants() {
        // 2026-11-24T21:10:09.123Z
        let ms = 1_795_554_609_123.0;
        assert_eq!(iso8601_utc(ms), "2026-11-24T21:10:09.123000+00:00");
        assert_eq!(compact_utc(ms), "20261124_211009");
        assert_eq!(iso8601_utc(0.0), "1970-01-01T00:00:00.000000+00:00");
        // A leap day.
        assert_eq!(compact_utc(951_782_400_000.0), "20000229_000000");
    }

    #[test]
    fn reads_back_what_it_writes_and_offsets() {
        for ms in [
            0.0,
            1_795_554_609_123.0,
            951_782_400_000.0,
            1_772_591_400_000.0,
        ] {
            assert_eq!(parse_iso8601(&iso8601_utc(ms)), Some(ms));
        }
        // 2026-03-04T02:30:00Z, in three spellings.
        let ms = Some(1_772_591_400_000.0);
        assert_eq!(parse_iso8601("2026-03-04T02:30:00Z"), ms);
        assert_eq!(parse_iso8601("2026-03-04T10:30:00+08:00"), ms);
        assert_eq!(parse_iso8601("2026-03-03T21:30:00.000-05:00"), ms);
        for bad in [
            "t",
            "2026-03-04T02:30:00",
            "2026-02-30T00:00:00Z",
            "2026-03-04T24:00:00Z",
            "2026-03-04T02:30:00.Z",
            "2026-03-04T02:30:00+0800",
        ] {
            assert_eq!(parse_iso8601(bad), None, "{bad}");
        }
    }

    #[test]
    fn manual_clock_records_sleeps_and_advances() {
        let clock = ManualClock::starting_at(1000.0);
        let fut = clock.sleep(250);
        // Poll the ready future without an executor dependency.
        let waker = std::task::Waker::noop();
        let mut cx = std::task::Context::from_waker(waker);
        let mut fut = std::pin::pin!(fut);
        assert!(fut.as_mut().poll(&mut cx).is_ready());
        assert_eq!(clock.now_ms(), 1250.0);
        assert_eq!(clock.sleeps(), vec![250]);
    }
}
