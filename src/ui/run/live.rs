//! The reply being streamed, shown on its running step: the thinking so far (unfolded while it
//! comes) and what the answer says so far — the text of its `solution`, `critique` and
//! `reasoning` fields as they grow, read from the partial JSON (never the raw JSON itself).
//!
//! Pieces arrive far more often than the screen refreshes, so they are gathered and handed to
//! the page at most once per animation frame: the page redraws once per frame, however fast the
//! model writes.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use leptos::prelude::*;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;

use crate::app::run::live::LiveReply;
use crate::core::llm::client::{StreamListener, StreamProgress};
use crate::core::llm::partial_json::PartialObject;

use super::thinking::ThinkingFold;

/// The answer fields the live view shows while they grow, with their headings: what the
/// solver, verifier and judge say in words (scores and verdicts come with the finished step).
pub const LIVE_FIELDS: [(&str, &str); 3] = [
    ("solution", "Solution"),
    ("critique", "Critique"),
    ("reasoning", "Reasoning"),
];

/// A stream listener that feeds `live`, once per animation frame.
pub fn listener(live: RwSignal<Option<LiveReply>>) -> StreamListener {
    let pending: Rc<RefCell<Vec<StreamProgress>>> = Rc::default();
    let scheduled = Rc::new(Cell::new(false));
    Rc::new(move |progress: &StreamProgress| {
        pending.borrow_mut().push(progress.clone());
        if scheduled.replace(true) {
            return;
        }
        let (pending, scheduled) = (pending.clone(), scheduled.clone());
        let flush = Closure::once_into_js(move || {
            scheduled.set(false);
            let pieces = std::mem::take(&mut *pending.borrow_mut());
            live.update(|reply| {
                let reply = reply.get_or_insert_with(LiveReply::default);
                for piece in &pieces {
                    reply.add(piece);
                }
            });
        });
        let asked = web_sys::window()
            .map(|w| w.request_animation_frame(flush.unchecked_ref()).is_ok())
            .unwrap_or(false);
        if !asked {
            // No frames to wait for (a hidden page may have none): hand them over now.
            let _ = flush
                .unchecked_ref::<js_sys::Function>()
                .call0(&wasm_bindgen::JsValue::NULL);
        }
    })
}

/// The live pieces of `agent`'s running call, if it is the one streaming.
#[component]
pub fn LiveStep(
    /// The running step's agent.
    agent: String,
    /// What is streaming now.
    live: RwSignal<Option<LiveReply>>,
) -> impl IntoView {
    let mine = Memo::new(move |_| live.with(|l| l.as_ref().filter(|l| l.agent == agent).cloned()));
    let thinking = Signal::derive(move || {
        mine.with(|m| m.as_ref().map(|m| m.thinking.clone()))
            .unwrap_or_default()
    });
    // The answer only grows, so the reader takes each frame's new text once (here, on the
    // Run page, rather than in the session's listener, which every page loads). Text before
    // the JSON object starts (a prompt-only reply's preamble) is shown as it is; once the
    // object has started, only its fields are.
    // A new round trip (a retried stream, a re-ask) starts the reading over.
    let reader = StoredValue::new_local((0u64, 0usize, PartialObject::new()));
    let answer = Memo::new(move |_| {
        mine.with(|m| {
            let Some(m) = m else {
                return (String::new(), Vec::new());
            };
            reader.update_value(|(round_trip, read, fields)| {
                if *round_trip != m.round_trip || *read > m.answer.len() {
                    *round_trip = m.round_trip;
                    *read = 0;
                    *fields = PartialObject::new();
                }
                fields.push(&m.answer[*read..]);
                *read = m.answer.len();
            });
            reader.with_value(|(_, _, fields)| {
                let preamble = if fields.has_started() {
                    String::new()
                } else {
                    m.answer.clone()
                };
                let shown = LIVE_FIELDS
                    .iter()
                    .filter_map(|&(name, heading)| {
                        fields
                            .field(name)
                            .filter(|text| !text.is_empty())
                            .map(|text| (name, heading, text.to_string()))
                    })
                    .collect::<Vec<_>>();
                (preamble, shown)
            })
        })
    });
    let preamble = move || answer.with(|(preamble, _)| preamble.clone());
    // Which fields have text, in order: a field's block is made once, when its text starts,
    // and then only its text node changes, frame by frame.
    let shown = Memo::new(move |_| {
        answer.with(|(_, fields)| {
            fields
                .iter()
                .map(|&(name, heading, _)| (name, heading))
                .collect::<Vec<_>>()
        })
    });
    let text_of = move |name: &'static str| {
        move || {
            answer.with(|(_, fields)| {
                fields
                    .iter()
                    .find(|(field, _, _)| *field == name)
                    .map(|(_, _, text)| text.clone())
                    .unwrap_or_default()
            })
        }
    };
    view! {
        <Show when=move || mine.with(|m| m.as_ref().is_some_and(|m| !m.thinking.is_empty()))>
            <ThinkingFold text=thinking open=true/>
        </Show>
        <Show when=move || !preamble().is_empty()>
            <p class="step-text step-live-answer" data-testid="step-live-answer">{preamble}</p>
        </Show>
        <For each=move || shown.get() key=|&(name, _)| name let:field>
            <div class="step-block" data-testid="step-live-field" data-field=field.0>
                <h4>{field.1}</h4>
                <p class="step-text step-live-answer">{text_of(field.0)}</p>
            </div>
        </For>
    }
}
