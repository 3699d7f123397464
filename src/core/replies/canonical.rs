//! The canonical request: what a reply is addressed by.
//!
//! Two requests are the same request when they go to the same endpoint with the same body. The
//! endpoint stands for the provider and, where the provider puts it in the path (Gemini), the
//! model; the body carries the model otherwise, and everything the reply depends on. Headers are
//! left out: they carry the credentials, which must never reach the store, and nothing that
//! changes the reply.

use serde_json::{json, Value};

use crate::core::hash::sha256_hex;
use crate::core::llm::chat::HttpRequest;

/// A request as it is addressed in the reply store.
#[derive(Debug, Clone, PartialEq)]
pub struct CanonicalRequest {
    /// `METHOD url`; the URL never carries a key (adapters put keys in headers).
    pub endpoint: String,
    /// The body as sent, parsed (so its keys are sorted); a body that is not JSON is kept as a
    /// string.
    pub body: Value,
    /// The run's sample index, under [`ReusePolicy::IdenticalWithSampleIndex`](super::ReusePolicy).
    pub sample: Option<u32>,
    /// For a request that may not be reused: the run and how many identical requests it made
    /// before (`run_id#n`), so each paid reply keeps an address of its own for replay.
    pub unique_to: Option<String>,
    /// For a reusable request its run made `n` times before (`n` > 0): the loop asking the
    /// same question again wants a new answer, so the n-th repeat has an address of its own,
    /// and a re-run reuses the same n-th reply.
    pub repeat: Option<u32>,
}

impl CanonicalRequest {
    /// The canonical form of `request`, addressed with `sample` when given.
    pub fn of(request: &HttpRequest, sample: Option<u32>) -> Self {
        let body = serde_json::from_str(&request.body)
            .unwrap_or_else(|_| Value::String(request.body.clone()));
        CanonicalRequest {
            endpoint: format!("{} {}", request.method, request.url),
            body,
            sample,
            unique_to: None,
            repeat: None,
        }
    }

    /// The canonical JSON text: compact, keys sorted at every depth.
    pub fn to_json(&self) -> String {
        let mut object = json!({"endpoint": self.endpoint, "body": self.body});
        if let (Some(sample), Some(map)) = (self.sample, object.as_object_mut()) {
            map.insert("sample".into(), json!(sample));
        }
        if let (Some(unique), Some(map)) = (&self.unique_to, object.as_object_mut()) {
            map.insert("unique_to".into(), json!(unique));
        }
        if let (Some(repeat), Some(map)) = (self.repeat, object.as_object_mut()) {
            map.insert("repeat".into(), json!(repeat));
        }
        object.to_string()
    }

    /// The request's address: the sha-256 of [`Self::to_json`], as 64 hex digits.
    pub fn hash(&self) -> String {
        sha256_hex(self.to_json().as_bytes())
    }

    /// The sampling temperature the body asks for; `None` when it names none (the provider's
    /// default, which is not 0).
    pub fn temperature(&self) -> Option<f64> {
        // NOTE: Gemini nests sampling settings under `generationConfig`
        // (https://ai.google.dev/api/generate-content#generationconfig); the other providers'
        // bodies carry `temperature` at the top level.
        self.body
            .get("temperature")
            .or_else(|| self.body.get("generationConfig")?.get("temperature"))
            .and_then(Value::as_f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(body: &str, key: &str) -> HttpRequest {
        HttpRequest {
            method: "POST".into(),
            url: "https://api.example/v1/chat/completions".into(),
            headers: vec![("authorization".into(), format!("Bearer {key}"))],
            body: body.into(),
        }
    }

    #[test]
    fn key_order_and_credentials_do_not_change_the_address() {
        let a = CanonicalRequest::of(&request(r#"{"model":"m","temperature":0}"#, "sk-1"), None);
        let b = CanonicalRequest::of(
            &request(r#"{ "temperature": 0, "model": "m" }"#, "sk-2"),
            None,
        );
        assert_eq!(a.hash(), b.hash());
        assert_eq!(
            a.to_json(),
            r#"{"body":{"model":"m","temperature":0},"endpoint":"POST https://api.example/v1/chat/completions"}"#
        );
        assert!(!a.to_json().contains("sk-"));
        assert_eq!(a.hash().len(), 64);
    }

    #[test]
    fn body_endpoint_and_sample_change_the_address() {
        let base = CanonicalRequest::of(&request(r#"{"model":"m"}"#, "k"), None);
        let other_body = CanonicalRequest::of(&request(r#"{"model":"n"}"#, "k"), None);
        let mut other_url = request(r#"{"model":"m"}"#, "k");
        other_url.url.push('x');
        let other_url = CanonicalRequest::of(&other_url, None);
        let sampled = CanonicalRequest::of(&request(r#"{"model":"m"}"#, "k"), Some(1));
        let hashes = [&base, &other_body, &other_url, &sampled].map(|c| c.hash());
        for (i, a) in hashes.iter().enumerate() {
            for b in &hashes[i + 1..] {
                assert_ne!(a, b);
            }
        }
    }

    #[test]
    fn reads_the_temperature_where_each_provider_puts_it() {
        let top = CanonicalRequest::of(&request(r#"{"temperature":0.0}"#, "k"), None);
        let gemini = CanonicalRequest::of(
            &request(r#"{"generationConfig":{"temperature":0.5}}"#, "k"),
            None,
        );
        let none = CanonicalRequest::of(&request("{}", "k"), None);
        assert_eq!(
            (top.temperature(), gemini.temperature(), none.temperature()),
            (Some(0.0), Some(0.5), None)
        );
    }
}
