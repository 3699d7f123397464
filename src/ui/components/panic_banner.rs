//! "Trialogue stopped": what the page shows when the app panics.
//!
//! A release build aborts on panic (`panic = "abort"`): the wasm instance, and with it Leptos's
//! runtime, is gone the moment the hook returns. So the banner is plain HTML in `index.html`,
//! hidden until the hook writes the message into it and shows it, and its Reload is a link,
//! which needs no code of ours to work. Saved steps are in IndexedDB; after a reload, runs and
//! batches that were running show as interrupted and can be resumed.

/// The `localStorage` key that makes the app panic once it has started, with the key's value
/// as the message; the key is removed first, so a reload starts normally. Only a test that
/// writes the key on purpose reaches it (a link cannot): it proves the banner works.
pub const TEST_PANIC_KEY: &str = "trialogue.test.panic";

/// The banner's element in `index.html`; its first child gets the message.
pub const BANNER_ID: &str = "trialogue-stopped";

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

/// Writes "Trialogue stopped: `message`" into the banner and shows it, once: a second panic
/// keeps the first message. Does nothing where the page has no banner.
pub fn show(message: &str) {
    let Some(banner) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.get_element_by_id(BANNER_ID))
    else {
        return;
    };
    if !banner.has_attribute("hidden") {
        return;
    }
    if let Some(title) = banner.first_element_child() {
        // Text, never markup: the message may quote anything the app was reading.
        title.set_text_content(Some(&format!("Trialogue stopped: {message}")));
    }
    let _ = banner.remove_attribute("hidden");
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
        let document = web_sys::window().unwrap().document().unwrap();
        // The skeleton of index.html's banner (the e2e test uses the real one).
        let banner = document.create_element("div").unwrap();
        banner.set_id(BANNER_ID);
        banner.set_attribute("hidden", "").unwrap();
        banner.set_inner_html("<p>Trialogue stopped.</p><p>Reload</p>");
        document.body().unwrap().append_child(&banner).unwrap();

        show("<b>index out of bounds</b>");
        show("a second panic");
        assert!(!banner.has_attribute("hidden"));
        let text = banner.text_content().unwrap();
        assert_eq!(
            text, "Trialogue stopped: <b>index out of bounds</b>Reload",
            "the first message, as text"
        );
        assert!(
            banner.query_selector("b").unwrap().is_none(),
            "markup stays text"
        );
        banner.remove();
        // Without a banner in the page, a panic still only logs.
        show("no banner");
    }
}
