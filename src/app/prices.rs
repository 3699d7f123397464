//! What the user set about prices: their own price per model and the custom providers they
//! marked local (free), and the pricer these make over a price table.

use std::collections::BTreeSet;
use std::rc::Rc;

use serde::{Deserialize, Serialize};

use crate::core::pricing::{PriceOverrides, Pricer, PricingTable};
use crate::core::providers::{ProviderRegistry, LOCAL_ID};

/// What the user set about prices.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PriceSettings {
    /// Their prices per model string, applied before the table.
    #[serde(default)]
    pub overrides: PriceOverrides,
    /// Custom provider ids whose models are free (local servers). The built-in `local`
    /// provider is not listed: it is free while its base URL is on this machine.
    #[serde(default)]
    pub local_providers: BTreeSet<String>,
}

impl PriceSettings {
    /// A pricer over `table` with these prices and local providers, the built-in `local`
    /// provider being free only while `registry` points it at a loopback address.
    pub fn pricer(&self, table: Option<Rc<PricingTable>>, registry: &ProviderRegistry) -> Pricer {
        let mut pricer = Pricer::new(table, self.overrides.clone());
        if let Some(local) = registry.get(LOCAL_ID) {
            pricer.set_local_server_url(&local.base_url);
        }
        for id in &self.local_providers {
            pricer.set_local(id, true);
        }
        pricer
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::pricing::{FreeRule, Price, PriceSource};

    #[test]
    fn stored_settings_read_back_and_price_local_providers_free() {
        let text = r#"{"overrides":{"mystery/x":{"input_per_million":1.0,"output_per_million":2.0}},"local_providers":["my-vllm"]}"#;
        let settings: PriceSettings = serde_json::from_str(text).unwrap();
        assert_eq!(serde_json::to_string(&settings).unwrap(), text);
        let mut registry = ProviderRegistry::builtin();
        let pricer = settings.pricer(None, &registry);
        let free = pricer.price_of("my-vllm", "qwen");
        assert_eq!(
            free.source(),
            Some(&PriceSource::LocalFree {
                provider: "my-vllm".into(),
                rule: FreeRule::MarkedLocal
            })
        );
        assert_eq!(
            pricer.price_of("local", "smollm2").source(),
            Some(&PriceSource::LocalFree {
                provider: "local".into(),
                rule: FreeRule::Loopback {
                    base_url: "http://127.0.0.1:8091/v1".into()
                }
            }),
            "the built-in local provider is free at its loopback address without being listed"
        );
        // Pointed at another machine, it is priced like any provider: unknown here.
        if let Some(local) = registry.providers.iter_mut().find(|p| p.id == LOCAL_ID) {
            local.base_url = "https://llm.example.com/v1".into();
        }
        let remote = settings.pricer(None, &registry);
        assert_eq!(remote.price_of("local", "smollm2"), Price::Unknown);
        let mine = pricer.price_of("", "mystery/x");
        assert_eq!(
            mine.quote().map(|q| (q.rates.input, q.rates.output)),
            Some((1e-6, 2e-6))
        );
        // No table loaded: anything else is unknown, not free.
        assert_eq!(pricer.price_of("openai", "gpt-4o"), Price::Unknown);
        // Missing fields are defaults; a negative stored price is refused.
        assert_eq!(
            serde_json::from_str::<PriceSettings>("{}").unwrap(),
            PriceSettings::default()
        );
        assert!(serde_json::from_str::<PriceSettings>(
            r#"{"overrides":{"x":{"input_per_million":-1,"output_per_million":0}}}"#
        )
        .is_err());
    }
}
