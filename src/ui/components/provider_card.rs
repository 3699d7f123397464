//! One provider's settings: endpoint, key, structured-output mode, validation, connection test.

use leptos::prelude::*;

use crate::core::llm::chat::StructuredMode;
use crate::core::providers::{ProviderKind, ProviderSettings};

use super::notice::ErrorText;
use super::provider_probe::ProviderProbe;
use super::secret_input::SecretInput;
use crate::ui::provider_state::ProviderState;

/// The structured-output modes offered as overrides, with their form values and labels.
const MODES: &[(StructuredMode, &str, &str)] = &[
    (StructuredMode::Native, "native", "Native schema"),
    (
        StructuredMode::JsonObjectSchema,
        "json_object_schema",
        "JSON object + schema (llama.cpp)",
    ),
    (StructuredMode::PromptOnly, "prompt_only", "Prompt only"),
];

fn mode_value(mode: Option<StructuredMode>) -> &'static str {
    mode.and_then(|m| MODES.iter().find(|(k, _, _)| *k == m))
        .map_or("", |(_, value, _)| *value)
}

fn mode_label(mode: StructuredMode) -> &'static str {
    MODES
        .iter()
        .find(|(k, _, _)| *k == mode)
        .map_or("", |(_, _, label)| *label)
}

fn mode_from_value(value: &str) -> Option<StructuredMode> {
    MODES
        .iter()
        .find(|(_, v, _)| *v == value)
        .map(|(mode, _, _)| *mode)
}

/// The settings card of provider `id`.
#[component]
pub fn ProviderCard(
    /// The provider's id in the registry.
    id: String,
) -> impl IntoView {
    let state = expect_context::<ProviderState>();
    let settings: Memo<Option<ProviderSettings>> = {
        let id = id.clone();
        Memo::new(move |_| state.registry().with(|r| r.get(&id).cloned()))
    };
    let get = move |f: fn(&ProviderSettings) -> String| {
        move || settings.with(|s| s.as_ref().map(f).unwrap_or_default())
    };
    let builtin = settings.with_untracked(|s| s.as_ref().is_some_and(|s| s.builtin));
    let kind_label = settings.with_untracked(|s| s.as_ref().map_or("", |s| s.kind.label()));
    let problems = move || settings.with(|s| s.as_ref().map(|s| s.validate()).unwrap_or_default());
    let default_mode = move || {
        settings.with(|s| {
            s.as_ref()
                .map(|s| {
                    let mut plain = s.clone();
                    plain.structured_mode = None;
                    mode_label(plain.effective_structured_mode())
                })
                .unwrap_or_default()
        })
    };

    let dom_id = |field: &str| format!("provider-{id}-{field}");
    let name = |field: &str| format!("providers.{id}.{field}");
    let on_base_url = {
        let id = id.clone();
        move |ev| {
            let value = event_target_value(&ev);
            state.update(&id, |p| p.base_url = value);
        }
    };
    let on_key = {
        let id = id.clone();
        Callback::new(move |value: String| state.update(&id, |p| p.api_key = value))
    };
    let on_mode = {
        let id = id.clone();
        move |ev| {
            let mode = mode_from_value(&event_target_value(&ev));
            state.update(&id, |p| p.structured_mode = mode);
        }
    };
    let on_streaming = {
        let id = id.clone();
        move |ev| {
            let streaming = match event_target_value(&ev).as_str() {
                "on" => Some(true),
                "off" => Some(false),
                _ => None,
            };
            state.update(&id, |p| p.streaming = streaming);
        }
    };
    let streaming_value = move || {
        settings.with(|s| match s.as_ref().and_then(|s| s.streaming) {
            Some(true) => "on",
            Some(false) => "off",
            None => "",
        })
    };
    let default_streaming = move || {
        settings.with(|s| {
            let mut plain = s.clone()?;
            plain.streaming = None;
            Some(if plain.streams() { "on" } else { "off" })
        })
    };
    let openai_compatible = settings.with_untracked(|s| {
        s.as_ref()
            .is_some_and(|s| s.kind == ProviderKind::OpenAiCompatible)
    });
    let on_batch_endpoints = {
        let id = id.clone();
        move |ev| {
            let declared = match event_target_value(&ev).as_str() {
                "yes" => Some(true),
                "no" => Some(false),
                _ => None,
            };
            state.update(&id, |p| p.batch_endpoints = declared);
        }
    };
    let batch_endpoints_value = move || {
        settings.with(|s| match s.as_ref().and_then(|s| s.batch_endpoints) {
            Some(true) => "yes",
            Some(false) => "no",
            None => "",
        })
    };
    let default_batch_endpoints = move || {
        settings.with(|s| {
            let mut plain = s.clone()?;
            plain.batch_endpoints = None;
            Some(if plain.batch_api() { "yes" } else { "no" })
        })
    };
    let remove = {
        let id = id.clone();
        move |_| state.remove_custom(&id)
    };

    view! {
        <section class="card provider-card" aria-labelledby=dom_id("title")>
            <header class="card-head">
                <div>
                    <h2 class="card-title" id=dom_id("title")>{get(|s| s.label.clone())}</h2>
                    <p class="card-sub">
                        <code>{id.clone()}</code>
                        <span class="dot" aria-hidden="true">"·"</span>
                        {kind_label}
                    </p>
                </div>
                {(!builtin).then(|| view! {
                    <button type="button" class="btn btn-ghost btn-sm btn-danger" on:click=remove>
                        "Remove"
                    </button>
                })}
            </header>
            <div class="field">
                <label for=dom_id("base_url")>"Base URL"</label>
                <input
                    id=dom_id("base_url")
                    name=name("base_url")
                    class="input mono"
                    type="url"
                    spellcheck="false"
                    autocomplete="off"
                    prop:value=get(|s| s.base_url.clone())
                    aria-invalid=move || (!problems().is_empty()).to_string()
                    aria-describedby=dom_id("problems")
                    on:input=on_base_url
                />
            </div>
            <div class="field">
                <label for=dom_id("api_key")>"API key"</label>
                <SecretInput
                    id=dom_id("api_key")
                    name=name("api_key")
                    value=Signal::derive(get(|s| s.api_key.clone()))
                    on_change=on_key
                    placeholder=if id == "local" { "usually none" } else { "" }
                />
            </div>
            <div class="field">
                <label for=dom_id("structured_mode")>"Structured output"</label>
                <select
                    id=dom_id("structured_mode")
                    name=name("structured_mode")
                    class="input"
                    prop:value=move || settings.with(|s| mode_value(s.as_ref().and_then(|s| s.structured_mode)))
                    on:change=on_mode
                >
                    <option value="">{move || format!("Default ({})", default_mode())}</option>
                    {MODES
                        .iter()
                        .map(|(_, value, label)| view! { <option value=*value>{*label}</option> })
                        .collect_view()}
                </select>
            </div>
            <div class="field">
                <label for=dom_id("streaming")>"Stream replies"</label>
                <select
                    id=dom_id("streaming")
                    name=name("streaming")
                    class="input"
                    prop:value=streaming_value
                    on:change=on_streaming
                >
                    <option value="">
                        {move || format!("Default ({})", default_streaming().unwrap_or_default())}
                    </option>
                    <option value="on">"On: show replies as they come"</option>
                    <option value="off">"Off: wait for whole replies (proxies that buffer)"</option>
                </select>
            </div>
            {openai_compatible.then(|| view! {
                <div class="field">
                    <label for=dom_id("batch_endpoints")>"OpenAI batch endpoints"</label>
                    <select
                        id=dom_id("batch_endpoints")
                        name=name("batch_endpoints")
                        class="input"
                        data-testid=format!("provider-batch-endpoints-{id}")
                        title="Whether this server implements OpenAI's /files and /batches endpoints (half-price provider batches)"
                        prop:value=batch_endpoints_value
                        on:change=on_batch_endpoints
                    >
                        <option value="">
                            {move || format!("Default ({})", default_batch_endpoints().unwrap_or_default())}
                        </option>
                        <option value="yes">"Yes: provider batch mode may use /files and /batches"</option>
                        <option value="no">"No: always call it live"</option>
                    </select>
                </div>
            })}
            <div id=dom_id("problems") class="field-errors">
                <For each=problems key=|p| p.clone() let:problem>
                    <ErrorText message=problem field=true/>
                </For>
            </div>
            <footer class="card-foot">
                <ProviderProbe id=id.clone()/>
            </footer>
        </section>
    }
}
