//! Two runs side by side: opened from a differing problem of a pair (an experiment's or a
//! comparison's), each round's solutions beside each other with their line diff.

use leptos::prelude::*;

use crate::app::run::compare::{rounds_side_by_side, RoundPair, RoundSide};
use crate::ui::store::SharedStore;

/// Two runs to show side by side.
#[derive(Debug, Clone, PartialEq)]
pub struct RunPair {
    /// The dataset problem both answered.
    pub problem_id: String,
    /// The first run and what it is (a config's label).
    pub a: (String, String),
    /// The second run and its label.
    pub b: (String, String),
}

/// The page's pair of runs shown side by side (`None`: the panel is closed).
#[derive(Clone, Copy)]
pub struct RunCompareTarget(pub RwSignal<Option<RunPair>>);

/// Provides the page's [`RunCompareTarget`].
pub fn provide_run_compare() -> RunCompareTarget {
    let target = RunCompareTarget(RwSignal::new(None));
    provide_context(target);
    target
}

/// A button that opens `pair` side by side.
#[component]
pub fn SideBySideButton(
    /// The runs.
    pair: RunPair,
) -> impl IntoView {
    let target = expect_context::<RunCompareTarget>();
    view! {
        <button
            type="button"
            class="link-button"
            data-testid="run-compare-open"
            data-a=pair.a.0.clone()
            data-b=pair.b.0.clone()
            on:click=move |_| target.0.set(Some(pair.clone()))
        >"side by side"</button>
    }
}

/// The panel, when a pair is open.
#[component]
pub fn RunComparePanel() -> impl IntoView {
    let store = expect_context::<SharedStore>();
    let target = expect_context::<RunCompareTarget>();
    let rounds = LocalResource::new(move || {
        let pair = target.0.get();
        async move {
            let Some(pair) = pair else { return Ok(None) };
            let store = store.open().await.map_err(|e| e.to_string())?;
            let a = store.steps(&pair.a.0).await.map_err(|e| e.to_string())?;
            let b = store.steps(&pair.b.0).await.map_err(|e| e.to_string())?;
            if a.is_empty() && b.is_empty() {
                return Err(format!(
                    "neither run ({}, {}) has stored steps any more; they may have been deleted",
                    pair.a.0, pair.b.0
                ));
            }
            Ok(Some((pair, rounds_side_by_side(&a, &b))))
        }
    });
    move || {
        rounds.get().map(|r| match r {
            Ok(None) => ().into_any(),
            Err(e) => view! { <p class="msg msg-error" role="alert" data-testid="run-compare-error">{e}</p> }.into_any(),
            Ok(Some((pair, rounds))) => view! { <Panel pair rounds/> }.into_any(),
        })
    }
}

#[component]
fn Panel(pair: RunPair, rounds: Vec<RoundPair>) -> impl IntoView {
    let target = expect_context::<RunCompareTarget>();
    let (a_label, b_label) = (pair.a.1.clone(), pair.b.1.clone());
    let rounds = rounds
        .into_iter()
        .map(|round| {
            let diff = round
                .diff
                .iter()
                .map(|line| {
                    let mark = match line.kind() {
                        "removed" => "− ",
                        "added" => "+ ",
                        _ => "  ",
                    };
                    view! {
                        <div class=format!("diff-line diff-{}", line.kind()) data-kind=line.kind()>
                            {mark}{line.text().to_string()}
                        </div>
                    }
                })
                .collect_view();
            view! {
                <section
                    class="run-compare-round"
                    data-testid="run-compare-round"
                    data-iteration=round.iteration.to_string()
                    data-identical=round.identical().to_string()
                >
                    <h3>{format!("Round {}", round.iteration)}</h3>
                    <div class="run-compare-sides">
                        <Side label=a_label.clone() side=round.a.clone()/>
                        <Side label=b_label.clone() side=round.b.clone()/>
                    </div>
                    <details open=!round.identical()>
                        <summary>{if round.identical() { "Same solution" } else { "Diff (first → second)" }}</summary>
                        <pre class="run-compare-diff">{diff}</pre>
                    </details>
                </section>
            }
        })
        .collect_view();
    view! {
        <section
            class="card"
            aria-labelledby="run-compare-title"
            data-testid="run-compare"
            data-a=pair.a.0.clone()
            data-b=pair.b.0.clone()
        >
            <h2 id="run-compare-title">{format!("Problem {} side by side", pair.problem_id)}</h2>
            <p class="muted">
                <a href=format!("/runs/{}", pair.a.0)>{format!("{} ({})", pair.a.1, pair.a.0)}</a>
                " · "
                <a href=format!("/runs/{}", pair.b.0)>{format!("{} ({})", pair.b.1, pair.b.0)}</a>
            </p>
            {rounds}
            <button type="button" on:click=move |_| target.0.set(None)>"Close"</button>
        </section>
    }
}

#[component]
fn Side(label: String, side: Option<RoundSide>) -> impl IntoView {
    match side {
        None => view! {
            <div class="run-compare-side">
                <h4>{label}</h4>
                <p class="muted">"No such round: the run stopped before it."</p>
            </div>
        }
        .into_any(),
        Some(side) => {
            let verdict = match side.passed {
                Some(true) => "verifier: passed".to_string(),
                Some(false) => format!("verifier: failed — {}", side.critique.unwrap_or_default()),
                None => "not verified".to_string(),
            };
            view! {
                <div class="run-compare-side">
                    <h4>{label}</h4>
                    <pre class="run-compare-solution">{side.solution}</pre>
                    <p class="muted">{verdict}</p>
                </div>
            }
            .into_any()
        }
    }
}
