//! Connection hints in a real page: one `<link rel="preconnect">` per origin, anonymous, and
//! nothing for what would not be a clean origin.

use trialogue::web::preconnect::preconnect;
use wasm_bindgen_test::wasm_bindgen_test;

fn head() -> web_sys::Element {
    let document = web_sys::window().unwrap().document().unwrap();
    document.query_selector("head").unwrap().unwrap()
}

/// How many hints name `origin` (counted in the head's markup: no NodeList binding needed).
fn hint_count(origin: &str) -> usize {
    head()
        .inner_html()
        .matches(&format!("href=\"{origin}\""))
        .count()
}

#[wasm_bindgen_test]
fn an_origin_gets_one_anonymous_hint_however_often_it_is_asked_for() {
    let origin = "https://api.preconnect-test.example";
    assert_eq!(hint_count(origin), 0);
    preconnect(origin);
    preconnect(origin);
    assert_eq!(hint_count(origin), 1);
    let hint = head()
        .query_selector(&format!("link[rel=\"preconnect\"][href=\"{origin}\"]"))
        .unwrap()
        .expect("the hint is in the head");
    assert_eq!(
        hint.get_attribute("crossorigin").as_deref(),
        Some("anonymous")
    );
    // Another origin gets its own.
    preconnect("http://127.0.0.1:65001");
    assert_eq!(hint_count("http://127.0.0.1:65001"), 1);
}

#[wasm_bindgen_test]
fn a_value_that_would_break_the_selector_gets_no_hint() {
    let before = head().child_element_count();
    preconnect("https://x.example\"]");
    preconnect("https://x.example\\");
    assert_eq!(head().child_element_count(), before);
}
