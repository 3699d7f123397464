//! `/configure`: the agent configuration form, with the hash, import/export, presets and saved
//! configs beside it.

use leptos::prelude::*;

use crate::core::template::placeholders;
use crate::ui::components::config_field::ConfigField;
use crate::ui::components::config_import::ConfigImport;
use crate::ui::components::config_summary::ConfigSummary;
use crate::ui::components::notice::ErrorText;
use crate::ui::components::preset_picker::PresetPicker;
use crate::ui::components::saved_config_list::SavedConfigList;
use crate::ui::config_form::ConfigForm;

/// The paths of the Advanced section (Trialogue's own settings).
const ADVANCED: &[&str] = &[
    "max_reasks",
    "max_attempts",
    "request_timeout_secs",
    "run_budget_usd",
    "batch_budget_usd",
];

/// The Configure page.
#[component]
pub fn ConfigurePage() -> impl IntoView {
    let form = expect_context::<ConfigForm>();
    let unplaced = form.unplaced();
    view! {
        <div class="page-head">
            <div>
                <h1>"Configure"</h1>
                <p class="lede">
                    "The solver answers, the verifier critiques until it passes or the iterations "
                    "run out, and the judge scores the final answer. Changes are checked as you "
                    "type and kept in this browser."
                </p>
            </div>
        </div>
        <For each=move || form.problems().get() key=|p| p.to_string() let:problem>
            <div class="banner banner-error">
                <ErrorText message=problem.to_string()/>
                <button type="button" class="btn btn-ghost btn-sm"
                    on:click=move |_| form.dismiss_problems()>"Dismiss"</button>
            </div>
        </For>
        <div class="configure-layout">
            <form class="configure-form" aria-label="Pipeline configuration"
                on:submit=|ev| ev.prevent_default()>
                <For each=move || unplaced.get() key=|e| e.to_string() let:problem>
                    <ErrorText message=problem.to_string()/>
                </For>
                <section class="card" aria-labelledby="pipeline-title">
                    <header class="card-head">
                        <div>
                            <h2 class="card-title" id="pipeline-title">"Pipeline"</h2>
                        </div>
                    </header>
                    <div class="field-row field-row-pipeline">
                        <ConfigField path="mode"/>
                        <ConfigField path="max_iterations"/>
                        <ConfigField path="config_version"/>
                    </div>
                </section>
                <AgentCard
                    agent="solver"
                    title="Solver"
                    blurb="Answers the problem, and revises its answer from the verifier's critique."
                    allowed=placeholders::SOLVER
                />
                <AgentCard
                    agent="verifier"
                    title="Verifier"
                    blurb="Checks the solver's answer and either passes it or says what is wrong."
                    allowed=placeholders::VERIFIER
                />
                <AgentCard
                    agent="judge"
                    title="Judge"
                    blurb="Scores the final answer against the rubric."
                    allowed=placeholders::JUDGE
                />
                <Advanced/>
            </form>
            <aside class="configure-side" aria-label="Config tools">
                <ConfigSummary/>
                <PresetPicker/>
                <ConfigImport/>
                <SavedConfigList/>
            </aside>
        </div>
    }
}

/// The settings of one agent.
#[component]
fn AgentCard(
    /// `solver`, `verifier` or `judge`: the path prefix.
    agent: &'static str,
    /// The card title.
    title: &'static str,
    /// One sentence on what the agent does.
    blurb: &'static str,
    /// The placeholders its prompt may use.
    allowed: &'static [&'static str],
) -> impl IntoView {
    // Paths must be 'static for the form; the agents are a closed set.
    let path = move |field: &str| -> &'static str {
        match (agent, field) {
            ("solver", "model") => "solver.model",
            ("solver", "temperature") => "solver.temperature",
            ("solver", "max_tokens") => "solver.max_tokens",
            ("solver", "reasoning") => "solver.reasoning",
            ("solver", "system_prompt") => "solver.system_prompt",
            ("solver", "prompt_template") => "solver.prompt_template",
            ("verifier", "model") => "verifier.model",
            ("verifier", "temperature") => "verifier.temperature",
            ("verifier", "max_tokens") => "verifier.max_tokens",
            ("verifier", "reasoning") => "verifier.reasoning",
            ("verifier", "system_prompt") => "verifier.system_prompt",
            ("verifier", "prompt_template") => "verifier.prompt_template",
            ("judge", "model") => "judge.model",
            ("judge", "temperature") => "judge.temperature",
            ("judge", "max_tokens") => "judge.max_tokens",
            ("judge", "reasoning") => "judge.reasoning",
            ("judge", "system_prompt") => "judge.system_prompt",
            ("judge", "prompt_template") => "judge.prompt_template",
            _ => "judge.scoring_rubric",
        }
    };
    let title_id = format!("{agent}-title");
    let labelled_by = title_id.clone();
    view! {
        <section class="card agent-card" aria-labelledby=labelled_by>
            <header class="card-head">
                <div>
                    <h2 class="card-title" id=title_id>
                        <span class=format!("agent-dot agent-dot-{agent}") aria-hidden="true"></span>
                        {title}
                    </h2>
                    <p class="card-sub">{blurb}</p>
                </div>
            </header>
            <div class="field-row">
                <ConfigField path=path("model")/>
                <ConfigField path=path("temperature")/>
                <ConfigField path=path("max_tokens")/>
                <ConfigField path=path("reasoning")/>
            </div>
            <ConfigField path=path("system_prompt")/>
            <ConfigField path=path("prompt_template") placeholders=allowed/>
            {(agent == "judge").then(|| view! { <ConfigField path="judge.scoring_rubric"/> })}
        </section>
    }
}

/// Trialogue's own settings, in a section the user may fold away; it opens by itself when one of
/// them has an error.
#[component]
fn Advanced() -> impl IntoView {
    let form = expect_context::<ConfigForm>();
    let has_error = Memo::new(move |_| {
        form.check()
            .with(|c| c.errors.iter().any(|e| ADVANCED.contains(&e.path.as_str())))
    });
    let (open, set_open) = signal(true);
    Effect::new(move |_| {
        if has_error.get() {
            set_open.set(true);
        }
    });
    view! {
        <details class="card advanced" prop:open=open
            on:toggle=move |ev| set_open.set(event_target::<web_sys::HtmlDetailsElement>(&ev).open())>
            <summary>
                <span class="card-title">"Advanced"</span>
                <span class="card-sub">
                    "Re-asks, retries, timeout and budgets. At their defaults they leave the "
                    "config hash as the original pipeline computes it."
                </span>
            </summary>
            <div class="advanced-body">
                <div class="field-row field-row-3">
                    <ConfigField path="max_reasks"/>
                    <ConfigField path="max_attempts"/>
                    <ConfigField path="request_timeout_secs"/>
                </div>
                <div class="field-row field-row-2">
                    <ConfigField path="run_budget_usd"/>
                    <ConfigField path="batch_budget_usd"/>
                </div>
            </div>
        </details>
    }
}
