//! "Trialogue stopped": what the page shows when the app panics.
//!
//! A release build aborts on panic (`panic = "abort"`): the wasm instance, and with it Leptos's
//! runtime, is gone the moment the hook returns, so the banner is plain DOM written from the
//! panic hook itself, and its Reload is a link, which needs no code of ours to work. Saved steps
//! are in IndexedDB; after a reload, runs and batches that were running show as interrupted and
//! can be resumed.

use web_sys::{Document, Element};

/// The `localStorage` key that makes the app panic once it has started, with the key's value
/// as the message; the key is removed first, so a reload starts normally. Only a test that
/// writes the key on purpose reaches it (a link cannot): it proves the banner works.
pub const TEST_PANIC_KEY: &str = "trialogue.test.panic";

const BANNER_ID: &str = "trialogue-stopped";

/// Installs the panic hook: the console gets the panic with its stack, the page the banner.
pub fn install() {
    std::panic::set_hook(Box::new(|info| {
        console_error_panic_hook::hook(info);
        let payload = info.payload();
        let message = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| info.to_string());
        show(&message);
    }));
}

/// Shows the banner, once: a second panic (while the first unwinds, say) keeps the first
/// message. Does nothing where there is no document.
pub fn show(message: &str) {
    let Some(document) = web_sys::window().and_then(|w| w.document()) else {
        return;
    };
    if document.get_element_by_id(BANNER_ID).is_some() {
        return;
    }
    let Some(banner) = build(&document, message) else {
        return;
    };
    if let Some(body) = document.body() {
        let _ = body.prepend_with_node_1(&banner);
    }
}

fn build(document: &Document, message: &str) -> Option<Element> {
    let banner = document.create_element("div").ok()?;
    banner.set_id(BANNER_ID);
    banner.set_class_name("panic-banner");
    banner.set_attribute("role", "alert").ok()?;
    banner.set_attribute("data-testid", "panic-banner").ok()?;

    let title = document.create_element("p").ok()?;
    title.set_class_name("panic-banner-title");
    // Text, never markup: the message may quote anything the app was reading.
    title.set_text_content(Some(&format!("Trialogue stopped: {message}")));

    let advice = document.create_element("p").ok()?;
    advice.set_text_content(Some(
        "The page can no longer respond. Reload it to go on: every step already saved is kept, \
         and runs and batches that were running show as interrupted and can be resumed from the \
         Runs and Batch pages. ",
    ));
    let reload = document.create_element("a").ok()?;
    reload.set_class_name("btn btn-sm");
    let here = web_sys::window()
        .and_then(|w| w.location().href().ok())
        .unwrap_or_else(|| "/".to_string());
    reload.set_attribute("href", &here).ok()?;
    reload.set_text_content(Some("Reload"));
    advice.append_with_node_1(&reload).ok()?;

    banner.append_with_node_2(&title, &advice).ok()?;
    Some(banner)
}

/// Panics if a test asked for it through [`TEST_PANIC_KEY`].
pub fn panic_if_asked() {
    let Some(storage) = web_sys::window().and_then(|w| w.local_storage().ok().flatten()) else {
        return;
    };
    let Ok(Some(message)) = storage.get_item(TEST_PANIC_KEY) else {
        return;
    };
    let _ = storage.remove_item(TEST_PANIC_KEY);
    // After the first render, as a real panic would come: from an event or an effect.
    leptos::task::spawn_local(async move { panic!("{message}") });
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test;

    #[wasm_bindgen_test]
    fn the_banner_says_what_stopped_and_shows_once() {
        show("<b>index out of bounds</b>");
        show("a second panic");
        let document = web_sys::window().unwrap().document().unwrap();
        let banner = document.get_element_by_id(BANNER_ID).unwrap();
        let text = banner.text_content().unwrap();
        assert!(
            text.starts_with("Trialogue stopped: <b>index out of bounds</b>"),
            "{text}"
        );
        assert!(text.contains("Reload"));
        assert!(
            banner.query_selector("b").unwrap().is_none(),
            "markup stays text"
        );
        let link = banner.query_selector("a").unwrap().unwrap();
        assert_eq!(
            link.get_attribute("href"),
            web_sys::window().unwrap().location().href().ok()
        );
        banner.remove();
        assert!(
            document
                .query_selector("[data-testid=panic-banner]")
                .unwrap()
                .is_none(),
            "one banner for two panics"
        );
    }
}
