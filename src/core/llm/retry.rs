//! When to retry a failed request, and how long to wait first.
//!
//! The defaults are the original's tenacity settings: 3 attempts, exponential backoff between
//! 2 and 10 seconds. Pure: the random source is injected ([`SplitMix64`], seeded), so a retry
//! schedule is reproducible in tests and the core needs no `rand` crate.

use super::error::LlmError;

/// The longest `Retry-After` we wait for, in milliseconds (60 s).
///
/// A server may ask for minutes or hours (a daily quota). Waiting that long inside a run would
/// look like a hang, so we wait at most a minute and retry; if the limit still holds, the call
/// fails with the provider's rate-limit error, which tells the user when to try again.
pub const MAX_RETRY_AFTER_MS: u64 = 60_000;

/// The shortest wait a `Retry-After` gets, in milliseconds (1 s).
///
/// `Retry-After: 0`, or a date already past (a server clock behind ours), would otherwise send
/// the retry at once, into the same limit, and a batch would hammer the provider with every
/// item it starts.
pub const MIN_RETRY_AFTER_MS: u64 = 1_000;

/// The wait honoured when a provider asks for `asked_ms`: at least [`MIN_RETRY_AFTER_MS`], at
/// most [`MAX_RETRY_AFTER_MS`].
///
/// The one rule for a server's requested wait, used by the client before a retry and by the
/// batch scheduler before it starts new items, so a batch never stalls longer than a call.
pub fn honoured_wait_ms(asked_ms: u64) -> u64 {
    asked_ms.clamp(MIN_RETRY_AFTER_MS, MAX_RETRY_AFTER_MS)
}

/// How many attempts a request gets and how long to wait between them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in total, the first included (default 3). 1 disables retries.
    pub max_attempts: u32,
    /// The wait before the first retry, before jitter (default 2000 ms).
    pub min_backoff_ms: u64,
    /// No wait is longer than this, jitter included (default 10 000 ms); a `Retry-After` from
    /// the server is honoured up to [`MAX_RETRY_AFTER_MS`] instead.
    pub max_backoff_ms: u64,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 3,
            min_backoff_ms: 2_000,
            max_backoff_ms: 10_000,
        }
    }
}

/// What the policy needs to know about a failure.
pub trait RetryHint {
    /// Whether trying the same request again can help (network errors, timeouts, 429, 5xx).
    fn is_retryable(&self) -> bool;
    /// How long the server asked us to wait, if it said.
    fn retry_after_ms(&self) -> Option<u64>;
}

impl RetryHint for LlmError {
    fn is_retryable(&self) -> bool {
        LlmError::is_retryable(self)
    }

    fn retry_after_ms(&self) -> Option<u64> {
        LlmError::retry_after_ms(self)
    }
}

impl RetryPolicy {
    /// The wait before the next attempt, or `None` when the request must not be retried: the
    /// error is not retryable, or `attempt` (the 1-based number of the attempt that just failed)
    /// was the last one allowed.
    ///
    /// Without a `Retry-After`, attempt `n` waits `min_backoff_ms * 2^(n-1)` plus a jitter of up
    /// to half that, capped at `max_backoff_ms` (with the defaults: 2–3 s, 4–6 s, 8–10 s). The
    /// jitter keeps parallel runs from retrying in lockstep; the windows do not overlap, so the
    /// waits grow. With a `Retry-After`, that wait is used as [`honoured_wait_ms`] bounds it.
    pub fn delay_for(
        &self,
        attempt: u32,
        error: &impl RetryHint,
        rng: &mut SplitMix64,
    ) -> Option<u64> {
        if attempt >= self.max_attempts || !error.is_retryable() {
            return None;
        }
        if let Some(ms) = error.retry_after_ms() {
            return Some(honoured_wait_ms(ms));
        }
        let doublings = attempt.saturating_sub(1).min(32);
        let base = self
            .min_backoff_ms
            .saturating_mul(1u64 << doublings)
            .min(self.max_backoff_ms);
        let jitter = rng.below(base / 2 + 1);
        Some(base.saturating_add(jitter).min(self.max_backoff_ms))
    }
}

/// A small seeded pseudo-random generator (SplitMix64, Steele, Lea and Flood 2014), plenty for
/// jitter. Not for anything secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    /// A generator whose sequence is fixed by `seed`.
    pub fn new(seed: u64) -> Self {
        Self { state: seed }
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (0 when `n` is 0). The modulo bias is below 2^-40 for the
    /// millisecond ranges used here.
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            0
        } else {
            self.next_u64() % n
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::llm::error::ErrorKind;

    struct Hint {
        retryable: bool,
        retry_after: Option<u64>,
    }

    impl RetryHint for Hint {
        fn is_retryable(&self) -> bool {
            self.retryable
        }
        fn retry_after_ms(&self) -> Option<u64> {
            self.retry_after
        }
    }

    const FLAKY: Hint = Hint {
        retryable: true,
        retry_after: None,
    };

    #[test]
    fn splitmix_matches_the_reference_sequence() {
        // First outputs for seed 1234567, from the reference algorithm run in python3:
        // s += 0x9E3779B97F4A7C15; z = s; z = (z ^ z>>30) * 0xBF58476D1CE4E5B9;
        // z = (z ^ z>>27) * 0x94D049BB133111EB; z ^ z>>31   (all mod 2^64)
        let mut rng = SplitMix64::new(1234567);
        assert_eq!(rng.next_u64(), 6457827717110365317);
        assert_eq!(rng.next_u64(), 3203168211198807973);
        assert_eq!(rng.below(0), 0);
    }

    #[test]
    fn backoff_grows_within_bounds_and_is_deterministic() {
        let policy = RetryPolicy {
            max_attempts: 6,
            ..RetryPolicy::default()
        };
        let schedule = |seed| {
            let mut rng = SplitMix64::new(seed);
            (1..6)
                .map(|n| policy.delay_for(n, &FLAKY, &mut rng))
                .collect::<Option<Vec<u64>>>()
                .unwrap_or_default()
        };
        let a = schedule(7);
        assert_eq!(a.len(), 5);
        assert!(a.iter().all(|d| (2_000..=10_000).contains(d)), "{a:?}");
        assert!(a.windows(2).all(|w| w[0] <= w[1]), "{a:?}");
        assert!((2_000..=3_000).contains(&a[0]));
        assert!((4_000..=6_000).contains(&a[1]));
        assert_eq!(a[3..], [10_000, 10_000]);
        assert_eq!(schedule(7), a);
        assert_ne!(schedule(8), a);
    }

    #[test]
    fn jitter_uses_the_injected_generator() {
        // 2000 + (first splitmix output for seed 1234567) % 1001, computed in python3.
        let mut rng = SplitMix64::new(1234567);
        let d = RetryPolicy::default().delay_for(1, &FLAKY, &mut rng);
        assert_eq!(d, Some(2000 + 6457827717110365317 % 1001));
        assert_eq!(d, Some(2_722));
    }

    #[test]
    fn stops_after_max_attempts_and_on_permanent_errors() {
        let policy = RetryPolicy::default();
        let mut rng = SplitMix64::new(1);
        assert!(policy.delay_for(2, &FLAKY, &mut rng).is_some());
        assert_eq!(policy.delay_for(3, &FLAKY, &mut rng), None);
        let permanent = Hint {
            retryable: false,
            retry_after: Some(1_000),
        };
        assert_eq!(policy.delay_for(1, &permanent, &mut rng), None);
        let once = RetryPolicy {
            max_attempts: 1,
            ..policy
        };
        assert_eq!(once.delay_for(1, &FLAKY, &mut rng), None);
    }

    #[test]
    fn retry_after_is_honoured_and_capped() {
        let policy = RetryPolicy::default();
        let mut rng = SplitMix64::new(1);
        let asked = |ms| Hint {
            retryable: true,
            retry_after: Some(ms),
        };
        assert_eq!(policy.delay_for(1, &asked(1_500), &mut rng), Some(1_500));
        assert_eq!(policy.delay_for(1, &asked(30_000), &mut rng), Some(30_000));
        assert_eq!(
            policy.delay_for(2, &asked(3_600_000), &mut rng),
            Some(MAX_RETRY_AFTER_MS)
        );
        // `Retry-After: 0` and past dates (read as 0) still wait the floor.
        assert_eq!(
            policy.delay_for(1, &asked(0), &mut rng),
            Some(MIN_RETRY_AFTER_MS)
        );
        assert_eq!(
            policy.delay_for(1, &asked(400), &mut rng),
            Some(MIN_RETRY_AFTER_MS)
        );
    }

    #[test]
    fn reads_llm_errors() {
        let policy = RetryPolicy::default();
        let mut rng = SplitMix64::new(1);
        let auth = LlmError::from_http("openai", 401, ErrorKind::Auth, "bad key", None);
        assert_eq!(policy.delay_for(1, &auth, &mut rng), None);
        let limited = LlmError::from_http(
            "openai",
            429,
            ErrorKind::RateLimited,
            "slow down",
            Some(4_500),
        );
        assert_eq!(policy.delay_for(1, &limited, &mut rng), Some(4_500));
        let server = LlmError::from_http("openai", 503, ErrorKind::Server, "x", None);
        assert!(matches!(
            policy.delay_for(1, &server, &mut rng),
            Some(2_000..=3_000)
        ));
    }
}
