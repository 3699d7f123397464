//! What models cost: the price table (LiteLLM's, imported by [`PricingTable::from_litellm_file`]
//! into `public/pricing.json` by `examples/gen-pricing.rs`), the user's own prices, and the
//! lookup that turns a provider and a model name into rates and says where they came from.
//!
//! The table is a static asset the app fetches when it needs prices; it is not compiled into
//! the wasm. One concept per module:
//! - [`rates`]: one model's prices and the rates that apply to one request (tiers, batch,
//!   cache lifetimes), with [`off_peak`] for time-of-day prices;
//! - [`table`]: the table and its file; [`litellm`]: the import of LiteLLM's file;
//! - [`matching`]: which entry prices a name; [`overrides`]: the user's prices;
//! - [`pricer`]: what the app asks, overrides first, then the local rule, then the table.

pub mod error;
pub mod litellm;
pub mod matching;
pub mod off_peak;
pub mod overrides;
pub mod pricer;
pub mod rates;
pub mod table;

pub use error::{PricingError, PRICE_FILE_LIMITS};
pub use off_peak::{DaySpan, OffPeak, OffPeakWindow};
pub use overrides::{OverrideError, PriceOverrides, RateOverride};
pub use pricer::{FreeRule, Price, PriceSource, Pricer, Quote};
pub use rates::{
    BatchRates, BilledAt, EffectiveRates, ModelRates, RateField, RateSet, RateTier, Threshold,
};
pub use table::{PricingHeader, PricingTable, TableEntry};

/// Where the app fetches the generated table (trunk copies `public/` into the build as is).
pub const PRICING_ASSET_URL: &str = "/public/pricing.json";

/// The name of LiteLLM's price file, recorded in the table's header.
pub const LITELLM_SOURCE: &str = "LiteLLM model_prices_and_context_window.json";
