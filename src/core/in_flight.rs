//! Calls in flight, kept durably: before a call's first request goes out its worst case is
//! stored as an [`InFlightCall`]; the commit of its step (or the run's final record) removes
//! it. A tab killed mid-call leaves the record behind, and [`recover_in_flight`] later counts
//! it as *possibly billed* on its run (the provider may have billed the requests that were
//! out), once: the record is removed in the same write that counts it.

use serde::{Deserialize, Serialize};

use crate::core::pipeline::SinkError;
use crate::core::run_store::RunStore;
use crate::core::trajectory::{RunRecord, TrajectoryEntry};

/// One call whose requests may be out, stored before the first of them is sent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InFlightCall {
    /// The run making the call.
    pub run_id: String,
    /// The step the call is for (its step id once committed).
    pub step_id: u64,
    /// The configured model string.
    pub model: String,
    /// The call's worst case in USD, every re-ask included; `None` when its price is unknown.
    pub worst_case_usd: Option<f64>,
    /// When it was sent, epoch milliseconds (UTC).
    pub started_ms: f64,
}

impl InFlightCall {
    /// The store key: one call per step of a run.
    pub fn key(&self) -> String {
        in_flight_key(&self.run_id, self.step_id)
    }
}

/// The store key of step `step_id`'s call in run `run_id`.
pub fn in_flight_key(run_id: &str, step_id: u64) -> String {
    format!("{run_id}#{step_id}")
}

/// What the calls a closed tab left in flight add to their run: the worst case of each whose
/// step was not committed (a committed step holds the call's real cost, so its record is
/// only left over, never counted twice). Unknown prices add nothing.
pub fn orphaned_worst_case(committed: &[TrajectoryEntry], orphans: &[InFlightCall]) -> f64 {
    orphans
        .iter()
        .filter(|call| !committed.iter().any(|e| e.step_id == call.step_id))
        .filter_map(|call| call.worst_case_usd)
        .filter(|usd| usd.is_finite() && *usd > 0.0)
        .sum()
}

/// Counts the calls run `run_id` left in flight as possibly billed on its record and removes
/// them, in one write; returns the record as stored (`None` when the run is not stored). Run
/// again, it finds nothing left and changes nothing. The caller holds the run's lock, so no
/// call of the run is in flight meanwhile.
pub async fn recover_in_flight<S: RunStore>(
    store: &S,
    run_id: &str,
) -> Result<Option<RunRecord>, SinkError> {
    let Some(mut record) = store.get_run(run_id).await? else {
        return Ok(None);
    };
    let orphans = store.in_flight_calls(run_id).await?;
    if orphans.is_empty() {
        return Ok(Some(record));
    }
    let committed = store.steps(run_id).await?;
    record.possibly_billed_usd += orphaned_worst_case(&committed, &orphans);
    store.put_run_settling_calls(&record).await?;
    Ok(Some(record))
}
