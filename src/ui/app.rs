//! The application shell.

use leptos::prelude::*;

/// The root component.
#[component]
pub fn App() -> impl IntoView {
    view! { <main><h1>"Trialogue"</h1></main> }
}
