//! What the provider batch tests share about the reply store: every reply a provider batch
//! answered is stored under its step's request hash, and each run replays from those replies
//! through the live adapters' readers into the same steps.

use serde_json::Value;

use trialogue::core::batch::BatchRecord;
use trialogue::core::clock::ManualClock;
use trialogue::core::jsonl;
use trialogue::core::providers::ProviderRegistry;
use trialogue::core::replies::hub::ReplyHub;
use trialogue::core::replies::replay::replay_run;
use trialogue::core::replies::{MemoryReplyStore, ReplyStore};
use trialogue::core::run_store::{MemoryRunStore, RunStore};
use trialogue::core::trajectory::TrajectoryEntry;

use crate::batch::START_MS;
use crate::util::block_on;

/// Keys that differ between a step and its replay by design, at any depth: when and how fast
/// (the replay runs at another moment), what it cost and who paid (a replay pays nothing), and
/// the route each request took (the replay's came from the store, not a provider batch).
const DIFFER_BY_DESIGN: [&str; 5] = [
    "timestamp",
    "latency_ms",
    "cost_usd",
    "reused_from",
    "sent_via",
];

fn without_differences(value: Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .filter(|(k, _)| !DIFFER_BY_DESIGN.contains(&k.as_str()))
                .map(|(k, v)| (k, without_differences(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(without_differences).collect()),
        other => other,
    }
}

/// The steps' JSONL lines as a replay must reproduce them.
pub(crate) fn reproduced(steps: &[TrajectoryEntry]) -> Vec<Value> {
    steps
        .iter()
        .map(|s| {
            let line = jsonl::to_line(s).expect("a JSONL line");
            without_differences(serde_json::from_str(&line).expect("JSON"))
        })
        .collect()
}

/// Each run of `record` (stored in `runs`) has its every step's reply in `replies`, paid by
/// it, with the step's usage; replayed from those replies alone with the providers of
/// `registry` as a live run has them (streaming where they stream), it gives the same
/// validated outputs and usage, and the same JSONL lines but for [`DIFFER_BY_DESIGN`].
pub(crate) fn assert_each_run_replays_from_the_store(
    runs: &MemoryRunStore,
    replies: &MemoryReplyStore,
    record: &BatchRecord,
    registry: &ProviderRegistry,
) {
    let clock = ManualClock::starting_at(START_MS);
    let hub = ReplyHub::new(replies.clone());
    for item in &record.items {
        let run_id = item.run_id.as_deref().expect("a run");
        let run = runs.record(run_id).expect("stored");
        let steps = block_on(runs.steps(run_id)).expect("steps");
        assert!(!steps.is_empty());
        for step in &steps {
            let hash = step
                .metadata
                .request_hash
                .as_deref()
                .expect("a request hash");
            let stored = block_on(replies.get_reply(hash))
                .expect("readable")
                .unwrap_or_else(|| panic!("run {run_id} step {}: no stored reply", step.step_id));
            assert_eq!(stored.paid_by, run_id);
            assert_eq!(stored.usage, step.metadata.usage, "step {}", step.step_id);
            assert!(!stored.request.contains("sk-"), "no credentials stored");
        }
        let replayed = block_on(replay_run(
            &run,
            &steps,
            registry.clone(),
            &clock,
            hub.clone(),
            None,
        ))
        .unwrap_or_else(|e| panic!("run {run_id} replays: {e}"));
        assert_eq!(replayed.len(), steps.len());
        for (again, step) in replayed.iter().zip(&steps) {
            assert_eq!(again.output, step.output);
            assert_eq!(again.metadata.usage, step.metadata.usage);
            assert_eq!(again.metadata.request_hash, step.metadata.request_hash);
        }
        assert_eq!(reproduced(&replayed), reproduced(&steps), "run {run_id}");
    }
}
