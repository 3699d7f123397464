//! "What was sent and what came back" for one committed step, folded under the step's card:
//! the system and user messages (rebuilt by the loop's own renderer from the step's input and
//! the run's config, see [`messages_of_step`]), the reply as stored, and each request the call
//! made (re-asks and retries) with the raw text of each reply that failed validation, each with
//! a copy button.
//!
//! The text goes into the page as text nodes only, like the rest of the transcript.

use leptos::prelude::*;
use wasm_bindgen::JsCast;

use crate::core::config::PipelineConfig;
use crate::core::llm::{AttemptKind, AttemptRecord};
use crate::core::pipeline::messages_of_step;
use crate::core::trajectory::TrajectoryEntry;

/// The config of the run whose transcript is shown: its own, not the form's. Provided by the
/// pages that show a run; without it (or for a run imported without its config) the panel says
/// the messages cannot be rebuilt.
#[derive(Debug, Clone, Copy)]
pub struct ShownRunConfig(pub Signal<Option<PipelineConfig>>);

impl ShownRunConfig {
    /// The config `source` reads (the shown run's), drawn again only when it changes: the run
    /// record it comes from is replaced on every saved step, and every step's panel reads it.
    pub fn new(source: impl Fn() -> Option<PipelineConfig> + Send + Sync + 'static) -> Self {
        ShownRunConfig(Memo::new(move |_| source()).into())
    }
}

/// What one request of a call was, as a line.
pub fn attempt_line(attempt: &AttemptRecord, before: Option<&AttemptRecord>) -> String {
    let why = match attempt.kind {
        AttemptKind::Initial => "first request".to_string(),
        AttemptKind::Retry => "sent again after a failed request".to_string(),
        AttemptKind::Reask => match before.and_then(|b| b.error.as_deref()) {
            Some(problem) => {
                format!("re-asked with the reply before it and its problem: {problem}")
            }
            None => "re-asked with the reply before it and its problem".to_string(),
        },
    };
    let outcome = match &attempt.error {
        Some(error) => format!("failed: {error}"),
        None => "answered".to_string(),
    };
    format!("#{} · {why} · {outcome}", attempt.attempt)
}

/// The folded "sent and received" panel of a committed step.
#[component]
pub fn SentReceived(
    /// The stored step.
    entry: TrajectoryEntry,
) -> impl IntoView {
    let config = use_context::<ShownRunConfig>();
    let messages = {
        let entry = entry.clone();
        move || {
            let config = config.and_then(|c| c.0.get());
            match config {
                Some(config) => messages_of_step(&config, &entry).map_err(|e| e.to_string()),
                None => Err(
                    "the run's config is not stored (a run imported from a file without \
                     one), so the messages cannot be rebuilt"
                        .to_string(),
                ),
            }
        }
    };
    let attempts = entry.metadata.attempts.clone().unwrap_or_default();
    let requests: Vec<(String, Option<String>)> = attempts
        .iter()
        .enumerate()
        .map(|(i, a)| {
            let before = i.checked_sub(1).and_then(|j| attempts.get(j));
            (attempt_line(a, before), a.reply.clone())
        })
        .collect();
    // What the panel holds is made when it is first opened, not with the card: each message
    // is as long as the call's prompt (which carries the transcript so far), every step has a
    // panel, and a reader opens a few of them at most.
    let opened = RwSignal::new(false);
    let contents = move || {
        opened.get().then(|| {
            let reply = serde_json::to_string_pretty(&entry.output).unwrap_or_default();
            let requests = requests.clone();
            view! {
                {match messages() {
                    Ok(sent) => view! {
                        <Message title="System" text=sent.system testid="step-sent-system"/>
                        <Message title="User" text=sent.user testid="step-sent-user"/>
                    }
                    .into_any(),
                    Err(why) => view! { <p class="muted">{why}</p> }.into_any(),
                }}
                <Message title="Reply (as stored)" text=reply testid="step-sent-reply"/>
                {(!requests.is_empty()).then(|| view! {
                    <div class="step-block">
                        <h4>"Requests"</h4>
                        <ul class="step-sent-attempts">
                            {requests.into_iter().map(|(line, reply)| view! {
                                <li data-testid="step-sent-attempt">
                                    {line}
                                    {reply.map(|text| view! {
                                        <Message
                                            title="Its reply, which failed validation"
                                            text=text
                                            testid="step-sent-attempt-reply"
                                        />
                                    })}
                                </li>
                            }).collect_view()}
                        </ul>
                    </div>
                })}
            }
        })
    };
    view! {
        <details
            class="step-block step-sent"
            data-testid="step-sent"
            on:toggle=move |ev| {
                if event_target::<web_sys::HtmlDetailsElement>(&ev).open() {
                    opened.set(true);
                }
            }
        >
            <summary>"What was sent and what came back"</summary>
            {contents}
        </details>
    }
}

/// One message with its copy button.
#[component]
fn Message(title: &'static str, text: String, testid: &'static str) -> impl IntoView {
    let copied = RwSignal::new(None::<bool>);
    let copy = {
        let text = text.clone();
        move |_| copied.set(Some(copy_text(&text)))
    };
    view! {
        <div class="step-block">
            <h4>
                {title} " "
                <button type="button" class="btn btn-sm" data-testid="step-sent-copy" on:click=copy>
                    {move || match copied.get() {
                        Some(true) => "Copied",
                        Some(false) => "Copy failed: select the text instead",
                        None => "Copy",
                    }}
                </button>
            </h4>
            <pre class="step-text step-sent-text" data-testid=testid>{text}</pre>
        </div>
    }
}

/// Puts `text` on the clipboard through `navigator.clipboard.writeText`; false when the
/// browser offers no clipboard (an insecure origin) or refuses the call.
fn copy_text(text: &str) -> bool {
    let Some(window) = web_sys::window() else {
        return false;
    };
    let navigator = window.navigator();
    let Ok(clipboard) = js_sys::Reflect::get(&navigator, &"clipboard".into()) else {
        return false;
    };
    if clipboard.is_undefined() || clipboard.is_null() {
        return false;
    }
    let Ok(write) = js_sys::Reflect::get(&clipboard, &"writeText".into()) else {
        return false;
    };
    match write.dyn_into::<js_sys::Function>() {
        Ok(write) => write.call1(&clipboard, &text.into()).is_ok(),
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test;

    #[wasm_bindgen_test]
    fn a_reask_names_the_problem_of_the_reply_before_it() {
        let first = AttemptRecord {
            attempt: 1,
            kind: AttemptKind::Initial,
            usage: None,
            error: Some("`solution`: missing field".into()),
            latency_ms: 5.0,
            reply: Some("{}".into()),
            unsettled: false,
            sent_via: Default::default(),
        };
        let second = AttemptRecord {
            attempt: 2,
            kind: AttemptKind::Reask,
            error: None,
            reply: None,
            unsettled: false,
            sent_via: Default::default(),
            ..first.clone()
        };
        assert_eq!(
            attempt_line(&first, None),
            "#1 · first request · failed: `solution`: missing field"
        );
        assert_eq!(
            attempt_line(&second, Some(&first)),
            "#2 · re-asked with the reply before it and its problem: `solution`: missing field · \
             answered"
        );
    }
}
