//! The pages whose features arrive in a later release: each says so in one sentence.

use leptos::prelude::*;

/// A page that exists in the navigation but not yet in the app.
#[component]
fn Later(
    /// The page title.
    title: &'static str,
    /// One sentence saying what the page will do.
    sentence: &'static str,
) -> impl IntoView {
    view! {
        <div class="page-head">
            <h1>{title}</h1>
        </div>
        <p class="later">{sentence}</p>
    }
}

/// `/batch`: a dataset run.
#[component]
pub fn BatchPage() -> impl IntoView {
    view! {
        <Later
            title="Batch"
            sentence="Running a whole dataset of problems with a budget arrives in a later release."
        />
    }
}

/// `/costs`: spending by agent, model and time.
#[component]
pub fn CostsPage() -> impl IntoView {
    view! {
        <Later
            title="Costs"
            sentence="Charts of spending by agent, by model and over time arrive in a later release."
        />
    }
}
