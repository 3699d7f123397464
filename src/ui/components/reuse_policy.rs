//! The reuse policy control of the Run and Batch start forms: when a run may answer a request
//! from the reply store at $0 instead of paying for it again.

use leptos::prelude::*;

use crate::core::replies::ReusePolicy;

/// A `<select>` over every [`ReusePolicy`].
#[component]
pub fn ReusePolicySelect(
    /// The element id (for its label).
    id: &'static str,
    /// The form name and `data-testid`.
    name: &'static str,
    /// The policy chosen.
    value: RwSignal<ReusePolicy>,
) -> impl IntoView {
    view! {
        <div class="field">
            <label for=id>
                "Reuse stored replies "
                <span class="field-hint">"a reused reply costs $0"</span>
            </label>
            <select
                id=id
                class="input"
                name=name
                data-testid=name
                title="Reused steps say which run paid for their reply; temperature above 0 is sampled anew unless the sample index is part of the request"
                prop:value=move || value.get().as_str()
                on:change=move |ev| {
                    if let Some(policy) = ReusePolicy::named(&event_target_value(&ev)) {
                        value.set(policy);
                    }
                }
            >
                {ReusePolicy::ALL
                    .into_iter()
                    .map(|p| view! { <option value=p.as_str()>{p.label()}</option> })
                    .collect_view()}
            </select>
        </div>
    }
}
