//! `/settings`: provider endpoints, keys and how keys are kept.

use leptos::prelude::*;

use crate::ui::components::notice::ErrorText;
use crate::ui::components::provider_card::ProviderCard;
use crate::ui::components::reply_store_panel::ReplyStorePanel;
use crate::ui::components::storage_panel::StoragePanel;
use crate::ui::costs::pricing_settings::PricingSettings;
use crate::ui::provider_state::ProviderState;

/// The Settings page.
#[component]
pub fn SettingsPage() -> impl IntoView {
    let state = expect_context::<ProviderState>();
    let ids = move || {
        state
            .registry()
            .with(|r| r.providers.iter().map(|p| p.id.clone()).collect::<Vec<_>>())
    };
    view! {
        <div class="page-head">
            <div>
                <h1>"Settings"</h1>
                <p class="lede">
                    "Where each provider lives and the key it takes. Requests go from this page "
                    "straight to the provider; keys never leave this browser any other way."
                </p>
            </div>
        </div>
        <For each=move || state.problems().get() key=|p| p.to_string() let:problem>
            <ErrorText message=problem.to_string()/>
        </For>
        <RememberKeys/>
        <div class="provider-grid">
            <For each=ids key=|id| id.clone() let:id>
                <ProviderCard id=id/>
            </For>
        </div>
        <AddProvider/>
        <PricingSettings/>
        <ReplyStorePanel/>
        <StoragePanel/>
    }
}

/// The "Remember keys in this browser" switch and what it means.
#[component]
fn RememberKeys() -> impl IntoView {
    let state = expect_context::<ProviderState>();
    let remember = state.remember_keys();
    view! {
        <section class="card card-row" aria-labelledby="remember-title">
            <div class="card-row-text">
                <h2 class="card-title" id="remember-title">"Remember keys in this browser"</h2>
                <p class="card-sub">
                    {move || if remember.get() {
                        "On: keys are saved in this browser's local storage, readable by anyone who \
                         uses this browser profile. Turn off to delete them from storage at once."
                    } else {
                        "Off: keys are kept in this tab's memory only and are gone after a reload. \
                         Nothing about them is stored."
                    }}
                </p>
            </div>
            <label class="switch">
                <input
                    type="checkbox"
                    role="switch"
                    name="remember_keys"
                    aria-labelledby="remember-title"
                    prop:checked=move || remember.get()
                    on:change=move |ev| state.set_remember_keys(event_target_checked(&ev))
                />
                <span class="switch-track" aria-hidden="true"><span class="switch-thumb"></span></span>
            </label>
        </section>
    }
}

/// The form that adds a custom OpenAI-compatible provider.
#[component]
fn AddProvider() -> impl IntoView {
    let state = expect_context::<ProviderState>();
    let (id, set_id) = signal(String::new());
    let (label, set_label) = signal(String::new());
    let (base_url, set_base_url) = signal(String::new());
    let (error, set_error) = signal(None::<String>);
    let add = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        match state.add_custom(&id.get(), &label.get(), &base_url.get()) {
            Ok(()) => {
                set_error.set(None);
                set_id.set(String::new());
                set_label.set(String::new());
                set_base_url.set(String::new());
            }
            Err(e) => set_error.set(Some(e.to_string())),
        }
    };
    view! {
        <section class="card" aria-labelledby="add-provider-title">
            <header class="card-head">
                <div>
                    <h2 class="card-title" id="add-provider-title">"Add an OpenAI-compatible provider"</h2>
                    <p class="card-sub">
                        "A vLLM, Ollama or other server that speaks the OpenAI chat API. Use its id "
                        "as the model prefix: " <code>"my-server/model-name"</code> "."
                    </p>
                </div>
            </header>
            <form class="add-provider" on:submit=add>
                <div class="field">
                    <label for="new-provider-id">"Id"</label>
                    <input id="new-provider-id" class="input mono" placeholder="my-vllm"
                        spellcheck="false" autocomplete="off"
                        prop:value=id on:input=move |ev| set_id.set(event_target_value(&ev))/>
                </div>
                <div class="field">
                    <label for="new-provider-label">"Name"</label>
                    <input id="new-provider-label" class="input" placeholder="My vLLM server"
                        autocomplete="off"
                        prop:value=label on:input=move |ev| set_label.set(event_target_value(&ev))/>
                </div>
                <div class="field field-grow">
                    <label for="new-provider-url">"Base URL"</label>
                    <input id="new-provider-url" class="input mono" type="url"
                        placeholder="http://localhost:8000/v1" spellcheck="false" autocomplete="off"
                        prop:value=base_url on:input=move |ev| set_base_url.set(event_target_value(&ev))/>
                </div>
                <div class="field field-action">
                    <button type="submit" class="btn btn-primary">"Add provider"</button>
                </div>
            </form>
            {move || error.get().map(|e| view! { <ErrorText message=e/> })}
        </section>
    }
}
