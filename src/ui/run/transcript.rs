//! The transcript: one card per step (`data-testid="step"`), live while a run goes and the same
//! for a stored run.
//!
//! What the agents wrote (solutions, reasoning, critiques, the judge's points) is drawn by
//! [`RichText`]: Markdown and LaTeX math, built node by node from a whitelist, or the text as
//! written when the reader turns on "Raw text". Model text is only ever put in the page as text
//! nodes, never parsed as HTML: a reply that contains `<script>` shows those characters and
//! nothing more.

use leptos::prelude::*;

use crate::app::format::{dollars, latency_text, plural, score_text, tokens_text};
use crate::app::llm_error::with_advice;
use crate::app::run::live::LiveReply;
use crate::app::run::step::{card_of, StepBody, StepFacts, StepState, StepView};
use crate::core::pipeline::PipelineEvent;
use crate::ui::components::notice::ErrorText;
use crate::ui::components::rich_text::{RichText, TextViewChoice, TextViewToggle};

use super::derive::ForkButton;
use super::live::LiveStep;
use super::sent::SentReceived;
use super::session::RunSession;
use super::thinking::StepThinking;

/// One card of a transcript: its step id, which keys the card and never changes, and what it
/// shows, which changes in place (a running call becomes its committed step, or stopped). A
/// step that starts adds a slot; one that finishes sets its own slot only, so the cards
/// before it, and the list, are not drawn again.
#[derive(Clone)]
pub struct StepSlot {
    /// The card's step id.
    pub step_id: u64,
    /// What it shows.
    pub view: ArcRwSignal<StepView>,
}

impl StepSlot {
    /// A slot showing `view`.
    pub fn new(view: StepView) -> Self {
        StepSlot {
            step_id: view.step_id,
            view: ArcRwSignal::new(view),
        }
    }
}

/// The slots of `views`, in the order given.
pub fn slots_of(views: impl IntoIterator<Item = StepView>) -> Vec<StepSlot> {
    views.into_iter().map(StepSlot::new).collect()
}

/// Shows loop event `event` in `slots`: the card it makes replaces its step's card in place,
/// or is added in step order; the run's end stops the cards still running.
pub fn apply_event_to(slots: RwSignal<Vec<StepSlot>>, event: &PipelineEvent) {
    let Some(card) = card_of(event) else {
        stop_running_in(slots);
        return;
    };
    let existing = slots.with_untracked(|slots| {
        slots
            .iter()
            .find(|slot| slot.step_id == card.step_id)
            .map(|slot| slot.view.clone())
    });
    match existing {
        Some(view) => view.set(card),
        None => slots.update(|slots| {
            let at = slots.partition_point(|slot| slot.step_id < card.step_id);
            slots.insert(at, StepSlot::new(card));
        }),
    }
}

/// Marks every card of `slots` still running as stopped (each one in place).
pub fn stop_running_in(slots: RwSignal<Vec<StepSlot>>) {
    slots.with_untracked(|slots| {
        for slot in slots {
            if slot.view.with_untracked(|v| v.state == StepState::Running) {
                slot.view.update(|v| v.state = StepState::Stopped);
            }
        }
    });
}

/// Every step of a run, in order.
#[component]
pub fn Transcript(
    /// The steps to show.
    #[prop(into)]
    steps: Signal<Vec<StepSlot>>,
    /// The page it is on, under which its text view (formatted or raw) is remembered.
    page: &'static str,
) -> impl IntoView {
    let choice = TextViewChoice::provide(page);
    view! {
        <TextViewToggle choice=choice/>
        <ol class="transcript" aria-label="Transcript">
            <For each=move || steps.get() key=|slot| slot.step_id let:slot>
                <li><StepCard step=slot.view/></li>
            </For>
        </ol>
    }
}

/// The card of one step: the card itself stays as its step goes from running to committed;
/// what depends on the step's state is drawn again when it changes.
#[component]
pub fn StepCard(
    /// The step.
    step: ArcRwSignal<StepView>,
) -> impl IntoView {
    let live = use_context::<RunSession>().map(|s| s.live);
    let read = {
        let step = step.clone();
        move |f: fn(&StepView) -> Option<String>| {
            let step = step.clone();
            move || step.with(f)
        }
    };
    let status = {
        let step = step.clone();
        Memo::new(move |_| step.with(StepView::status))
    };
    let step_id = step.with_untracked(|s| s.step_id);
    // A saved step without the flag was not streamed (a whole reply, or saved before streaming
    // existed); only a step still running has no answer yet.
    let streamed = read(|s| {
        s.entry()
            .map(|e| e.metadata.streamed.unwrap_or(false).to_string())
    });
    let ttft_ms = read(|s| {
        s.entry()
            .and_then(|e| e.metadata.ttft_ms)
            .map(|ms| format!("{}", ms.round()))
    });
    let reused_from = read(|s| s.entry().and_then(|e| e.metadata.reused_from.clone()));
    let forked_from = read(|s| {
        s.entry()
            .and_then(|e| e.metadata.forked_from.as_ref().map(|f| f.run_id.clone()))
    });
    let iteration = read(|s| s.iteration.map(|i| i.to_string()));
    let agent = read(|s| Some(s.agent.clone()));
    let title = read(|s| {
        Some(match s.iteration {
            Some(i) => format!("{} · iteration {i}", s.agent),
            None => s.agent.clone(),
        })
    });
    let class = read(|s| Some(format!("card step step-{} step-{}", s.agent, s.status())));
    let forkable = move || matches!(status.get(), "ok" | "error");
    let body = move || step.with(|s| card_body(s, live));
    view! {
        <article
            class=class
            data-testid="step"
            data-step-id=step_id
            data-agent=agent
            data-iteration=iteration
            data-status=move || status.get()
            data-streamed=streamed
            data-ttft-ms=ttft_ms
            data-reused-from=reused_from
            data-forked-from=forked_from
        >
            <header class="step-head">
                <span class="step-num">"#" {step_id}</span>
                <h3 class="step-title">{title}</h3>
                <span class=move || format!("step-state step-state-{}", status.get())>
                    {move || status.get()}
                </span>
                {move || forkable().then(|| view! { <ForkButton step_id=step_id/> })}
            </header>
            {body}
        </article>
    }
}

/// What a card shows under its head, by its step's state: one element, so a step that
/// finishes swaps one node in the page rather than each of its parts.
fn card_body(step: &StepView, live: Option<RwSignal<Option<LiveReply>>>) -> AnyView {
    match &step.state {
        StepState::Running => view! {
            <div class="step-body">
                <p class="step-wait" aria-live="polite">
                    <span class="spinner" aria-hidden="true"></span>
                    "Waiting for the " {step.agent.clone()} "…"
                </p>
                {live.map(|live| view! { <LiveStep agent=step.agent.clone() live=live/> })}
            </div>
        }
        .into_any(),
        StepState::Stopped => view! {
            <div class="step-body">
                <p class="muted">
                    "Not saved: the run stopped before this step finished. Resuming the run makes it again."
                </p>
            </div>
        }
        .into_any(),
        StepState::Done(entry) => {
            let facts = StepFacts::of(entry);
            view! {
                <div class="step-body">
                    <StepThinking thinking=entry.metadata.thinking.clone()/>
                    <Body body=StepBody::of(entry)/>
                    <Facts facts=facts/>
                    <SentReceived entry=(**entry).clone()/>
                </div>
            }
            .into_any()
        }
    }
}

/// What the agent said.
#[component]
fn Body(body: StepBody) -> impl IntoView {
    match body {
        StepBody::Solver {
            solution,
            reasoning,
            confidence,
        } => view! {
            <div class="step-block">
                <h4>"Solution"</h4>
                <RichText text=solution/>
            </div>
            <Reasoning text=reasoning/>
            <Confidence value=confidence/>
        }
        .into_any(),
        StepBody::Verifier {
            passed,
            critique,
            confidence,
            scores,
        } => {
            let (verdict, class) = match passed {
                Some(true) => ("passed", "verdict verdict-pass"),
                Some(false) => ("not passed", "verdict verdict-fail"),
                None => ("no verdict", "verdict"),
            };
            view! {
                <p class=class data-testid="step-verdict">{verdict}</p>
                <div class="step-block">
                    <h4>"Critique"</h4>
                    <RichText text=critique/>
                </div>
                <Pairs title="Scores" pairs=scores/>
                <Confidence value=confidence/>
            }
            .into_any()
        }
        StepBody::Judge {
            score,
            reasoning,
            strengths,
            weaknesses,
        } => view! {
            <p class="judge-score">"Score " <strong>{score_text(score)}</strong></p>
            <Reasoning text=reasoning/>
            <Points title="Strengths" items=strengths/>
            <Points title="Weaknesses" items=weaknesses/>
        }
        .into_any(),
        StepBody::Error {
            error_type,
            message,
            advice,
        } => view! {
            <ErrorText message=with_advice(format!("The call failed ({error_type}): {message}"), advice)/>
        }
        .into_any(),
        StepBody::Other(pairs) => view! { <Pairs title="Output" pairs=pairs/> }.into_any(),
    }
}

#[component]
fn Reasoning(text: String) -> impl IntoView {
    (!text.is_empty()).then(|| {
        view! {
            <details class="step-block">
                <summary>"Reasoning"</summary>
                <RichText text=text/>
            </details>
        }
    })
}

#[component]
fn Confidence(value: Option<f64>) -> impl IntoView {
    value.map(|v| view! { <p class="muted">"Confidence " {format!("{v:.2}")}</p> })
}

#[component]
fn Points(title: &'static str, items: Vec<String>) -> impl IntoView {
    (!items.is_empty()).then(|| {
        view! {
            <div class="step-block">
                <h4>{title}</h4>
                <ul>
                    {items
                        .into_iter()
                        .map(|item| view! { <li><RichText text=item/></li> })
                        .collect_view()}
                </ul>
            </div>
        }
    })
}

#[component]
fn Pairs(title: &'static str, pairs: Vec<(String, String)>) -> impl IntoView {
    (!pairs.is_empty()).then(|| {
        view! {
            <div class="step-block">
                <h4>{title}</h4>
                <dl class="pairs">
                    {pairs
                        .into_iter()
                        .map(|(k, v)| view! { <dt>{k}</dt><dd>{v}</dd> })
                        .collect_view()}
                </dl>
            </div>
        }
    })
}

/// Tokens, cost, latency, model and requests of a committed step.
#[component]
fn Facts(facts: StepFacts) -> impl IntoView {
    let tokens = facts.usage.as_ref().map(tokens_text);
    let cost = match facts.cost_usd {
        Some(_) => dollars(facts.cost_usd),
        None => "cost unknown".to_string(),
    };
    let cost_title =
        (!facts.usage_complete).then_some("a reply carried no usage, so this is a lower bound");
    let requests = match (facts.reasks, facts.retries) {
        (0, 0) => None,
        (reasks, retries) => Some(format!(
            "{reasks} re-ask{} · {retries} retr{}",
            plural(reasks),
            if retries == 1 { "y" } else { "ies" }
        )),
    };
    let served = match (&facts.model, &facts.provider) {
        (Some(model), Some(provider)) => Some(format!("{model} via {provider}")),
        (Some(model), None) => Some(model.clone()),
        _ => None,
    };
    let notes = facts.attempt_notes;
    let reused = facts.reused_from.map(|run_id| {
        let href = format!("/runs/{run_id}");
        view! {
            <span class="step-reused" data-testid="step-reused" title="The reply was answered from the reply store: the run that paid for it is linked">
                "reused from " <a class="mono" href=href>{run_id}</a>
            </span>
        }
    });
    view! {
        <footer class="step-facts">
            {served.map(|s| view! { <span class="mono">{s}</span> })}
            {tokens.map(|t| view! { <span>{t}</span> })}
            <span class="mono step-cost" title=cost_title>{cost}</span>
            {facts.latency_ms.map(|ms| view! { <span>{latency_text(ms)}</span> })}
            {requests.map(|r| view! { <span>{r}</span> })}
            {facts.finish_reason.map(|r| view! { <span class="muted">"finish: " {r}</span> })}
            {reused}
        </footer>
        {(!notes.is_empty()).then(|| view! {
            <details class="step-attempts">
                <summary>"Requests that did not succeed"</summary>
                <ul>{notes.into_iter().map(|n| view! { <li>{n}</li> }).collect_view()}</ul>
            </details>
        })}
    }
}
