//! The site's navigation: its entries, and which one is the page shown.

/// One navigation entry: where it goes, its label, its test id, and the paths it is "current" for.
pub struct NavItem {
    /// Where it goes.
    pub href: &'static str,
    /// The link's text.
    pub label: &'static str,
    /// Its `data-testid`.
    pub test_id: &'static str,
    /// Also current on these exact paths (the landing page `/` is Configure).
    pub aliases: &'static [&'static str],
}

/// Every entry, in the header's order.
pub const NAV: &[NavItem] = &[
    NavItem {
        href: "/configure",
        label: "Configure",
        test_id: "nav-configure",
        aliases: &["/"],
    },
    NavItem {
        href: "/run",
        label: "Run",
        test_id: "nav-run",
        aliases: &[],
    },
    NavItem {
        href: "/batch",
        label: "Batch",
        test_id: "nav-batch",
        aliases: &[],
    },
    NavItem {
        href: "/runs",
        label: "Runs",
        test_id: "nav-runs",
        aliases: &[],
    },
    NavItem {
        href: "/costs",
        label: "Costs",
        test_id: "nav-costs",
        aliases: &[],
    },
    NavItem {
        href: "/experiments",
        label: "Experiments",
        test_id: "nav-experiments",
        aliases: &[],
    },
    NavItem {
        href: "/training",
        label: "Training data",
        test_id: "nav-training",
        aliases: &[],
    },
    NavItem {
        href: "/settings",
        label: "Settings",
        test_id: "nav-settings",
        aliases: &[],
    },
];

/// Whether `item` is the page at `path` (a section's sub-pages count: `/runs/abc` is Runs).
pub fn is_current(item: &NavItem, path: &str) -> bool {
    let path = match path.trim_end_matches('/') {
        "" => "/",
        trimmed => trimmed,
    };
    item.aliases.contains(&path)
        || path == item.href
        || path
            .strip_prefix(item.href)
            .is_some_and(|rest| rest.starts_with('/'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(test_id: &str) -> &'static NavItem {
        NAV.iter().find(|i| i.test_id == test_id).unwrap()
    }

    #[test]
    fn the_landing_page_and_sub_pages_mark_their_section() {
        assert!(is_current(item("nav-configure"), "/"));
        assert!(is_current(item("nav-configure"), "/configure/"));
        assert!(is_current(
            item("nav-runs"),
            "/runs/run_20250101_000000_abcd1234"
        ));
        assert!(!is_current(item("nav-run"), "/runs"));
        assert!(!is_current(item("nav-runs"), "/run"));
        assert!(!is_current(item("nav-settings"), "/"));
    }
}
