//! Settings → Prices: which price table is in use (its source, version and size), importing
//! LiteLLM's price file or going back to the shipped one, the user's prices per model
//! (checked as they are typed), and which custom providers are local and free.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::app::costs::price_form::{per_million, table_summary, OverrideDraft};
use crate::app::format::count;
use crate::core::pricing::Price;
use crate::core::providers::LOCAL_ID;
use crate::ui::components::notice::ErrorText;
use crate::ui::job::Job;
use crate::ui::prices::{PricingState, TableOrigin, TableStatus, MAX_PRICE_FILE_BYTES};
use crate::ui::provider_state::ProviderState;
use crate::web::file::{clear_picked, picked_file};

/// The Prices section of Settings.
#[component]
pub fn PricingSettings() -> impl IntoView {
    let pricing = expect_context::<PricingState>();
    pricing.ensure_table();
    view! {
        <section class="card pricing-settings" id="pricing" aria-labelledby="pricing-title">
            <header class="card-head">
                <div>
                    <h2 class="card-title" id="pricing-title">"Prices"</h2>
                    <p class="card-sub">
                        "How calls are priced: your own prices first, then local models (free), "
                        "then LiteLLM's price table. A call no price covers is counted as "
                        "unknown, never as $0."
                    </p>
                </div>
            </header>
            {move || pricing.problem().get().map(|m| view! { <ErrorText message=m/> })}
            <TableSource/>
            <Overrides/>
            <LocalProviders/>
        </section>
    }
}

/// The table in use, importing another and going back to the shipped one.
#[component]
fn TableSource() -> impl IntoView {
    let pricing = expect_context::<PricingState>();
    let table = pricing.table();
    let import = Job::<Result<String, String>>::new();
    // The last import's report, or what going back to the shipped table said.
    let result = import.outcome();
    let on_file = move |ev: leptos::ev::Event| {
        let Some(file) = picked_file(&ev) else {
            return;
        };
        clear_picked(&ev);
        import.run(async move {
            let name = file.name();
            let models = pricing
                .import_litellm(&file)
                .await
                .map_err(|e| e.to_string())?;
            Ok(format!(
                "Imported {name}: {} chat models priced. New re-pricings use it; stored costs are unchanged.",
                count(models as u64)
            ))
        });
    };
    let reset = move |_| {
        result.set(Some(match pricing.reset_table() {
            Ok(()) => Ok("Back to the price table shipped with Trialogue.".to_string()),
            Err(e) => Err(e.to_string()),
        }));
    };
    let imported = move || {
        table.with(|t| {
            matches!(
                t,
                TableStatus::Ready {
                    origin: TableOrigin::Imported,
                    ..
                }
            )
        })
    };
    view! {
        <div class="pricing-block">
            <h3 class="section-label">"Price table"</h3>
            <p class="pricing-source">
                <span data-testid="pricing-source">
                    {move || match table.get() {
                        TableStatus::Idle | TableStatus::Loading => "loading…".to_string(),
                        TableStatus::Ready { table, .. } => table_summary(&table),
                        TableStatus::Failed(_) => "not loaded".to_string(),
                    }}
                </span>
                <span class="muted">
                    {move || match table.get() {
                        TableStatus::Ready { origin: TableOrigin::Shipped, .. } => {
                            " — shipped with Trialogue".to_string()
                        }
                        TableStatus::Ready { table, origin: TableOrigin::Imported } => {
                            let from = &table.header().generated_from;
                            if from.is_empty() {
                                " — imported".to_string()
                            } else {
                                format!(" — imported from {from}")
                            }
                        }
                        _ => String::new(),
                    }}
                </span>
            </p>
            {move || match table.get() {
                TableStatus::Failed(message) => Some(view! { <ErrorText message=message/> }),
                _ => None,
            }}
            <div class="btn-group">
                <label class="btn btn-sm file-button">
                    <input
                        type="file"
                        class="visually-hidden"
                        data-testid="pricing-import"
                        accept=".json,application/json"
                        disabled=move || import.going()
                        on:change=on_file
                    />
                    <span>"Import LiteLLM price file…"</span>
                </label>
                <Show when=imported>
                    <button type="button" class="btn btn-sm" data-testid="pricing-reset" on:click=reset>
                        "Use the shipped table"
                    </button>
                </Show>
            </div>
            <p class="muted import-hint">
                "LiteLLM's " <code>"model_prices_and_context_window.json"</code> ", up to "
                {MAX_PRICE_FILE_BYTES / (1024 * 1024)} " MiB; a version in its name ("
                <code>"…_1.110.2.json"</code> ") is recorded. A file that does not read leaves "
                "the current table in use."
            </p>
            <div aria-live="polite">
                {move || import.going().then(|| view! { <p class="muted" role="status">"Reading the price file…"</p> })}
                {move || result.get().map(|r| match r {
                    Ok(text) => view! { <p class="ok-text" role="status" data-testid="pricing-import-ok">{text}</p> }.into_any(),
                    Err(text) => view! { <ErrorText message=text/> }.into_any(),
                })}
            </div>
        </div>
    }
}

/// The user's prices per model: the form and the list.
#[component]
fn Overrides() -> impl IntoView {
    let pricing = expect_context::<PricingState>();
    let query = use_query_map();
    let draft = RwSignal::new(OverrideDraft {
        model: query.with_untracked(|q| q.get("price_model").unwrap_or_default()),
        ..OverrideDraft::default()
    });
    let touched = RwSignal::new(false);
    let saved = RwSignal::new(None::<String>);
    let save_error = RwSignal::new(None::<String>);
    let checked = Memo::new(move |_| {
        draft
            .with(OverrideDraft::check)
            .map_err(|p| p.iter().map(ToString::to_string).collect::<Vec<_>>())
    });
    let pricer = pricing.pricer();
    let current = move || {
        let model = draft.with(|d| d.model.trim().to_string());
        if model.is_empty() {
            return None;
        }
        let text = match pricer.get().map(|p| p.price_of("", &model)) {
            None => "loading the price table…".to_string(),
            Some(Price::Known(quote)) => format!(
                "now priced by {}: ${} input / ${} output per million tokens",
                quote.source,
                per_million(quote.rates.input),
                per_million(quote.rates.output)
            ),
            Some(Price::Unknown) => {
                "no price known now: its calls count as unknown cost".to_string()
            }
        };
        Some(text)
    };
    let field = move |name: &'static str,
                      label: &'static str,
                      placeholder: &'static str,
                      get: fn(&OverrideDraft) -> &String,
                      set: fn(&mut OverrideDraft, String)| {
        let id = format!("price-override-{name}");
        view! {
            <div class="field">
                <label for=id.clone()>{label}</label>
                <input
                    id=id.clone()
                    class="input mono"
                    name=id.clone()
                    data-testid=id
                    inputmode="decimal"
                    autocomplete="off"
                    placeholder=placeholder
                    prop:value=move || draft.with(|d| get(d).clone())
                    on:input=move |ev| {
                        touched.set(true);
                        saved.set(None);
                        draft.update(|d| set(d, event_target_value(&ev)));
                    }
                />
            </div>
        }
    };
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        touched.set(true);
        let Ok((model, rates)) = draft.with_untracked(OverrideDraft::check) else {
            return;
        };
        match pricing.set_override(&model, rates) {
            Ok(()) => {
                save_error.set(None);
                saved.set(Some(format!("Saved your price for {model}.")));
                draft.set(OverrideDraft::default());
                touched.set(false);
            }
            Err(e) => save_error.set(Some(e.to_string())),
        }
    };
    let rows = move || {
        pricing.settings().with(|s| {
            s.overrides
                .iter()
                .map(|(m, r)| (m.to_string(), *r))
                .collect::<Vec<_>>()
        })
    };
    let optional = |v: Option<f64>| v.map_or_else(|| "= input".to_string(), |p| format!("${p}"));

    view! {
        <div class="pricing-block">
            <h3 class="section-label">"Your prices"</h3>
            <p class="muted">
                "USD per million tokens. A price here replaces the table's for that model "
                "(long-prompt tiers included); reasoning tokens are billed at the output price. "
                "The model is written as in a config: " <code>"openai/gpt-4o"</code> ", "
                <code>"gpt-4o"</code> " or " <code>"my-vllm/qwen"</code> "."
            </p>
            <form class="override-form" on:submit=submit aria-label="Set a price">
                <div class="field field-grow">
                    <label for="price-override-model">"Model"</label>
                    <input
                        id="price-override-model"
                        class="input mono"
                        name="price-override-model"
                        data-testid="price-override-model"
                        spellcheck="false"
                        autocomplete="off"
                        placeholder="openai/gpt-4.1-mini"
                        prop:value=move || draft.with(|d| d.model.clone())
                        on:input=move |ev| {
                            touched.set(true);
                            saved.set(None);
                            draft.update(|d| d.model = event_target_value(&ev));
                        }
                    />
                </div>
                {field("input", "Input", "2.50", |d| &d.input, |d, v| d.input = v)}
                {field("output", "Output", "10.00", |d| &d.output, |d, v| d.output = v)}
                {field("cache-read", "Cache read", "= input", |d| &d.cache_read, |d, v| d.cache_read = v)}
                {field("cache-write", "Cache write", "= input", |d| &d.cache_write, |d, v| d.cache_write = v)}
                <div class="field field-action">
                    <button
                        type="submit"
                        class="btn btn-primary"
                        data-testid="price-override-save"
                        disabled=move || checked.with(Result::is_err)
                    >
                        "Save price"
                    </button>
                </div>
            </form>
            {move || current().map(|text| view! { <p class="muted override-current" data-testid="price-override-current">{text}</p> })}
            {move || {
                let problems = if touched.get() { checked.get().err().unwrap_or_default() } else { Vec::new() };
                problems.into_iter().map(|p| view! { <ErrorText message=p/> }).collect_view()
            }}
            {move || save_error.get().map(|m| view! { <ErrorText message=m/> })}
            {move || saved.get().map(|m| view! { <p class="ok-text" role="status">{m}</p> })}
            <Show
                when=move || !rows().is_empty()
                fallback=|| view! { <p class="muted">"No prices of your own yet."</p> }
            >
                <div class="table-wrap">
                    <table class="costs-table">
                        <thead>
                            <tr>
                                <th scope="col">"Model"</th>
                                <th scope="col" class="num">"Input"</th>
                                <th scope="col" class="num">"Output"</th>
                                <th scope="col" class="num">"Cache read"</th>
                                <th scope="col" class="num">"Cache write"</th>
                                <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                            </tr>
                        </thead>
                        <tbody>
                            <For each=rows key=|(m, r)| format!("{m}{r:?}") let:row>
                                {
                                    let (model, rates) = row;
                                    let remove_model = model.clone();
                                    view! {
                                        <tr data-testid="price-override-row" data-model=model.clone()>
                                            <th scope="row" class="mono">{model.clone()}</th>
                                            <td class="num mono">{format!("${}", rates.input_per_million)}</td>
                                            <td class="num mono">{format!("${}", rates.output_per_million)}</td>
                                            <td class="num mono">{optional(rates.cache_read_per_million)}</td>
                                            <td class="num mono">{optional(rates.cache_write_per_million)}</td>
                                            <td>
                                                <button
                                                    type="button"
                                                    class="btn btn-ghost btn-sm"
                                                    data-testid="price-override-remove"
                                                    aria-label=format!("Remove your price for {model}")
                                                    on:click=move |_| {
                                                        if let Err(e) = pricing.remove_override(&remove_model) {
                                                            save_error.set(Some(e.to_string()));
                                                        }
                                                    }
                                                >
                                                    "Remove"
                                                </button>
                                            </td>
                                        </tr>
                                    }
                                }
                            </For>
                        </tbody>
                    </table>
                </div>
            </Show>
        </div>
    }
}

/// Which providers are local servers whose models cost nothing.
#[component]
fn LocalProviders() -> impl IntoView {
    let pricing = expect_context::<PricingState>();
    let providers = expect_context::<ProviderState>();
    let error = RwSignal::new(None::<String>);
    let custom = move || {
        providers.registry().with(|r| {
            r.custom_ids()
                .into_iter()
                .map(|id| {
                    let label = r.get(id).map(|p| p.label.clone()).unwrap_or_default();
                    (id.to_string(), label)
                })
                .collect::<Vec<_>>()
        })
    };
    view! {
        <div class="pricing-block">
            <h3 class="section-label">"Local models"</h3>
            <p class="muted">
                "Models served by a provider marked local cost $0 by this rule (their costs say "
                "why they are free), not because a price is missing. The built-in "
                <code>{LOCAL_ID}</code> " provider is free while its base URL is on this machine "
                "(localhost, 127.0.0.1, [::1]); pointed elsewhere it is priced like any "
                "OpenAI-compatible provider. A price of your own for a model still comes first."
            </p>
            <Show
                when=move || !custom().is_empty()
                fallback=|| view! { <p class="muted">"No custom providers: add one above to mark it local."</p> }
            >
                <ul class="local-list">
                    <For each=custom key=|(id, _)| id.clone() let:provider>
                        {
                            let (id, label) = provider;
                            let toggle_id = id.clone();
                            let checked_id = id.clone();
                            view! {
                                <li>
                                    <label class="check">
                                        <input
                                            type="checkbox"
                                            name=format!("price-local-{id}")
                                            data-testid=format!("price-local-{id}")
                                            prop:checked=move || pricing.settings().with(|s| s.local_providers.contains(&checked_id))
                                            on:change=move |ev| {
                                                let on = event_target_checked(&ev);
                                                error.set(pricing.set_local(&toggle_id, on).err().map(|e| e.to_string()));
                                            }
                                        />
                                        <span><code>{id.clone()}</code> " " {label} " — local, free"</span>
                                    </label>
                                </li>
                            }
                        }
                    </For>
                </ul>
            </Show>
            {move || error.get().map(|m| view! { <ErrorText message=m/> })}
        </div>
    }
}
