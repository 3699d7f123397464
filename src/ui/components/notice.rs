//! Inline messages: errors (the `error` test hook) and warnings.

use leptos::prelude::*;

// The icons are drawn by CSS (`.msg::before`), so the element's text is the message alone.

/// A user-facing error message (`data-testid="error"`).
#[component]
pub fn ErrorText(
    /// The message: a sentence the user can act on.
    #[prop(into)]
    message: Signal<String>,
    /// A field's own error, tied to its control by `aria-describedby`: not announced as an alert
    /// on every keystroke. Other errors (the result of an action) are alerts.
    #[prop(optional)]
    field: bool,
) -> impl IntoView {
    view! {
        <p class="msg msg-error" role=(!field).then_some("alert") data-testid="error">
            <span>{message}</span>
        </p>
    }
}

/// A warning: something the user should know that did not stop the action. It carries the same
/// `error` test hook, so automation sees every message that needs a human's attention.
#[component]
pub fn WarningText(
    /// The message.
    #[prop(into)]
    message: Signal<String>,
) -> impl IntoView {
    view! {
        <p class="msg msg-warning" role="status" data-testid="error">
            <span>{message}</span>
        </p>
    }
}
