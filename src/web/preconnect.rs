//! Connecting to providers before the first call: a `<link rel="preconnect">` per origin lets
//! the browser resolve, connect and finish the TLS handshake while the user is still on the
//! page, instead of in front of the first call (over the internet the handshake alone is one to
//! two round trips).

/// Asks the browser to connect to `origin` (`scheme://host[:port]`, as
/// [`crate::core::providers::origin_of`] gives it) for calls to come; one hint per origin per
/// page. The calls carry no cookies, so the hint is `crossorigin="anonymous"`: a connection
/// opened for credentialed requests would not be used by them.
pub fn preconnect(origin: &str) {
    // Origins are made by `origin_of`; anything that would break out of the selector's quotes
    // is left alone rather than escaped.
    if origin.contains(['"', '\\']) {
        return;
    }
    let Some(document) = web_sys::window().and_then(|w| w.document()) else {
        return;
    };
    let selector = format!("link[rel=\"preconnect\"][href=\"{origin}\"]");
    if !matches!(document.query_selector(&selector), Ok(None)) {
        return;
    }
    let (Ok(link), Ok(Some(head))) = (
        document.create_element("link"),
        document.query_selector("head"),
    ) else {
        return;
    };
    // A hint: if the browser refuses any of it, the calls connect as they would have.
    let _ = link.set_attribute("rel", "preconnect");
    let _ = link.set_attribute("href", origin);
    let _ = link.set_attribute("crossorigin", "anonymous");
    let _ = head.append_child(&link);
}
