//! The Costs page's roll-ups as they load: read from the store's `cost_rollups` cells, built
//! there first (with progress) when they count not every run yet — a database upgraded from
//! before the cells existed, a build a closed tab left half done, or a rebuild asked for.

use std::cell::Cell;
use std::rc::Rc;
use std::sync::Arc;

use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::core::cost::CostSummary;
use crate::core::cost_rollup::CostRollup;
use crate::ui::store::SharedStore;
use crate::web::idb::{BuildProgress, StoreError};

/// The roll-ups, as they load.
#[derive(Debug, Clone, PartialEq)]
pub enum Rollups {
    /// Reading them, or building them: `done` of `total` runs counted (`total` 0: not known
    /// yet).
    Loading {
        /// Runs counted so far.
        done: u64,
        /// Runs stored.
        total: u64,
    },
    /// Read: the cells and their totals by agent and model.
    Ready {
        /// The cells.
        rollup: Arc<CostRollup>,
        /// Their totals, as the cost tracker gives them.
        summary: Arc<CostSummary>,
    },
    /// The store failed.
    Failed(String),
}

/// Reads the roll-ups into `state`, building what is missing first; `rebuild` forgets the
/// cells and counts every step again. Nothing is set once `stop` is.
pub async fn load_rollups(
    store: SharedStore,
    state: RwSignal<Rollups>,
    rebuild: bool,
    stop: Rc<Cell<bool>>,
) {
    let result = read_or_build(store, state, rebuild, Rc::clone(&stop)).await;
    if stop.get() {
        return;
    }
    state.set(match result {
        Ok(Some(rollup)) => Rollups::Ready {
            summary: Arc::new(rollup.summary()),
            rollup: Arc::new(rollup),
        },
        Ok(None) => return,
        Err(e) => Rollups::Failed(format!("The cost roll-ups could not be read: {e}")),
    });
}

async fn read_or_build(
    store: SharedStore,
    state: RwSignal<Rollups>,
    rebuild: bool,
    stop: Rc<Cell<bool>>,
) -> Result<Option<CostRollup>, StoreError> {
    let store = store.open().await?;
    if rebuild {
        store.clear_cost_rollups().await?;
    } else if let Some(rollup) = store.cost_rollups().await? {
        return Ok(Some(rollup));
    }
    let progress = {
        let stop = Rc::clone(&stop);
        move |p: BuildProgress| {
            if !stop.get() {
                state.set(Rollups::Loading {
                    done: p.done,
                    total: p.total,
                });
            }
        }
    };
    let finished = store
        .build_cost_rollups(progress, {
            let stop = Rc::clone(&stop);
            move || stop.get()
        })
        .await?;
    if !finished {
        return Ok(None);
    }
    store.cost_rollups().await
}

/// Starts [`load_rollups`] in the background, stopping the load it replaces.
pub fn spawn_load(
    store: SharedStore,
    state: RwSignal<Rollups>,
    rebuild: bool,
    stop: StoredValue<Rc<Cell<bool>>, LocalStorage>,
) {
    let flag = Rc::new(Cell::new(false));
    stop.with_value(|old| old.set(true));
    stop.set_value(Rc::clone(&flag));
    spawn_local(load_rollups(store, state, rebuild, flag));
}

/// The status line of a load in progress or failed (nothing once ready).
#[component]
pub fn RollupStatus(state: RwSignal<Rollups>) -> impl IntoView {
    move || {
        match state.get() {
        Rollups::Loading { done, total } => Some(
            view! {
                <p class="muted costs-progress" role="status" data-testid="costs-rollup-progress">
                    {if total == 0 {
                        "Reading the cost roll-ups…".to_string()
                    } else {
                        format!("Counting each run's steps into the cost roll-ups: {done} of {total} runs…")
                    }}
                </p>
            }
            .into_any(),
        ),
        Rollups::Failed(message) => Some(
            view! { <crate::ui::components::notice::ErrorText message=message/> }.into_any(),
        ),
        Rollups::Ready { .. } => None,
    }
    }
}
