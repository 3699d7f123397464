//! The IndexedDB reply store: stored once by hash (the first payer kept), measured, and cleared
//! by age without touching any run or step.

use wasm_bindgen_test::wasm_bindgen_test;

use trialogue::core::config::PipelineConfig;
use trialogue::core::llm::chat::HttpResponse;
use trialogue::core::llm::Usage;
use trialogue::core::replies::{ReplyStore, StoredReply};
use trialogue::core::trajectory::RunRecord;
use trialogue::web::idb::TrajectoryStore;

fn reply(hash: &str, paid_by: &str, stored_ms: f64) -> StoredReply {
    StoredReply {
        request_hash: hash.into(),
        request: format!(r#"{{"body":{{"n":"{hash}"}},"endpoint":"POST https://x/v1"}}"#),
        response: HttpResponse {
            status: 200,
            headers: vec![],
            body: r#"{"choices":[]}"#.into(),
        },
        usage: Some(Usage {
            input_tokens: 10,
            output_tokens: 2,
            total_tokens: 12,
            ..Usage::default()
        }),
        paid_by: paid_by.into(),
        stored_ms,
    }
}

#[wasm_bindgen_test]
async fn replies_are_stored_once_measured_and_cleared_by_age_without_touching_runs() {
    let name = "t-idb-replies";
    TrajectoryStore::delete_database(name).await.unwrap();
    let store = TrajectoryStore::open_named(name).await.unwrap();
    let run = RunRecord::start(
        "run_a",
        &PipelineConfig::default(),
        "ab12cd34",
        "What is 2+2?",
        None,
        1.0,
    );
    store.create_run(&run).await.unwrap();

    let old = reply("h-old", "run_a", 1_000.0);
    let new = reply("h-new", "run_a", 5_000.0);
    assert!(store.put_reply(&old).await.unwrap());
    assert!(store.put_reply(&new).await.unwrap());
    // A second payer of the same request does not replace the first.
    assert!(!store
        .put_reply(&reply("h-old", "run_b", 9_000.0))
        .await
        .unwrap());
    assert_eq!(store.get_reply("h-old").await.unwrap(), Some(old.clone()));
    assert_eq!(store.get_reply("h-none").await.unwrap(), None);

    let size = store.reply_store_size().await.unwrap();
    assert_eq!(size.replies, 2);
    assert_eq!(size.bytes, old.size_bytes() + new.size_bytes());

    assert_eq!(store.delete_replies_older_than(2_000.0).await.unwrap(), 1);
    assert_eq!(store.get_reply("h-old").await.unwrap(), None);
    assert_eq!(store.get_reply("h-new").await.unwrap(), Some(new));
    assert_eq!(store.reply_store_size().await.unwrap().replies, 1);
    assert_eq!(store.get_run("run_a").await.unwrap(), Some(run));

    store.close();
    TrajectoryStore::delete_database(name).await.unwrap();
}
