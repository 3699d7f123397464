//! What may have been billed but is in no cost: "at most $X unaccounted" (requests that got no
//! reply, calls a closed tab left in flight), and the reservation the next call holds of a
//! budget before it is sent.

use leptos::prelude::*;

use crate::app::format::dollars;

/// "at most $X unaccounted", shown only when something is (`data-testid` = `test_id`,
/// `data-usd` = the plain number).
#[component]
pub fn Unaccounted(
    /// The worst case of the requests that got no reply, in USD.
    #[prop(into)]
    usd: Signal<f64>,
    /// The hook tests read it by (`run-unaccounted`, `batch-unaccounted`, `costs-unaccounted`).
    test_id: &'static str,
) -> impl IntoView {
    move || {
        let amount = usd.get();
        (amount.is_finite() && amount > 0.0).then(|| {
            view! {
                <span
                    class="unaccounted"
                    data-testid=test_id
                    data-usd=amount.to_string()
                    title="Requests that got no reply (a timeout, a dropped connection, a tab closed \
                           mid-call) may still be billed by the provider: their worst case is counted \
                           against budgets, apart from the cost."
                >
                    {format!("at most {} unaccounted", dollars(Some(amount)))}
                </span>
            }
        })
    }
}

/// What the next call holds of the budget before it is sent (`data-testid="budget-reservation"`,
/// `data-usd` = the plain number); nothing when it is not known.
#[component]
pub fn NextReservation(
    /// The next call's first request's worst case in USD.
    #[prop(into)]
    usd: Signal<Option<f64>>,
) -> impl IntoView {
    move || {
        usd.get().filter(|u| u.is_finite()).map(|amount| {
            view! {
                <span
                    class="muted budget-reservation"
                    data-testid="budget-reservation"
                    data-usd=amount.to_string()
                    title="Before each request a call holds its worst case (the prompt's token \
                           bound and max_tokens of output) until the reply says what it cost."
                >
                    {format!(" · next call reserves up to {}", dollars(Some(amount)))}
                </span>
            }
        })
    }
}
