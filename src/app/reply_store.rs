//! The Settings page's reply store control: how its size reads, and the "clear replies older
//! than N days" field.

/// Milliseconds in a day.
const DAY_MS: f64 = 86_400_000.0;

/// Why the age typed into the clear control is not a number of days.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("\"{typed}\" is not a whole number of days; type 0 to clear every stored reply, or e.g. 30 to keep the last month's")]
pub struct NotDays {
    /// What was typed.
    pub typed: String,
}

/// The age in days typed into the clear control.
pub fn parse_days(typed: &str) -> Result<u32, NotDays> {
    typed.trim().parse::<u32>().map_err(|_| NotDays {
        typed: typed.to_string(),
    })
}

/// The time before which replies are cleared when those older than `days` go, at `now_ms`.
pub fn cutoff_ms(now_ms: f64, days: u32) -> f64 {
    now_ms - f64::from(days) * DAY_MS
}

/// The store's size as people read it: `3 replies, 12.4 KB`.
pub fn size_text(replies: u64, bytes: u64) -> String {
    let noun = if replies == 1 { "reply" } else { "replies" };
    let size = match bytes {
        b if b < 1_000 => format!("{b} bytes"),
        b if b < 1_000_000 => format!("{:.1} KB", b as f64 / 1e3),
        b => format!("{:.1} MB", b as f64 / 1e6),
    };
    format!("{replies} {noun}, {size}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_are_whole_and_not_negative() {
        assert_eq!(parse_days(" 30 "), Ok(30));
        assert_eq!(parse_days("0"), Ok(0));
        for bad in ["", "-1", "2.5", "a week"] {
            let error = parse_days(bad).unwrap_err();
            assert!(error.to_string().contains("whole number of days"), "{bad}");
        }
    }

    #[test]
    fn the_cutoff_is_that_many_days_before_now() {
        assert_eq!(cutoff_ms(1_000_000_000.0, 0), 1_000_000_000.0);
        assert_eq!(
            cutoff_ms(1_000_000_000.0, 2),
            1_000_000_000.0 - 172_800_000.0
        );
    }

    #[test]
    fn sizes_read_in_the_unit_that_fits() {
        assert_eq!(size_text(0, 0), "0 replies, 0 bytes");
        assert_eq!(size_text(1, 999), "1 reply, 999 bytes");
        assert_eq!(size_text(3, 12_400), "3 replies, 12.4 KB");
        assert_eq!(size_text(40, 2_500_000), "40 replies, 2.5 MB");
    }
}
