//! The site header: the name and the navigation links.

use leptos::prelude::*;
use leptos_router::hooks::use_location;

use crate::ui::app::preload_page;

/// One navigation entry: where it goes, its label, its test id, and the paths it is "current" for.
struct NavItem {
    href: &'static str,
    label: &'static str,
    test_id: &'static str,
    /// Also current on these exact paths (the landing page `/` is Configure).
    aliases: &'static [&'static str],
}

const NAV: &[NavItem] = &[
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
fn is_current(item: &NavItem, path: &str) -> bool {
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

/// The header shown on every page.
#[component]
pub fn SiteHeader() -> impl IntoView {
    let location = use_location();
    let links = NAV
        .iter()
        .map(|item| {
            let current = move || {
                location
                    .pathname
                    .with(|path| is_current(item, path))
                    .then_some("page")
            };
            view! {
                <a
                    class="nav-link"
                    href=item.href
                    data-testid=item.test_id
                    aria-current=current
                    on:pointerenter=move |_| preload_page(item.href)
                    on:focus=move |_| preload_page(item.href)
                >
                    {item.label}
                </a>
            }
        })
        .collect_view();
    view! {
        <header class="site-header">
            <div class="site-header-inner">
                <a class="brand" href="/" aria-label="Trialogue, home">
                    <svg class="brand-mark" viewBox="0 0 24 24" aria-hidden="true">
                        <circle cx="12" cy="5" r="3"/>
                        <circle cx="5" cy="18" r="3"/>
                        <circle cx="19" cy="18" r="3"/>
                        <path d="M10.5 7.6 6.5 15.4M13.5 7.6l4 7.8M8 18h8" fill="none"/>
                    </svg>
                    <span class="brand-name">"Trialogue"</span>
                </a>
                <nav class="site-nav" aria-label="Main">{links}</nav>
            </div>
        </header>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test;

    fn item(test_id: &str) -> &'static NavItem {
        NAV.iter().find(|i| i.test_id == test_id).unwrap()
    }

    #[wasm_bindgen_test]
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
