//! "Test connection": one small structured call to a provider, reported in plain words.

use leptos::prelude::*;

use crate::app::provider_probe::{default_probe_model, summarize, ProbeSummary};
use crate::core::cancel::CancelToken;
use crate::core::llm::client::{ClientOptions, LlmClient};
use crate::ui::config_form::ConfigForm;
use crate::ui::job::Job;
use crate::ui::provider_state::ProviderState;
use crate::web::clock::BrowserClock;
use crate::web::http::BrowserTransport;

use super::notice::{ErrorText, WarningText};

/// A connection test should answer quickly or say why not; runs keep their own, longer timeout.
const PROBE_TIMEOUT_MS: u64 = 60_000;

/// The test model input, the Test connection button (`provider-test-<id>`) and the report.
#[component]
pub fn ProviderProbe(
    /// The provider's id in the registry.
    id: String,
) -> impl IntoView {
    let providers = expect_context::<ProviderState>();
    let form = expect_context::<ConfigForm>();
    let initial = {
        let config = form.valid_config().get_untracked();
        providers
            .registry()
            .with_untracked(|r| default_probe_model(&id, config.as_ref(), &r.custom_ids()))
    };
    let (model, set_model) = signal(initial);
    let cancel = StoredValue::new_local(None::<CancelToken>);
    let probe = Job::<ProbeSummary>::new();
    let start = {
        let id = id.clone();
        move |_| {
            let registry = providers.registry().get_untracked();
            let model = model.get_untracked().trim().to_string();
            let id = id.clone();
            let token = CancelToken::new();
            cancel.set_value(Some(token.clone()));
            probe.run(async move {
                let options = ClientOptions {
                    request_timeout_ms: PROBE_TIMEOUT_MS,
                    ..ClientOptions::default()
                };
                let client = LlmClient::with_options(
                    registry,
                    BrowserTransport::new(),
                    BrowserClock::new(),
                    options,
                );
                let report = client.probe(&id, &model, &token).await;
                cancel.set_value(None);
                summarize(&report)
            });
        }
    };
    let stop = move |_| {
        if let Some(token) = cancel.get_value() {
            token.cancel();
        }
    };
    let model_id = format!("provider-{id}-test_model");

    view! {
        <div class="probe">
            <div class="probe-row">
                <label class="visually-hidden" for=model_id.clone()>"Model to test with"</label>
                <input id=model_id class="input mono probe-model" placeholder="model to test with"
                    spellcheck="false" autocomplete="off" title="The model id to test with, as the provider names it"
                    prop:value=model on:input=move |ev| set_model.set(event_target_value(&ev))/>
                <Show
                    when=move || probe.going()
                    fallback=move || view! {
                        <button type="button" class="btn btn-sm" data-testid=format!("provider-test-{id}")
                            disabled=move || model.with(|m| m.trim().is_empty())
                            title=move || model.with(|m| m.trim().is_empty()).then_some("Enter a model to test with")
                            on:click=start.clone()>
                            "Test connection"
                        </button>
                    }
                >
                    <button type="button" class="btn btn-sm" on:click=stop>"Cancel test"</button>
                </Show>
            </div>
            {move || probe.going().then(|| view! {
                <p class="muted probe-running" role="status">"Testing… one small request, up to a minute."</p>
            })}
            {move || probe.outcome().get().map(|s| view! {
                <div class="probe-report" class:probe-ok=s.ok role="status">
                    <p class="probe-headline">{s.headline}</p>
                    {s.error.map(|e| view! { <ErrorText message=e/> })}
                    {s.advice.map(|a| view! { <WarningText message=a/> })}
                    <ul class="probe-details">
                        {s.details.into_iter().map(|d| view! { <li>{d}</li> }).collect_view()}
                    </ul>
                </div>
            })}
        </div>
    }
}
