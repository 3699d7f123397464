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
use crate::app::run::step::{StepBody, StepFacts, StepState, StepView};
use crate::ui::components::notice::ErrorText;
use crate::ui::components::rich_text::{RichText, TextViewChoice, TextViewToggle};

use super::derive::ForkButton;
use super::live::LiveStep;
use super::sent::SentReceived;
use super::session::RunSession;
use super::thinking::StepThinking;

/// Every step of a run, in order.
#[component]
pub fn Transcript(
    /// The steps to show.
    #[prop(into)]
    steps: Signal<Vec<StepView>>,
    /// The page it is on, under which its text view (formatted or raw) is remembered.
    page: &'static str,
) -> impl IntoView {
    let choice = TextViewChoice::provide(page);
    view! {
        <TextViewToggle choice=choice/>
        <ol class="transcript" aria-label="Transcript">
            <For
                each=move || steps.get()
                key=|step| (step.step_id, step.status(), step.entry().map(|e| e.timestamp.clone()))
                let:step
            >
                <li><StepCard step=step/></li>
            </For>
        </ol>
    }
}

/// The card of one step.
#[component]
pub fn StepCard(
    /// The step.
    step: StepView,
) -> impl IntoView {
    let status = step.status();
    let iteration = step.iteration.map(|i| i.to_string());
    let metadata = step.entry().map(|e| &e.metadata);
    // A saved step without the flag was not streamed (a whole reply, or saved before streaming
    // existed); only a step still running has no answer yet.
    let streamed = metadata.map(|m| m.streamed.unwrap_or(false).to_string());
    let ttft_ms = metadata
        .and_then(|m| m.ttft_ms)
        .map(|ms| format!("{}", ms.round()));
    let reused_from = metadata.and_then(|m| m.reused_from.clone());
    let forked_from = metadata.and_then(|m| m.forked_from.as_ref().map(|f| f.run_id.clone()));
    let forkable = matches!(step.state, StepState::Done(_));
    let title = match step.iteration {
        Some(i) => format!("{} · iteration {i}", step.agent),
        None => step.agent.clone(),
    };
    let body = match &step.state {
        StepState::Running => {
            let live = use_context::<RunSession>().map(|s| s.live);
            view! {
                <p class="step-wait" aria-live="polite">
                    <span class="spinner" aria-hidden="true"></span>
                    "Waiting for the " {step.agent.clone()} "…"
                </p>
                {live.map(|live| view! { <LiveStep agent=step.agent.clone() live=live/> })}
            }
            .into_any()
        }
        StepState::Stopped => view! {
            <p class="muted">
                "Not saved: the run stopped before this step finished. Resuming the run makes it again."
            </p>
        }
        .into_any(),
        StepState::Done(entry) => {
            let facts = StepFacts::of(entry);
            view! {
                <StepThinking thinking=entry.metadata.thinking.clone()/>
                <Body body=StepBody::of(entry)/>
                <Facts facts=facts/>
                <SentReceived entry=(**entry).clone()/>
            }
            .into_any()
        }
    };
    view! {
        <article
            class=format!("card step step-{} step-{status}", step.agent)
            data-testid="step"
            data-step-id=step.step_id
            data-agent=step.agent.clone()
            data-iteration=iteration
            data-status=status
            data-streamed=streamed
            data-ttft-ms=ttft_ms
            data-reused-from=reused_from
            data-forked-from=forked_from
        >
            <header class="step-head">
                <span class="step-num">"#" {step.step_id}</span>
                <h3 class="step-title">{title}</h3>
                <span class=format!("step-state step-state-{status}")>{status}</span>
                {forkable.then(|| view! { <ForkButton step_id=step.step_id/> })}
            </header>
            {body}
        </article>
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
