//! One control of the Configure form: label, input, hint and its inline errors; prompt fields
//! also list the placeholders they may use, clickable to insert at the caret.

use leptos::html;
use leptos::prelude::*;

use crate::app::config_draft::{self, FieldKind, FieldSpec};
use crate::core::template::placeholders_in;
use crate::ui::config_form::ConfigForm;

use super::notice::ErrorText;

/// The DOM id of the control for `path` (`cfg-solver-temperature`).
pub fn control_id(path: &str) -> String {
    format!("cfg-{}", path.replace(['.', '_'], "-"))
}

/// The form control for config path `path`, bound to the [`ConfigForm`] in context.
#[component]
pub fn ConfigField(
    /// A path from [`config_draft::FIELDS`], e.g. `solver.temperature`.
    path: &'static str,
    /// For prompts: the placeholders this prompt may use, offered as insert buttons.
    #[prop(optional)]
    placeholders: Option<&'static [&'static str]>,
    /// A label to show instead of the field's own (e.g. when the card already names the agent).
    #[prop(optional)]
    label: Option<&'static str>,
) -> impl IntoView {
    let form = expect_context::<ConfigForm>();
    let Some(spec) = config_draft::field(path) else {
        return view! { <ErrorText message=format!("The form has no field {path}.")/> }.into_any();
    };
    let Some(text) = form.field(path) else {
        return view! { <ErrorText message=format!("The form has no field {path}.")/> }.into_any();
    };
    let messages = form.messages_for(path);
    let invalid = move || messages.with(|m| (!m.is_empty()).to_string());
    let id = control_id(path);
    let error_id = format!("{id}-error");
    let described_by = {
        let error_id = error_id.clone();
        move || messages.with(|m| (!m.is_empty()).then(|| error_id.clone()))
    };
    let on_input = move |ev| text.set(event_target_value(&ev));
    let textarea_ref = NodeRef::<html::Textarea>::new();

    let control = match spec.kind {
        FieldKind::Mode => view! {
            <select id=id.clone() name=path class="input" prop:value=text on:change=on_input
                aria-invalid=invalid aria-describedby=described_by.clone()>
                <option value="debate">"Debate: solver ⇄ verifier, then judge"</option>
                <option value="baseline">"Baseline: one solver call, then judge"</option>
            </select>
        }
        .into_any(),
        FieldKind::Reasoning => {
            // A budget comes from an imported file; it stays selectable as itself.
            let budget = move || {
                let t = text.get();
                t.starts_with("budget:").then(|| {
                    let label = format!("Budget: {} tokens", t.trim_start_matches("budget:"));
                    view! { <option value=t.clone()>{label}</option> }
                })
            };
            view! {
                <select id=id.clone() name=path class="input" prop:value=text on:change=on_input
                    aria-invalid=invalid aria-describedby=described_by.clone()>
                    <option value="off">"Off: the model's default"</option>
                    <option value="low">"Low"</option>
                    <option value="medium">"Medium"</option>
                    <option value="high">"High"</option>
                    {budget}
                </select>
            }
            .into_any()
        }
        FieldKind::Multiline => {
            let tall = spec.path.ends_with("prompt_template");
            view! {
                <textarea id=id.clone() name=path class="input mono" class:tall=tall
                    rows=if tall { 7 } else { 3 } spellcheck="false"
                    node_ref=textarea_ref prop:value=text on:input=on_input
                    aria-invalid=invalid aria-describedby=described_by.clone()></textarea>
            }
            .into_any()
        }
        FieldKind::Line => view! {
            <input id=id.clone() name=path class="input" class:mono=spec.path.ends_with("model")
                type="text" spellcheck="false" autocomplete="off"
                prop:value=text on:input=on_input
                aria-invalid=invalid aria-describedby=described_by.clone()/>
        }
        .into_any(),
        FieldKind::Float | FieldKind::Whole | FieldKind::OptionalUsd => {
            // Text, not type=number: the browser would blank out what is not a number, and the
            // user must see what they typed next to the reason it is wrong.
            let mode = if spec.kind == FieldKind::Whole {
                "numeric"
            } else {
                "decimal"
            };
            view! {
                <input id=id.clone() name=path class="input mono" type="text" inputmode=mode
                    autocomplete="off" spellcheck="false"
                    prop:value=text on:input=on_input
                    aria-invalid=invalid aria-describedby=described_by.clone()/>
            }
            .into_any()
        }
    };

    view! {
        <div class="field" class:field-invalid=move || messages.with(|m| !m.is_empty())>
            <label for=id>
                <span>{label.unwrap_or(spec.label)}</span>
                {hint(spec)}
            </label>
            {control}
            {placeholders.map(|allowed| view! {
                <PlaceholderChips allowed=allowed text=text textarea=textarea_ref/>
            })}
            <div id=error_id class="field-errors">
                <For each=move || messages.get() key=|m| m.clone() let:message>
                    <ErrorText message=message field=true/>
                </For>
            </div>
        </div>
    }
    .into_any()
}

fn hint(spec: &FieldSpec) -> Option<impl IntoView> {
    (!spec.hint.is_empty()).then(|| view! { <span class="field-hint">{spec.hint}</span> })
}

/// The placeholders a prompt may use, as buttons that insert `{name}` at the caret. Ones the
/// prompt already uses are marked.
#[component]
fn PlaceholderChips(
    /// The placeholder names this prompt may use.
    allowed: &'static [&'static str],
    /// The prompt's text.
    text: RwSignal<String>,
    /// The prompt's textarea (for the caret position and to focus it again).
    textarea: NodeRef<html::Textarea>,
) -> impl IntoView {
    let used = Memo::new(move |_| text.with(|t| placeholders_in(t)));
    let insert = move |name: &'static str| {
        let token = format!("{{{name}}}");
        let Some(area) = textarea.get_untracked() else {
            text.update(|t| t.push_str(&token));
            return;
        };
        let current = text.get_untracked();
        let end_of_text = current.encode_utf16().count() as u32;
        let start = area.selection_start().ok().flatten().unwrap_or(end_of_text);
        let end = area.selection_end().ok().flatten().unwrap_or(start);
        let (next, caret) = config_draft::insert_at(&current, start, end, &token);
        text.set(next.clone());
        // Set the DOM value now so the caret can be placed before the reactive update lands.
        area.set_value(&next);
        let _ = area.focus();
        let _ = area.set_selection_range(caret, caret);
    };
    view! {
        <div class="chips" role="group" aria-label="Placeholders this prompt may use">
            <span class="chips-label">"Insert"</span>
            {allowed
                .iter()
                .map(|name| {
                    let name: &'static str = name;
                    let is_used = move || used.with(|u| u.iter().any(|n| n == name));
                    view! {
                        <button type="button" class="chip" class:chip-used=is_used
                            title=move || if is_used() {
                                format!("{{{name}}} is used in this prompt; click to insert it again")
                            } else {
                                format!("Insert {{{name}}} at the cursor")
                            }
                            on:click=move |_| insert(name)>
                            {format!("{{{name}}}")}
                        </button>
                    }
                })
                .collect_view()}
        </div>
    }
}
