//! Any two stored batches, or configs of experiments, compared on their shared problems the
//! way an experiment's pairs are.

use leptos::prelude::*;

use crate::core::experiment::compare::{compare_sides, CompareSide};
use crate::core::experiment::load::mode_runs;
use crate::ui::experiments::results::{PairRow, PairTable};
use crate::ui::store::SharedStore;

/// The two pickers and, once both are picked, their comparison.
#[component]
pub fn CompareBatches(
    /// Bumped when the stored batches change.
    changed: RwSignal<u64>,
) -> impl IntoView {
    let store = expect_context::<SharedStore>();
    let sides = LocalResource::new(move || {
        let _ = changed.get();
        async move {
            let store = store.open().await.map_err(|e| e.to_string())?;
            let batches = store.list_batches().await.map_err(|e| e.to_string())?;
            Ok::<_, String>((CompareSide::all(&batches), batches))
        }
    });
    let a = RwSignal::new(String::new());
    let b = RwSignal::new(String::new());
    let compared = LocalResource::new(move || {
        let (ka, kb) = (a.get(), b.get());
        let listed = sides.get().and_then(Result::ok);
        async move {
            if ka.is_empty() || kb.is_empty() {
                return Ok(None);
            }
            if ka == kb {
                return Err(
                    "Pick two different batches (or a batch's two modes) to compare.".to_string(),
                );
            }
            let Some((sides, batches)) = listed else {
                return Ok(None);
            };
            let side_of = |key: &str| {
                let side = CompareSide::find(&sides, key)?.clone();
                let batch = batches
                    .iter()
                    .find(|b| b.spec.batch_id == side.batch_id)?
                    .clone();
                Some((side, batch))
            };
            let (Some((sa, ba)), Some((sb, bb))) = (side_of(&ka), side_of(&kb)) else {
                return Err("That batch is no longer stored; pick another.".to_string());
            };
            let store = store.open().await.map_err(|e| e.to_string())?;
            let ra = mode_runs(&store, &ba, &sa.label, sa.mode)
                .await
                .map_err(|e| e.to_string())?;
            let rb = mode_runs(&store, &bb, &sb.label, sb.mode)
                .await
                .map_err(|e| e.to_string())?;
            Ok(Some((sa.label, sb.label, compare_sides(&ra, &rb))))
        }
    });
    let options = move || {
        sides.get().and_then(Result::ok).map(|(sides, _)| {
            sides
                .into_iter()
                .map(|s| {
                    let text =
                        format!("{} — {} ({} problems)", s.label, s.dataset_name, s.problems);
                    view! { <option value=s.key()>{text}</option> }
                })
                .collect_view()
        })
    };
    view! {
        <section class="card" aria-labelledby="compare-title">
            <h2 id="compare-title">"Compare two batches"</h2>
            <p class="muted">
                "Any two stored batches or experiment configs — a debate batch against an earlier "
                "baseline batch, last week's config against today's — on the problems both "
                "answered (matched by problem id)."
            </p>
            <div class="form-grid">
                <label>
                    "First"
                    <select data-testid="compare-batch-a" on:change=move |ev| a.set(event_target_value(&ev))>
                        <option value="">"Pick a batch"</option>
                        {options}
                    </select>
                </label>
                <label>
                    "Second"
                    <select data-testid="compare-batch-b" on:change=move |ev| b.set(event_target_value(&ev))>
                        <option value="">"Pick a batch"</option>
                        {options}
                    </select>
                </label>
            </div>
            {move || sides.get().and_then(Result::err).map(|e| view! { <p class="msg msg-error" role="alert">{e}</p> })}
            <Transition fallback=|| view! { <p class="muted">"Reading the runs…"</p> }>
                {move || compared.get().map(|r| match r {
                    Ok(None) => ().into_any(),
                    Err(e) => view! { <p class="msg msg-error" role="alert" data-testid="compare-error">{e}</p> }.into_any(),
                    Ok(Some((la, lb, pair))) if pair.shared == 0 => view! {
                        <p class="msg" data-testid="compare-none-shared">
                            {format!("{la} and {lb} share no problem answered with a checked, completed run: nothing to compare.")}
                        </p>
                    }.into_any(),
                    Ok(Some((la, lb, pair))) => view! {
                        <div class="table-scroll">
                            <PairTable>
                                <PairRow pair a_label=la b_label=lb test_id="compare-pair"/>
                            </PairTable>
                        </div>
                    }.into_any(),
                })}
            </Transition>
        </section>
    }
}
