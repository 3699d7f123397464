//! `/batch`: a dataset through the loop, many problems at a time, with progress, results and
//! exports.

use leptos::prelude::*;

use crate::ui::batch::dataset_panel::DatasetPanel;
use crate::ui::batch::list::BatchList;
use crate::ui::batch::session::BatchSession;
use crate::ui::batch::start_panel::StartPanel;
use crate::ui::batch::view::BatchView;
use crate::ui::components::notice::WarningText;
use crate::ui::run::session::Startup;

/// The Batch page.
#[component]
pub fn BatchPage() -> impl IntoView {
    view! {
        <div class="page-head">
            <div>
                <h1>"Batch"</h1>
                <p class="lede">
                    "Run a dataset of problems through the loop, a few at a time, with the config "
                    "from the Configure page. Every run is saved step by step and listed on the "
                    "Runs page; a closed tab loses nothing saved, and the batch can be resumed."
                </p>
            </div>
        </div>
        <InterruptedBatches/>
        <div class="batch-layout">
            <DatasetPanel/>
            <StartPanel/>
        </div>
        <BatchView/>
        <BatchList/>
    }
}

/// Says which batches the startup check found cut off by a closed tab.
#[component]
fn InterruptedBatches() -> impl IntoView {
    let batch = expect_context::<BatchSession>();
    move || {
        match batch.startup.get() {
        Startup::Done(ids) if !ids.is_empty() => Some(
            view! {
                <WarningText message=if ids.len() == 1 {
                    format!(
                        "Batch {} was cut off when this page was last closed or reloaded. Its finished problems and saved steps are kept; open it below and resume it.",
                        ids[0]
                    )
                } else {
                    format!(
                        "{} batches were cut off when this page was last closed or reloaded ({}). Their finished problems and saved steps are kept; open one below and resume it.",
                        ids.len(),
                        ids.join(", ")
                    )
                }/>
            }
            .into_any(),
        ),
        Startup::Failed(message) => Some(
            view! { <WarningText message=format!("Batches cannot be saved right now: {message}")/> }
                .into_any(),
        ),
        _ => None,
    }
    }
}
