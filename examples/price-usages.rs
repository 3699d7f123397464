//! Prices calls the way the app does, for the differential test against LiteLLM
//! (`tests/litellm/test_completion_cost.py`).
//!
//! Usage: `cargo run --example price-usages -- PRICING_JSON < cases.jsonl`
//!
//! Each input line is `{"id": …, "model": "<configured model string>", "usage": {<Usage>},
//! "at": "<ISO 8601 instant the call was billed>"}`; each output line is
//! `{"id": …, "usd": <cost or null>, "source": "<which entry priced it>"}`.

use std::io::{BufRead, Write};
use std::rc::Rc;

use serde::{Deserialize, Serialize};
use trialogue::core::clock::parse_iso8601;
use trialogue::core::cost::cost_at;
use trialogue::core::llm::Usage;
use trialogue::core::pricing::{Price, PriceOverrides, Pricer, PricingTable};

#[derive(Deserialize)]
struct Case {
    id: String,
    model: String,
    usage: Usage,
    at: String,
}

#[derive(Serialize)]
struct Priced {
    id: String,
    usd: Option<f64>,
    source: Option<String>,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args()
        .nth(1)
        .ok_or("usage: price-usages PRICING_JSON < cases.jsonl")?;
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{path}: {e}"))?;
    let table = PricingTable::from_json(&text).map_err(|e| format!("{path}: {e}"))?;
    let pricer = Pricer::new(Some(Rc::new(table)), PriceOverrides::new());
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    for (n, line) in std::io::stdin().lock().lines().enumerate() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        let case: Case =
            serde_json::from_str(&line).map_err(|e| format!("input line {}: {e}", n + 1))?;
        let price = pricer.price_of("", &case.model);
        let priced = Priced {
            usd: match &price {
                Price::Known(quote) => {
                    let at = parse_iso8601(&case.at)
                        .ok_or_else(|| format!("input line {}: no instant in `at`", n + 1))?;
                    Some(cost_at(&case.usage, &quote.rates, Some(at)).total_usd)
                }
                Price::Unknown => None,
            },
            source: price.source().map(ToString::to_string),
            id: case.id,
        };
        writeln!(out, "{}", serde_json::to_string(&priced)?)?;
    }
    Ok(())
}
