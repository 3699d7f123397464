//! What Settings says of this site's storage: how much of the browser's quota the stored runs
//! use, and a warning while there is still room to act (export, delete, ask for persistence)
//! before commits start failing with a full quota.

/// From this share of the quota on, Settings warns.
pub const WARN_AT: f64 = 0.8;
/// From this share on, the warning says the next runs may not be saved.
pub const CRITICAL_AT: f64 = 0.95;

/// How full the quota is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuotaLevel {
    /// Room to spare (or the browser did not say).
    Fine,
    /// Over [`WARN_AT`] of the quota.
    Warning,
    /// Over [`CRITICAL_AT`] of the quota.
    Critical,
}

/// The storage line of Settings.
#[derive(Debug, Clone, PartialEq)]
pub struct StorageStatus {
    /// `Using 1.2 GB of 10.0 GB (12 %)`, or what is known of it.
    pub usage_text: String,
    /// The share of the quota used, when both are known.
    pub share: Option<f64>,
    /// How full it is.
    pub level: QuotaLevel,
    /// What to do about it (empty while fine).
    pub advice: String,
}

/// Bytes as `999 B`, `12.3 KB`, `4.5 MB`, `1.2 GB` (decimal units, as browsers report quota).
pub fn bytes_text(bytes: u64) -> String {
    let b = bytes as f64;
    match bytes {
        n if n < 1_000 => format!("{n} B"),
        n if n < 1_000_000 => format!("{:.1} KB", b / 1e3),
        n if n < 1_000_000_000 => format!("{:.1} MB", b / 1e6),
        _ => format!("{:.1} GB", b / 1e9),
    }
}

impl StorageStatus {
    /// The status of `usage` bytes used of `quota` (either unknown when the browser does not
    /// say).
    pub fn of(usage: Option<u64>, quota: Option<u64>) -> Self {
        let share = match (usage, quota) {
            (Some(u), Some(q)) if q > 0 => Some(u as f64 / q as f64),
            _ => None,
        };
        let usage_text = match (usage, quota, share) {
            (Some(u), Some(q), Some(s)) => format!(
                "Using {} of {} ({:.0} %)",
                bytes_text(u),
                bytes_text(q),
                100.0 * s
            ),
            (Some(u), _, _) => format!("Using {} (the browser gives no quota)", bytes_text(u)),
            _ => "The browser does not say how much storage this site uses.".to_string(),
        };
        let level = match share {
            Some(s) if s >= CRITICAL_AT => QuotaLevel::Critical,
            Some(s) if s >= WARN_AT => QuotaLevel::Warning,
            _ => QuotaLevel::Fine,
        };
        let advice = match level {
            QuotaLevel::Fine => String::new(),
            QuotaLevel::Warning => "Storage is filling up: export the runs you need as JSONL \
                and delete old ones on the Runs page, or clear old replies below, before the \
                browser refuses new steps."
                .to_string(),
            QuotaLevel::Critical => "Storage is almost full: the next steps may not be saved. \
                Export and delete runs on the Runs page, or clear old replies below, now."
                .to_string(),
        };
        StorageStatus {
            usage_text,
            share,
            level,
            advice,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_warning_starts_before_the_quota_is_reached() {
        let gb = 1_000_000_000;
        let fine = StorageStatus::of(Some(gb), Some(10 * gb));
        assert_eq!(fine.level, QuotaLevel::Fine);
        assert_eq!(fine.usage_text, "Using 1.0 GB of 10.0 GB (10 %)");
        assert!(fine.advice.is_empty());
        // 7.99 of 10 is not yet 80 %; 8 is.
        assert_eq!(
            StorageStatus::of(Some(7_990_000_000), Some(10 * gb)).level,
            QuotaLevel::Fine
        );
        let warn = StorageStatus::of(Some(8 * gb), Some(10 * gb));
        assert_eq!(warn.level, QuotaLevel::Warning);
        assert!(warn.advice.contains("export"));
        let full = StorageStatus::of(Some(9_600_000_000), Some(10 * gb));
        assert_eq!(full.level, QuotaLevel::Critical);
        assert!(full.advice.contains("may not be saved"));
    }

    #[test]
    fn an_unknown_quota_warns_of_nothing_and_says_what_is_known() {
        let s = StorageStatus::of(Some(2_500_000), None);
        assert_eq!(s.usage_text, "Using 2.5 MB (the browser gives no quota)");
        assert_eq!((s.level, s.share), (QuotaLevel::Fine, None));
        assert_eq!(StorageStatus::of(None, None).level, QuotaLevel::Fine);
        assert_eq!(
            StorageStatus::of(Some(5), Some(0)).level,
            QuotaLevel::Fine,
            "a zero quota is not a share"
        );
    }

    #[test]
    fn bytes_read_in_decimal_units() {
        assert_eq!(bytes_text(999), "999 B");
        assert_eq!(bytes_text(12_345), "12.3 KB");
        assert_eq!(bytes_text(4_500_000), "4.5 MB");
    }
}
