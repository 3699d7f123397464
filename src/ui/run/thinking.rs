//! What a model thought before answering, folded under its step (`data-testid="step-thinking"`):
//! the text a provider returned, marked when the provider redacted part of it, and, while a
//! reply streams, the thinking so far.
//!
//! Like the rest of the transcript, the text goes into the page as a text node only.

use leptos::prelude::*;

use crate::core::llm::Thinking;

/// The stored thinking of a step, folded; nothing when the provider returned none.
#[component]
pub fn StepThinking(
    /// The step's `metadata.thinking`.
    thinking: Option<Thinking>,
) -> impl IntoView {
    let thinking = thinking.filter(|t| !t.is_empty())?;
    let redacted = thinking.is_redacted();
    Some(view! {
        <ThinkingFold text=thinking.text() redacted=redacted open=false/>
    })
}

/// Thinking text under a fold. `open` unfolds it (the live view keeps it open while the model
/// thinks).
#[component]
pub fn ThinkingFold(
    /// The text.
    #[prop(into)]
    text: Signal<String>,
    /// Whether the provider redacted some of it.
    #[prop(optional)]
    redacted: bool,
    /// Whether it starts unfolded.
    #[prop(optional)]
    open: bool,
) -> impl IntoView {
    let label = if redacted {
        "Thinking (partly redacted by the provider)"
    } else {
        "Thinking"
    };
    view! {
        <details class="step-block step-thinking" data-testid="step-thinking"
            data-redacted=redacted.to_string() open=open>
            <summary>{label}</summary>
            <p class="step-text step-thinking-text">{move || text.get()}</p>
        </details>
    }
}
