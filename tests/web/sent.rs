//! A transcript step's "what was sent and what came back" panel in the page
//! (`ui::run::sent`): its messages are made when it is first opened, and an open panel is not
//! drawn again when the run record it reads its config from is replaced by one with the same
//! config (as happens on every saved step).

use leptos::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::wasm_bindgen_test;

use trialogue::core::clock::ManualClock;
use trialogue::core::config::PipelineConfig;
use trialogue::core::pipeline::{messages_of_step, MemorySink, Pipeline, RunInput};
use trialogue::core::scripted::ScriptedLlm;
use trialogue::core::trajectory::TrajectoryEntry;
use trialogue::ui::run::sent::{SentReceived, ShownRunConfig};

/// The config and the stored solver step of a run made by the loop itself.
async fn solver_step() -> (PipelineConfig, TrajectoryEntry) {
    let config = PipelineConfig::default();
    let llm = ScriptedLlm::builder()
        .solve(r"\boxed{4}")
        .verify(true, "ok")
        .judge(0.9)
        .build();
    let clock = ManualClock::starting_at(1_767_268_800_000.0);
    let sink = MemorySink::new();
    let input = RunInput {
        run_id: "run_20260101_120000_00000001".into(),
        problem: "What is 2+2?".into(),
        ground_truth: Some("4".into()),
    };
    let outcome = Pipeline::new(&config, &llm, &clock, &sink)
        .run(&input)
        .await;
    let first = outcome
        .entries
        .first()
        .cloned()
        .expect("the run made a step");
    assert_eq!(first.agent, "solver");
    (config, first)
}

/// Lets the browser run its queued tasks (a `<details>` fires `toggle` in one) and the
/// effects they wake.
async fn next_task() {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        web_sys::window()
            .unwrap()
            .set_timeout_with_callback(&resolve)
            .unwrap();
    });
    wasm_bindgen_futures::JsFuture::from(promise).await.unwrap();
}

/// A new element in the page's body to mount into.
fn host() -> web_sys::HtmlElement {
    let document = web_sys::window().unwrap().document().unwrap();
    let host: web_sys::HtmlElement = document.create_element("div").unwrap().unchecked_into();
    document.body().unwrap().append_child(&host).unwrap();
    host
}

fn find(host: &web_sys::HtmlElement, testid: &str) -> Option<web_sys::Element> {
    host.query_selector(&format!("[data-testid=\"{testid}\"]"))
        .unwrap()
}

/// Opens the panel as a reader's click on its summary does, and waits for it to fill.
async fn open(host: &web_sys::HtmlElement) {
    let details: web_sys::HtmlDetailsElement = find(host, "step-sent").unwrap().unchecked_into();
    details.set_open(true);
    next_task().await;
}

#[wasm_bindgen_test]
async fn a_folded_panel_makes_its_messages_when_first_opened() {
    let (config, entry) = solver_step().await;
    let sent = messages_of_step(&config, &entry).unwrap();
    let host = host();
    let shown = config.clone();
    let _mounted = leptos::mount::mount_to(host.clone(), move || {
        provide_context(ShownRunConfig::new(move || Some(shown.clone())));
        view! { <SentReceived entry=entry/> }
    });
    next_task().await;
    assert!(find(&host, "step-sent").is_some());
    assert!(
        find(&host, "step-sent-user").is_none(),
        "a folded panel holds no messages"
    );
    open(&host).await;
    assert_eq!(
        find(&host, "step-sent-user").and_then(|e| e.text_content()),
        Some(sent.user)
    );
    assert_eq!(
        find(&host, "step-sent-system").and_then(|e| e.text_content()),
        Some(sent.system)
    );
    host.remove();
}

/// Starts recording every change under `host`; the returned function gives how many changes
/// (mutation records) were made since the last call.
fn record_changes(host: &web_sys::HtmlElement) -> impl Fn() -> u32 {
    let start = js_sys::Function::new_with_args(
        "host",
        "let seen = 0; \
         const o = new MutationObserver((records) => { seen += records.length; }); \
         o.observe(host, { subtree: true, childList: true, attributes: true, characterData: true }); \
         return () => { const n = seen + o.takeRecords().length; seen = 0; return n; };",
    );
    let take: js_sys::Function = start
        .call1(&wasm_bindgen::JsValue::NULL, host)
        .unwrap()
        .unchecked_into();
    move || {
        take.call0(&wasm_bindgen::JsValue::NULL)
            .unwrap()
            .as_f64()
            .unwrap() as u32
    }
}

#[wasm_bindgen_test]
async fn an_open_panel_is_drawn_again_only_when_the_config_changes() {
    let (config, entry) = solver_step().await;
    let entry_again = entry.clone();
    let host = host();
    // Stands for the shown run's record, replaced on every saved step.
    let record = RwSignal::new(Some(config.clone()));
    let _mounted = leptos::mount::mount_to(host.clone(), move || {
        provide_context(ShownRunConfig::new(move || record.get()));
        view! { <SentReceived entry=entry/> }
    });
    next_task().await;
    open(&host).await;
    assert!(find(&host, "step-sent-user").is_some());
    let changes = record_changes(&host);

    for _ in 0..3 {
        record.set(Some(config.clone()));
        next_task().await;
    }
    assert_eq!(
        changes(),
        0,
        "the same config given again three times changed nothing in the page"
    );

    let mut changed = config.clone();
    changed.solver.system_prompt = "You check your arithmetic twice.".into();
    let now_sent = messages_of_step(&changed, &entry_again).unwrap();
    assert!(now_sent.system.contains("You check your arithmetic twice."));
    record.set(Some(changed));
    next_task().await;
    assert!(changes() > 0, "a new config draws the messages again");
    assert_eq!(
        find(&host, "step-sent-system").and_then(|e| e.text_content()),
        Some(now_sent.system)
    );
    host.remove();
}
