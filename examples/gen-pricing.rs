//! Writes Trialogue's price table (`public/pricing.json`) from LiteLLM's
//! `model_prices_and_context_window.json`, with the import the app itself runs on a file a
//! user brings ([`PricingTable::from_litellm_file`]); `scripts/gen-pricing` calls it.
//!
//! Usage: `cargo run --example gen-pricing -- SOURCE [-o OUT] [--version VERSION]`
//!
//! OUT defaults to `public/pricing.json` (`-` for standard output). The LiteLLM version comes
//! from the file name (`..._1.110.2.json`) unless `--version` is given; a file whose name
//! carries none needs it.

use std::path::{Path, PathBuf};

use trialogue::core::pricing::PricingTable;

struct Args {
    source: PathBuf,
    out: String,
    version: Option<String>,
}

fn parse_args() -> Result<Args, String> {
    let mut args = std::env::args().skip(1);
    let (mut source, mut out, mut version) = (None, None, None);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "-o" | "--out" => out = Some(args.next().ok_or("-o needs a path (or -)")?),
            "--version" => version = Some(args.next().ok_or("--version needs a version")?),
            other if other.starts_with('-') && other != "-" => {
                return Err(format!("unknown option {other}"));
            }
            other if source.is_none() => source = Some(PathBuf::from(other)),
            other => return Err(format!("one source only, not also {other}")),
        }
    }
    let default_out = Path::new(env!("CARGO_MANIFEST_DIR")).join("public/pricing.json");
    Ok(Args {
        source: source.ok_or("which LiteLLM price file? (SOURCE)")?,
        out: out.unwrap_or_else(|| default_out.display().to_string()),
        version,
    })
}

fn run() -> Result<(), String> {
    let args = parse_args()?;
    let shown = args.source.display();
    let text = std::fs::read_to_string(&args.source).map_err(|e| format!("{shown}: {e}"))?;
    let file_name = args
        .source
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut table =
        PricingTable::from_litellm_file(&file_name, &text).map_err(|e| format!("{shown}: {e}"))?;
    match &args.version {
        Some(version) => table.set_version(version),
        None if table.header().version == "unknown" => {
            return Err(format!(
                "cannot tell the LiteLLM version from {file_name:?}; pass --version"
            ));
        }
        None => {}
    }
    let json = table.to_json();
    if args.out == "-" {
        print!("{json}");
    } else {
        std::fs::write(&args.out, json).map_err(|e| format!("{}: {e}", args.out))?;
        eprintln!(
            "gen-pricing: {} models, {} aliases -> {}",
            table.len(),
            table.aliases().len(),
            args.out
        );
    }
    Ok(())
}

fn main() {
    if let Err(message) = run() {
        eprintln!("gen-pricing: {message}");
        std::process::exit(1);
    }
}
