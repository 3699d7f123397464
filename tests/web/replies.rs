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

#[wasm_bindgen_test]
async fn the_stored_hashes_are_listed_in_one_read_and_a_new_reply_is_announced_to_other_tabs() {
    use std::cell::RefCell;
    use std::rc::Rc;
    use wasm_bindgen::closure::Closure;
    use wasm_bindgen::JsCast;

    let name = "t-idb-reply-hashes";
    TrajectoryStore::delete_database(name).await.unwrap();
    let store = TrajectoryStore::open_named(name).await.unwrap();
    assert!(store.stored_hashes().await.unwrap().is_empty());
    // Another tab's channel hears what this tab stores; the promise settles at the second.
    let other_tab = web_sys::BroadcastChannel::new("trialogue-replies").unwrap();
    let heard: Rc<RefCell<Vec<String>>> = Rc::default();
    let log = heard.clone();
    let two_heard = js_sys::Promise::new(&mut |resolve, _| {
        let log = log.clone();
        let on_message = Closure::<dyn FnMut(web_sys::MessageEvent)>::new(
            move |event: web_sys::MessageEvent| {
                if let Some(hash) = event.data().as_string() {
                    log.borrow_mut().push(hash);
                }
                if log.borrow().len() == 2 {
                    let _ = resolve.call0(&wasm_bindgen::JsValue::NULL);
                }
            },
        );
        other_tab.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        on_message.forget();
    });
    assert!(store.put_reply(&reply("h-b", "run_a", 2.0)).await.unwrap());
    assert!(store.put_reply(&reply("h-a", "run_a", 1.0)).await.unwrap());
    assert!(!store.put_reply(&reply("h-a", "run_b", 3.0)).await.unwrap());
    let mut hashes = store.stored_hashes().await.unwrap();
    hashes.sort();
    assert_eq!(hashes, ["h-a", "h-b"]);
    wasm_bindgen_futures::JsFuture::from(two_heard)
        .await
        .unwrap();
    assert_eq!(
        *heard.borrow(),
        ["h-b", "h-a"],
        "each added reply announced once"
    );
    other_tab.close();
}

#[wasm_bindgen_test]
async fn a_reply_another_tab_announces_is_listed_in_this_tabs_index() {
    use trialogue::core::replies::known::Known;
    use trialogue::web::idb::tab_reply_index;
    use wasm_bindgen::closure::Closure;
    use wasm_bindgen::JsCast;

    let index = tab_reply_index();
    index.fill(Vec::new());
    assert_eq!(index.lookup("h-other-tab"), Known::Absent);
    // A channel made after the index's hears the announcement after it (a message is
    // delivered to the channels of a page in the order they were made), so once it has,
    // the index has too.
    let later = web_sys::BroadcastChannel::new("trialogue-replies").unwrap();
    let heard = js_sys::Promise::new(&mut |resolve, _| {
        let on_message = Closure::once_into_js(move |_: web_sys::MessageEvent| {
            let _ = resolve.call0(&wasm_bindgen::JsValue::NULL);
        });
        later.set_onmessage(Some(on_message.unchecked_ref()));
    });
    let other_tab = web_sys::BroadcastChannel::new("trialogue-replies").unwrap();
    other_tab
        .post_message(&wasm_bindgen::JsValue::from_str("h-other-tab"))
        .unwrap();
    wasm_bindgen_futures::JsFuture::from(heard).await.unwrap();
    assert_eq!(index.lookup("h-other-tab"), Known::Listed);
    later.close();
    other_tab.close();
}
