//! Which servers a batch reaches over HTTP/1.1, where the browser caps the calls in flight.
//!
//! Browsers speak HTTP/2 only over TLS, so a provider whose base URL is plain `http://` (a
//! local llama.cpp, vLLM or Ollama server) is reached over HTTP/1.1, one call per connection.
//! Chromium opens at most [`HTTP1_CONNECTIONS_PER_HOST`] such connections per server, so calls
//! beyond that wait in the browser's own queue however high the batch's concurrency is.

use crate::core::config::PipelineConfig;
use crate::core::providers::{agent_providers, ProviderRegistry};

/// The most HTTP/1.1 connections Chromium opens to one server at a time: its socket pool's
/// per-group limit, `g_max_sockets_per_group` (6 for normal sockets) in Chromium's
/// `net/socket/client_socket_pool_manager.cc`
/// (<https://chromium.googlesource.com/chromium/src/+/main/net/socket/client_socket_pool_manager.cc>).
/// Firefox's `network.http.max-persistent-connections-per-server` is 6 as well.
pub const HTTP1_CONNECTIONS_PER_HOST: u32 = 6;

/// A provider the batch's agents call over plain `http://`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Http1Server {
    /// The provider's id (`local`, or a custom one).
    pub provider: String,
    /// Its base URL.
    pub base_url: String,
}

/// The providers of `config`'s solver, verifier and judge whose base URL in `registry` is plain
/// `http://`, each once in agent order, when `concurrency` is above
/// [`HTTP1_CONNECTIONS_PER_HOST`]; empty otherwise (and for models that name no provider, which
/// the config check reports).
pub fn http1_bottlenecks(
    config: &PipelineConfig,
    registry: &ProviderRegistry,
    concurrency: u32,
) -> Vec<Http1Server> {
    if concurrency <= HTTP1_CONNECTIONS_PER_HOST {
        return Vec::new();
    }
    let mut out: Vec<Http1Server> = Vec::new();
    for provider in agent_providers(registry, config) {
        let plain = provider
            .base_url
            .trim()
            .get(..7)
            .is_some_and(|scheme| scheme.eq_ignore_ascii_case("http://"));
        if plain {
            out.push(Http1Server {
                provider: provider.id.clone(),
                base_url: provider.base_url.clone(),
            });
        }
    }
    out
}
