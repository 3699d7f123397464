//! A password field with a show/hide toggle, for API keys.

use leptos::prelude::*;

/// A masked text input with a button that reveals or hides what was typed.
#[component]
pub fn SecretInput(
    /// The element id (for the `<label for>`).
    id: String,
    /// The form name (`providers.<id>.api_key`).
    name: String,
    /// The current value.
    #[prop(into)]
    value: Signal<String>,
    /// Called with the new value on every keystroke.
    on_change: Callback<String>,
    /// Shown while empty.
    #[prop(optional)]
    placeholder: &'static str,
) -> impl IntoView {
    let (shown, set_shown) = signal(false);
    view! {
        <div class="secret">
            <input
                id=id
                name=name
                class="input mono"
                type=move || if shown.get() { "text" } else { "password" }
                autocomplete="off"
                spellcheck="false"
                placeholder=placeholder
                prop:value=move || value.get()
                on:input=move |ev| on_change.run(event_target_value(&ev))
            />
            <button
                type="button"
                class="btn btn-ghost btn-sm secret-toggle"
                aria-pressed=move || shown.get().to_string()
                on:click=move |_| set_shown.update(|s| *s = !*s)
            >
                {move || if shown.get() { "Hide" } else { "Show" }}
            </button>
        </div>
    }
}
