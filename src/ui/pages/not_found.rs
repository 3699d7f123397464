//! The page for an address the app does not know.

use leptos::prelude::*;

/// Shown for any path no route matches.
#[component]
pub fn NotFoundPage() -> impl IntoView {
    view! {
        <div class="page-head">
            <h1>"Page not found"</h1>
        </div>
        <p class="later">
            "There is no page at this address. " <a href="/configure">"Go to Configure"</a> "."
        </p>
    }
}
