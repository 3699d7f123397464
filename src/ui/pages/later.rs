//! The pages whose features arrive in a later release: each says so in one sentence.

use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

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

/// `/run`: a single solver → verifier → judge run.
#[component]
pub fn RunPage() -> impl IntoView {
    view! {
        <Later
            title="Run"
            sentence="Running the solver → verifier → judge loop on one problem arrives in a later release."
        />
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

/// `/runs`: the run history.
#[component]
pub fn RunsPage() -> impl IntoView {
    view! {
        <Later
            title="Runs"
            sentence="Browsing, importing and exporting past runs and their trajectories arrives in a later release."
        />
    }
}

/// `/runs/:id`: one past run.
#[component]
pub fn RunDetailPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.with(|p| p.get("id").unwrap_or_default());
    view! {
        <div class="page-head">
            <h1>"Run " <code class="run-id">{id}</code></h1>
        </div>
        <p class="later">"Viewing a stored run's transcript arrives in a later release."</p>
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
