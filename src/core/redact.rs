//! Keeping API keys out of text: every error, excerpt and message that may be stored, shown or
//! exported passes a [`Redactor`] built from the configured keys.
//!
//! A provider or a proxy may echo the request, headers included, into an error body; that body
//! becomes an error excerpt in a stored step, an exported JSONL line and the run page. Redacting
//! where such text enters (the LLM client) keeps every later copy clean.

use std::borrow::Cow;

/// What a key is replaced with.
pub const REDACTED: &str = "[key redacted]";

/// Keys shorter than this are not redacted: they are placeholders (`none`, `EMPTY`, `x`) that
/// local servers accept, and replacing every such word would garble messages while hiding
/// nothing secret.
pub const MIN_SECRET_CHARS: usize = 6;

/// Replaces any of a set of secrets in text.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Redactor {
    /// Longest first, so a key that contains another is replaced whole.
    secrets: Vec<String>,
}

impl Redactor {
    /// A redactor of `secrets`, trimmed; blank and short ones ([`MIN_SECRET_CHARS`]) are
    /// dropped.
    pub fn new<'a>(secrets: impl IntoIterator<Item = &'a str>) -> Redactor {
        let mut secrets: Vec<String> = secrets
            .into_iter()
            .map(str::trim)
            .filter(|s| s.chars().count() >= MIN_SECRET_CHARS)
            .map(str::to_string)
            .collect();
        secrets.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
        secrets.dedup();
        Redactor { secrets }
    }

    /// Whether there is nothing to redact.
    pub fn is_empty(&self) -> bool {
        self.secrets.is_empty()
    }

    /// `text` with every occurrence of every secret replaced by [`REDACTED`]; borrowed when
    /// nothing matched.
    pub fn redact<'t>(&self, text: &'t str) -> Cow<'t, str> {
        let mut out = Cow::Borrowed(text);
        for secret in &self.secrets {
            if out.contains(secret.as_str()) {
                out = Cow::Owned(out.replace(secret.as_str(), REDACTED));
            }
        }
        out
    }

    /// [`Redactor::redact`] into an owned string, for fields that own their text.
    pub fn redact_owned(&self, text: String) -> String {
        match self.redact(&text) {
            Cow::Borrowed(_) => text,
            Cow::Owned(clean) => clean,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_every_occurrence_of_every_key_and_leaves_other_text() {
        let r = Redactor::new(["sk-abcdef123456", "  AIzaKEY999  ", "", "none"]);
        let text = "Authorization: Bearer sk-abcdef123456; x-goog-api-key: AIzaKEY999; \
                    again sk-abcdef123456; api_key=none";
        assert_eq!(
            r.redact(text),
            "Authorization: Bearer [key redacted]; x-goog-api-key: [key redacted]; \
             again [key redacted]; api_key=none"
        );
        assert!(matches!(r.redact("nothing here"), Cow::Borrowed(_)));
        assert_eq!(r.redact_owned("none".into()), "none");
    }

    #[test]
    fn a_key_containing_another_is_replaced_whole() {
        let r = Redactor::new(["secret", "secret-long-key"]);
        assert_eq!(r.redact("k=secret-long-key"), "k=[key redacted]");
        assert_eq!(r.redact("k=secret"), "k=[key redacted]");
    }

    #[test]
    fn placeholders_are_not_secrets() {
        assert!(Redactor::new(["", "x", "EMPTY", "none "]).is_empty());
    }
}
