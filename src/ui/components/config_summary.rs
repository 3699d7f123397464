//! The live config hash and the export buttons.

use leptos::prelude::*;

use crate::ui::config_form::ConfigForm;
use crate::web::download::download_text;

use super::notice::ErrorText;

/// The hash of the form's last valid state, whether it is current, and Export YAML / JSON.
#[component]
pub fn ConfigSummary() -> impl IntoView {
    let form = expect_context::<ConfigForm>();
    let hash = form.hash();
    let valid = form.is_valid();
    let config = form.valid_config();
    let (error, set_error) = signal(None::<String>);

    let export = move |yaml: bool| {
        let Some(config) = config.get_untracked() else {
            return;
        };
        let hash = config.config_hash();
        let (name, mime, text) = if yaml {
            (
                format!("trialogue-config-{hash}.yaml"),
                "application/yaml",
                config.to_yaml(),
            )
        } else {
            (
                format!("trialogue-config-{hash}.json"),
                "application/json",
                config.to_json(),
            )
        };
        set_error.set(
            download_text(&name, mime, &text)
                .err()
                .map(|e| e.to_string()),
        );
    };

    view! {
        <section class="card summary-card" aria-labelledby="summary-title">
            <h2 class="section-label" id="summary-title">"Config hash"</h2>
            <div class="hash-row">
                <code class="hash" class:hash-stale=move || !valid.get()
                    data-testid="config-hash"
                    aria-describedby="hash-status">{hash}</code>
                <span id="hash-status" class="hash-status" class:hash-status-stale=move || !valid.get()>
                    {move || if valid.get() { "current" } else { "stale" }}
                </span>
            </div>
            <p class="muted hash-note">
                {move || if valid.get() {
                    "Identifies this exact config in run ids, the way the original pipeline did."
                } else {
                    "The form has errors, so this is the hash of its last valid state. Fix the \
                     fields marked below to update it."
                }}
            </p>
            <div class="btn-group">
                <button type="button" class="btn btn-sm" data-testid="config-export-yaml"
                    disabled=move || !valid.get()
                    title=move || (!valid.get()).then_some("Fix the form's errors to export")
                    on:click=move |_| export(true)>
                    "Export YAML"
                </button>
                <button type="button" class="btn btn-sm" data-testid="config-export-json"
                    disabled=move || !valid.get()
                    title=move || (!valid.get()).then_some("Fix the form's errors to export")
                    on:click=move |_| export(false)>
                    "Export JSON"
                </button>
            </div>
            {move || error.get().map(|e| view! { <ErrorText message=e/> })}
        </section>
    }
}
