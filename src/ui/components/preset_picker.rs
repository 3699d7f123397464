//! Starting from a ready-made config.

use leptos::prelude::*;

use crate::core::presets::{preset, presets, DEFAULT_PRESET_ID};
use crate::ui::config_form::ConfigForm;

/// A preset select, its description, and Apply (which replaces the whole form).
#[component]
pub fn PresetPicker() -> impl IntoView {
    let form = expect_context::<ConfigForm>();
    let all = presets();
    let (chosen, set_chosen) = signal(DEFAULT_PRESET_ID.to_string());
    let (applied, set_applied) = signal(None::<&'static str>);
    let description = move || chosen.with(|id| preset(id).map(|p| p.description).unwrap_or(""));
    let apply = move |_| {
        if let Some(p) = chosen.with_untracked(|id| preset(id)) {
            form.replace(&p.config);
            set_applied.set(Some(p.name));
        }
    };
    view! {
        <section class="card" aria-labelledby="presets-title">
            <h2 class="section-label" id="presets-title">"Presets"</h2>
            <div class="inline-form">
                <label class="visually-hidden" for="preset-select">"Preset"</label>
                <select id="preset-select" class="input" prop:value=chosen
                    on:change=move |ev| {
                        set_chosen.set(event_target_value(&ev));
                        set_applied.set(None);
                    }>
                    {all
                        .iter()
                        .map(|p| view! { <option value=p.id>{p.name}</option> })
                        .collect_view()}
                </select>
                <button type="button" class="btn" on:click=apply>"Apply"</button>
            </div>
            <p class="muted preset-description">{description}</p>
            {move || applied.get().map(|name| view! {
                <p class="ok-text" role="status">{format!("Applied “{name}”: the whole form was replaced.")}</p>
            })}
        </section>
    }
}
