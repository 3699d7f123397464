//! Hardening checks that span the tree: the page's content security policy against what
//! Settings accept.

use std::collections::BTreeSet;

use trialogue::core::providers::PLAIN_HTTP_HOSTS;

const INDEX_HTML: &str = include_str!("../../index.html");

/// The sources of one directive of the page's `Content-Security-Policy` meta tag.
fn csp_sources(directive: &str) -> Vec<String> {
    let start = INDEX_HTML
        .find("http-equiv=\"Content-Security-Policy\"")
        .expect("index.html has a CSP meta tag");
    let tag = &INDEX_HTML[start..];
    let content = tag
        .split("content=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("the CSP meta tag has a content attribute");
    content
        .split(';')
        .map(str::trim)
        .find_map(|d| d.strip_prefix(directive).map(str::trim))
        .unwrap_or_else(|| panic!("the CSP has no {directive}"))
        .split_whitespace()
        .map(str::to_string)
        .collect()
}

#[test]
fn plain_http_hosts_settings_accept_are_exactly_those_the_csp_lets_the_page_call() {
    let sources = csp_sources("connect-src");
    let csp_http_hosts: BTreeSet<String> = sources
        .iter()
        .filter_map(|s| s.strip_prefix("http://"))
        .map(|s| {
            let host = s.strip_suffix(":*").unwrap_or_else(|| {
                panic!("plain-http source {s} must allow every port, as Settings do")
            });
            host.to_string()
        })
        .collect();
    let accepted: BTreeSet<String> = PLAIN_HTTP_HOSTS.iter().map(|h| h.to_string()).collect();
    assert_eq!(csp_http_hosts, accepted, "connect-src: {sources:?}");
    // Any https host is allowed by both.
    assert!(sources.iter().any(|s| s == "https:"), "{sources:?}");
}
