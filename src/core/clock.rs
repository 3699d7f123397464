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

fn civil_from_epoch_ms(epoch_ms: f64) -> (i64, u32, u32, u32, u32, u32, u32) {
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
