//! Provider settings: where each LLM provider lives, which API family it speaks, how it is asked
//! for structured output, and the registry of built-in and custom providers.
//!
//! API keys travel with the settings in memory but are never serialized with them; the browser
//! edge stores them apart.

use serde::{Deserialize, Serialize};

use crate::core::config::PipelineConfig;
use crate::core::llm::chat::StructuredMode;
use crate::core::model::resolve_model;
use crate::core::redact::Redactor;

/// The API family a provider speaks; decides which adapter builds requests and reads replies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProviderKind {
    /// OpenAI chat completions, and servers that copy it (OpenRouter, llama.cpp, vLLM, Ollama).
    #[serde(rename = "openai_compatible")]
    OpenAiCompatible,
    /// Anthropic Messages API.
    Anthropic,
    /// Cohere Chat API v2.
    Cohere,
    /// Google Gemini `generateContent`.
    Gemini,
}

impl ProviderKind {
    /// A short human name of the API family.
    pub fn label(self) -> &'static str {
        match self {
            ProviderKind::OpenAiCompatible => "OpenAI-compatible",
            ProviderKind::Anthropic => "Anthropic",
            ProviderKind::Cohere => "Cohere",
            ProviderKind::Gemini => "Gemini",
        }
    }
}

/// One provider the app can call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProviderSettings {
    /// Stable identifier (`openai`, `local`, `my-vllm`): `[a-z0-9_-]+`. Model strings are
    /// prefixed with it (`local/smollm2-135m`).
    pub id: String,
    /// Name shown in the UI.
    pub label: String,
    /// The API family.
    pub kind: ProviderKind,
    /// API root, without the endpoint path (`https://api.openai.com/v1`).
    pub base_url: String,
    /// The API key; empty when none is needed (local servers) or none is set yet.
    /// Never serialized with the settings: keys are stored apart.
    #[serde(skip)]
    pub api_key: String,
    /// The user's choice of structured-output mechanism; `None` means the provider's default
    /// (see [`ProviderSettings::effective_structured_mode`]).
    #[serde(default)]
    pub structured_mode: Option<StructuredMode>,
    /// Shipped with the app (cannot be removed, only edited).
    #[serde(default)]
    pub builtin: bool,
    /// The user's choice of streaming replies; `None` means the provider's default (see
    /// [`ProviderSettings::streams`]). Off suits proxies that buffer server-sent events.
    #[serde(default)]
    pub streaming: Option<bool>,
    /// The user's word that this OpenAI-compatible server implements OpenAI's batch endpoints
    /// (`/files`, `/batches`); `None` means the provider's default (see
    /// [`ProviderSettings::batch_api`]). Other families' batch APIs are known by their kind.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch_endpoints: Option<bool>,
}

/// The id of the built-in OpenAI provider.
pub const OPENAI_ID: &str = "openai";

/// The id of the built-in local OpenAI-compatible server.
pub const LOCAL_ID: &str = "local";

impl ProviderSettings {
    /// The structured-output mechanism to use: the user's override if set, else the provider's
    /// default — [`StructuredMode::Native`] for OpenAI, OpenRouter, Anthropic, Cohere, Gemini and
    /// custom OpenAI-compatible servers; [`StructuredMode::JsonObjectSchema`] for the built-in
    /// local server (llama.cpp / llama-cpp-python take the schema inside `json_object`).
    pub fn effective_structured_mode(&self) -> StructuredMode {
        match self.structured_mode {
            Some(mode) => mode,
            None if self.builtin && self.id == LOCAL_ID => StructuredMode::JsonObjectSchema,
            None => StructuredMode::Native,
        }
    }

    /// Whether replies are streamed: the user's choice if set, else on for every provider but
    /// the built-in local server.
    // NOTE: llama-cpp-python's streamed chunks carry no `usage` (its chunk conversion in
    // llama_cpp/llama_chat_format.py builds none, and it ignores `stream_options`), so a streamed
    // local step would lose its token counts; a llama.cpp `llama-server` can be switched on.
    pub fn streams(&self) -> bool {
        self.streaming
            .unwrap_or(!(self.builtin && self.id == LOCAL_ID))
    }

    /// Whether an OpenAI-compatible provider takes OpenAI's batch endpoints: the user's word if
    /// given, else only the built-in OpenAI provider does (vLLM and most proxies do not).
    pub fn batch_api(&self) -> bool {
        self.batch_endpoints
            .unwrap_or(self.builtin && self.id == OPENAI_ID)
    }

    /// Problems that make these settings unusable, each as a sentence; empty when valid.
    ///
    /// The id must match `[a-z0-9_-]+`; the label must not be blank; the base URL must be an
    /// absolute `http(s)` URL without query or fragment, and use `https` unless the host is one
    /// of [`PLAIN_HTTP_HOSTS`] (this machine, as the page's content security policy allows) —
    /// keys must not cross the network in clear text. The client refuses to send with settings
    /// this rejects.
    pub fn validate(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if self.id.is_empty()
            || !self
                .id
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
        {
            problems.push(format!(
                "id \"{}\" must use only lowercase letters, digits, '_' and '-'",
                self.id
            ));
        }
        if self.label.trim().is_empty() {
            problems.push("label must not be empty".to_string());
        }
        if let Err(problem) = check_base_url(&self.base_url) {
            problems.push(problem);
        }
        problems
    }
}

/// Checks a base URL; the error is a sentence naming what is wrong.
fn check_base_url(url: &str) -> Result<(), String> {
    let trimmed = url.trim();
    if trimmed.is_empty() {
        return Err("base URL must not be empty".to_string());
    }
    if trimmed.chars().any(char::is_whitespace) {
        return Err(format!("base URL \"{url}\" must not contain spaces"));
    }
    let lower = trimmed.to_ascii_lowercase();
    let (secure, rest) = if let Some(rest) = lower.strip_prefix("https://") {
        (true, rest)
    } else if let Some(rest) = lower.strip_prefix("http://") {
        (false, rest)
    } else {
        return Err(format!(
            "base URL \"{url}\" must start with https:// (or http:// for a server on this machine)"
        ));
    };
    if rest.contains(['?', '#']) {
        return Err(format!(
            "base URL \"{url}\" must not contain a query (?) or fragment (#)"
        ));
    }
    let authority = rest.split('/').next().unwrap_or_default();
    if authority.contains('@') {
        return Err(format!(
            "base URL \"{url}\" must not carry credentials; put the key in the API key field"
        ));
    }
    let host = host_of(authority).ok_or_else(|| format!("base URL \"{url}\" has no valid host"))?;
    if !secure && !PLAIN_HTTP_HOSTS.contains(&host) {
        return Err(format!(
            "base URL \"{url}\" must use https:// unless the server runs on this machine at \
             localhost or 127.0.0.1 (the only plain-http hosts this page may call)"
        ));
    }
    Ok(())
}

/// The hosts a base URL may reach over plain `http`, on any port: exactly the `http://` sources
/// of the `connect-src` in `index.html`'s content security policy. CSP source expressions cannot
/// name an IPv6 literal, and listing all of `127.0.0.0/8` would take a source per address, so
/// `[::1]` and `127.0.0.2` need `https` like any other host.
pub const PLAIN_HTTP_HOSTS: [&str; 2] = ["localhost", "127.0.0.1"];

/// The host of `host[:port]` or `[v6][:port]`, if the port (when present) is a valid number.
fn host_of(authority: &str) -> Option<&str> {
    let (host, port) = if let Some(rest) = authority.strip_prefix('[') {
        let end = rest.find(']')?;
        let after = &rest[end + 1..];
        let port = match after {
            "" => None,
            _ => Some(after.strip_prefix(':')?),
        };
        (&authority[..end + 2], port)
    } else {
        match authority.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        }
    };
    if host.is_empty() || host == "[]" {
        return None;
    }
    if let Some(port) = port {
        if port.is_empty() || !port.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        port.parse::<u16>().ok()?;
    }
    Some(host)
}

/// Whether `url` is an `http(s)` URL whose host is a loopback address (`127.0.0.0/8`,
/// `localhost`, `[::1]`): a server on this machine.
pub fn is_loopback_url(url: &str) -> bool {
    let lower = url.trim().to_ascii_lowercase();
    let Some(rest) = lower
        .strip_prefix("https://")
        .or_else(|| lower.strip_prefix("http://"))
    else {
        return false;
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    !authority.contains('@') && host_of(authority).is_some_and(is_loopback)
}

/// `localhost`, `127.0.0.0/8` or `[::1]` (the host is already lowercase).
fn is_loopback(host: &str) -> bool {
    if host == "localhost" || host == "[::1]" {
        return true;
    }
    let octets: Vec<&str> = host.split('.').collect();
    octets.len() == 4
        && octets[0] == "127"
        && octets
            .iter()
            .all(|o| !o.is_empty() && o.len() <= 3 && o.parse::<u8>().is_ok())
}

/// All providers the user can pick from: the built-ins plus any custom ones.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProviderRegistry {
    /// Providers in display order; ids are unique.
    pub providers: Vec<ProviderSettings>,
}

impl Default for ProviderRegistry {
    fn default() -> Self {
        Self::builtin()
    }
}

impl ProviderRegistry {
    /// A [`Redactor`] of every configured API key, for text that may be stored, shown or
    /// exported.
    pub fn redactor(&self) -> Redactor {
        Redactor::new(self.providers.iter().map(|p| p.api_key.as_str()))
    }

    /// The providers shipped with the app, without keys: OpenAI, Anthropic, Cohere, Gemini,
    /// OpenRouter, and a local OpenAI-compatible server on `http://127.0.0.1:8091/v1`.
    pub fn builtin() -> Self {
        let make = |id: &str, label: &str, kind, base_url: &str| ProviderSettings {
            id: id.to_string(),
            label: label.to_string(),
            kind,
            base_url: base_url.to_string(),
            api_key: String::new(),
            structured_mode: None,
            builtin: true,
            streaming: None,
            batch_endpoints: None,
        };
        use ProviderKind::*;
        ProviderRegistry {
            providers: vec![
                make(
                    "openai",
                    "OpenAI",
                    OpenAiCompatible,
                    "https://api.openai.com/v1",
                ),
                make(
                    "anthropic",
                    "Anthropic",
                    Anthropic,
                    "https://api.anthropic.com/v1",
                ),
                make("cohere", "Cohere", Cohere, "https://api.cohere.com/v2"),
                make(
                    "gemini",
                    "Google Gemini",
                    Gemini,
                    "https://generativelanguage.googleapis.com/v1beta",
                ),
                make(
                    "openrouter",
                    "OpenRouter",
                    OpenAiCompatible,
                    "https://openrouter.ai/api/v1",
                ),
                make(
                    LOCAL_ID,
                    "Local (llama.cpp / vLLM / Ollama)",
                    OpenAiCompatible,
                    "http://127.0.0.1:8091/v1",
                ),
            ],
        }
    }

    /// The provider with this id.
    pub fn get(&self, id: &str) -> Option<&ProviderSettings> {
        self.providers.iter().find(|p| p.id == id)
    }

    /// Ids of the providers the user added, in order.
    pub fn custom_ids(&self) -> Vec<&str> {
        self.providers
            .iter()
            .filter(|p| !p.builtin)
            .map(|p| p.id.as_str())
            .collect()
    }

    /// Adds the provider, or replaces the one with the same id in place.
    ///
    /// A built-in provider stays built-in and keeps its API family: only its label, base URL,
    /// key and structured mode can be edited. New entries are custom unless marked built-in.
    pub fn upsert(&mut self, settings: ProviderSettings) {
        match self.providers.iter_mut().find(|p| p.id == settings.id) {
            Some(existing) if existing.builtin => {
                let kind = existing.kind;
                *existing = ProviderSettings {
                    kind,
                    builtin: true,
                    ..settings
                };
            }
            Some(existing) => *existing = settings,
            None => self.providers.push(settings),
        }
    }

    /// Removes a custom provider; built-ins and unknown ids are left alone (returns `false`).
    pub fn remove_custom(&mut self, id: &str) -> bool {
        let before = self.providers.len();
        self.providers.retain(|p| p.builtin || p.id != id);
        self.providers.len() != before
    }
}

/// The providers `config`'s solver, verifier and judge call, each once, in agent order. Models
/// that name no provider here are left out (the config check reports them). The verifier
/// counts whatever the mode: a batch may run both modes on one config.
pub fn agent_providers<'a>(
    registry: &'a ProviderRegistry,
    config: &PipelineConfig,
) -> Vec<&'a ProviderSettings> {
    let custom = registry.custom_ids();
    let mut out: Vec<&ProviderSettings> = Vec::new();
    for model in [
        &config.solver.model,
        &config.verifier.model,
        &config.judge.model,
    ] {
        let provider = resolve_model(model, &custom)
            .ok()
            .and_then(|m| registry.get(&m.provider));
        if let Some(provider) = provider {
            if !out.iter().any(|p| p.id == provider.id) {
                out.push(provider);
            }
        }
    }
    out
}

/// The origins (`scheme://host[:port]`) `config`'s agents call ([`agent_providers`]), each
/// once: what a page can open connections to before the first call.
pub fn call_origins(registry: &ProviderRegistry, config: &PipelineConfig) -> Vec<String> {
    let mut origins: Vec<String> = Vec::new();
    for provider in agent_providers(registry, config) {
        if let Some(origin) = origin_of(&provider.base_url) {
            if !origins.contains(&origin) {
                origins.push(origin);
            }
        }
    }
    origins
}

/// The origin of an `http` or `https` URL, lower-cased; `None` for any other scheme, or a URL
/// with credentials or no host.
pub fn origin_of(url: &str) -> Option<String> {
    let (scheme, rest) = url.trim().split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    if scheme != "http" && scheme != "https" {
        return None;
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if authority.is_empty() || authority.contains('@') {
        return None;
    }
    Some(format!("{scheme}://{}", authority.to_ascii_lowercase()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn custom(id: &str, base_url: &str) -> ProviderSettings {
        ProviderSettings {
            id: id.to_string(),
            label: "Mine".to_string(),
            kind: ProviderKind::OpenAiCompatible,
            base_url: base_url.to_string(),
            api_key: String::new(),
            structured_mode: None,
            builtin: false,
            streaming: None,
            batch_endpoints: None,
        }
    }

    #[test]
    fn builtin_defaults() {
        let reg = ProviderRegistry::builtin();
        let ids: Vec<&str> = reg.providers.iter().map(|p| p.id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "openai",
                "anthropic",
                "cohere",
                "gemini",
                "openrouter",
                "local"
            ]
        );
        let url = |id| reg.get(id).map(|p| p.base_url.as_str());
        assert_eq!(url("openai"), Some("https://api.openai.com/v1"));
        assert_eq!(url("anthropic"), Some("https://api.anthropic.com/v1"));
        assert_eq!(url("cohere"), Some("https://api.cohere.com/v2"));
        assert_eq!(
            url("gemini"),
            Some("https://generativelanguage.googleapis.com/v1beta")
        );
        assert_eq!(url("openrouter"), Some("https://openrouter.ai/api/v1"));
        assert_eq!(url("local"), Some("http://127.0.0.1:8091/v1"));
        assert_eq!(
            reg.get("local").map(|p| p.kind),
            Some(ProviderKind::OpenAiCompatible)
        );
        assert!(reg
            .get("local")
            .is_some_and(|p| p.label.contains("llama.cpp")));
        assert_eq!(
            reg.get("gemini").map(|p| p.kind),
            Some(ProviderKind::Gemini)
        );
        for p in &reg.providers {
            assert!(p.builtin && p.api_key.is_empty(), "{}", p.id);
            assert!(p.validate().is_empty(), "{}: {:?}", p.id, p.validate());
        }
        assert!(reg.custom_ids().is_empty());
    }

    #[test]
    fn structured_mode_defaults_and_override() {
        let reg = ProviderRegistry::builtin();
        for id in ["openai", "openrouter", "anthropic", "cohere", "gemini"] {
            let mode = reg.get(id).map(|p| p.effective_structured_mode());
            assert_eq!(mode, Some(StructuredMode::Native), "{id}");
        }
        let local = reg.get("local").cloned().unwrap_or_else(|| custom("x", ""));
        assert_eq!(
            local.effective_structured_mode(),
            StructuredMode::JsonObjectSchema
        );
        let mine = custom("my-vllm", "http://localhost:8000/v1");
        assert_eq!(mine.effective_structured_mode(), StructuredMode::Native);
        let overridden = ProviderSettings {
            structured_mode: Some(StructuredMode::PromptOnly),
            ..mine
        };
        assert_eq!(
            overridden.effective_structured_mode(),
            StructuredMode::PromptOnly
        );
        // A custom provider that merely reuses the id "local" is not the built-in one.
        assert_eq!(
            custom("local", "http://127.0.0.1:1/v1").effective_structured_mode(),
            StructuredMode::Native
        );
    }

    #[test]
    fn validate_urls() {
        let ok = [
            "https://api.example.com/v1",
            "http://localhost:8080/v1",
            "http://LOCALHOST/v1",
            "http://127.0.0.1:8091/v1",
            "https://127.255.3.4",
            "https://[::1]:9000/v1",
            "https://10.0.0.5:8443/v1",
        ];
        for url in ok {
            assert!(custom("a", url).validate().is_empty(), "{url}");
        }
        let bad = [
            ("", "must not be empty"),
            ("ftp://example.com", "must start with https://"),
            ("api.openai.com/v1", "must start with https://"),
            ("http://example.com/v1", "must use https://"),
            ("http://192.168.1.10:8000/v1", "must use https://"),
            ("http://128.0.0.1/v1", "must use https://"),
            // Loopback, but the page's content security policy blocks plain http to them.
            ("http://127.255.3.4", "must use https://"),
            ("http://[::1]:9000/v1", "must use https://"),
            ("http://localhost.evil.com/v1", "must use https://"),
            ("https://example.com/v1?x=1", "query"),
            ("https://user:pw@example.com/v1", "credentials"),
            ("https://example.com:99999/v1", "no valid host"),
            ("https:///v1", "no valid host"),
            ("https://exa mple.com", "spaces"),
        ];
        for (url, expected) in bad {
            let problems = custom("a", url).validate();
            assert_eq!(problems.len(), 1, "{url}: {problems:?}");
            assert!(problems[0].contains(expected), "{url}: {problems:?}");
        }
    }

    #[test]
    fn validate_id_and_label() {
        for id in ["my-server", "a_1", "x"] {
            assert!(custom(id, "https://a.b").validate().is_empty(), "{id}");
        }
        for id in ["", "My", "a b", "a/b", "é"] {
            let problems = custom(id, "https://a.b").validate();
            assert!(problems.iter().any(|p| p.contains("id")), "{id:?}");
        }
        let blank = ProviderSettings {
            label: "  ".into(),
            ..custom("a", "https://a.b")
        };
        assert_eq!(blank.validate(), ["label must not be empty"]);
    }

    #[test]
    fn api_key_is_never_serialized() {
        let mut p = custom("mine", "https://a.b/v1");
        p.api_key = "sk-secret-123".into();
        p.structured_mode = Some(StructuredMode::JsonObjectSchema);
        let json = serde_json::to_string(&p).unwrap_or_default();
        assert!(!json.contains("sk-secret"), "{json}");
        assert!(json.contains("\"kind\":\"openai_compatible\""), "{json}");
        assert!(
            json.contains("\"structured_mode\":\"json_object_schema\""),
            "{json}"
        );
        let back: ProviderSettings = serde_json::from_str(&json).unwrap_or_else(|_| custom("", ""));
        assert_eq!(back.api_key, "");
        assert_eq!(back.id, "mine");
        assert_eq!(back.structured_mode, Some(StructuredMode::JsonObjectSchema));
    }

    #[test]
    fn upsert_and_remove() {
        let mut reg = ProviderRegistry::builtin();
        reg.upsert(custom("mine", "https://a.b/v1"));
        reg.upsert(custom("other", "https://c.d/v1"));
        assert_eq!(reg.custom_ids(), ["mine", "other"]);
        reg.upsert(custom("mine", "https://changed/v1"));
        assert_eq!(reg.custom_ids(), ["mine", "other"]);
        assert_eq!(
            reg.get("mine").map(|p| p.base_url.as_str()),
            Some("https://changed/v1")
        );

        // Editing a built-in keeps it built-in and keeps its family.
        let mut edited = custom("anthropic", "https://proxy.example/v1");
        edited.api_key = "k".into();
        reg.upsert(edited);
        let anthropic = reg.get("anthropic").cloned();
        assert_eq!(anthropic.as_ref().map(|p| p.builtin), Some(true));
        assert_eq!(
            anthropic.as_ref().map(|p| p.kind),
            Some(ProviderKind::Anthropic)
        );
        assert_eq!(anthropic.map(|p| p.api_key), Some("k".to_string()));

        assert!(!reg.remove_custom("anthropic"));
        assert!(reg.get("anthropic").is_some());
        assert!(!reg.remove_custom("nope"));
        assert!(reg.remove_custom("mine"));
        assert_eq!(reg.custom_ids(), ["other"]);
    }

    #[test]
    fn an_origin_is_the_scheme_and_authority_of_an_http_url() {
        assert_eq!(
            origin_of("https://API.openai.com/v1/").as_deref(),
            Some("https://api.openai.com")
        );
        assert_eq!(
            origin_of(" http://127.0.0.1:8091/v1").as_deref(),
            Some("http://127.0.0.1:8091")
        );
        assert_eq!(
            origin_of("http://[::1]:8000?x").as_deref(),
            Some("http://[::1]:8000")
        );
        for refused in [
            "ftp://host/x",
            "https://",
            "https://user:pw@host/v1",
            "api.openai.com/v1",
        ] {
            assert_eq!(origin_of(refused), None, "{refused}");
        }
    }

    #[test]
    fn call_origins_are_the_agents_providers_origins_each_once() {
        let mut registry = ProviderRegistry::builtin();
        registry.upsert(ProviderSettings {
            id: "lab".into(),
            label: "Lab".into(),
            kind: ProviderKind::OpenAiCompatible,
            base_url: "https://vllm.lab.example:8443/v1".into(),
            api_key: String::new(),
            structured_mode: None,
            builtin: false,
            streaming: None,
            batch_endpoints: None,
        });
        let mut config = PipelineConfig::default();
        config.solver.model = "anthropic/claude-sonnet-4-5".into();
        config.verifier.model = "lab/qwen3".into();
        config.judge.model = "anthropic/claude-haiku-4-5".into();
        assert_eq!(
            call_origins(&registry, &config),
            vec!["https://api.anthropic.com", "https://vllm.lab.example:8443"]
        );
        // An unknown provider is left out; two providers on one origin give it once.
        config.judge.model = "nowhere/model".into();
        config.verifier.model = "anthropic/claude-haiku-4-5".into();
        assert_eq!(
            call_origins(&registry, &config),
            vec!["https://api.anthropic.com"]
        );
    }
}
