//! The site header: the name and the navigation links.

use leptos::prelude::*;
use leptos_router::hooks::use_location;

use crate::app::nav::{is_current, NAV};
use crate::ui::app::preload_page;

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
