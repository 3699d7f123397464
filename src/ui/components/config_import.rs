//! Importing a config from a file or from pasted text.
//!
//! A failed import leaves the form exactly as it was. A config that reads but has problems
//! (a bad range, an unknown placeholder) is loaded, and the problems show next to their fields
//! as they would while typing, so the user can fix them in place.

use leptos::prelude::*;
use leptos::wasm_split::{wasm_split, SplitLoaderError};
use web_sys::File;

use crate::core::config::{
    parse_json_config, parse_yaml_config, ConfigError, ConfigFormat, ParsedConfig,
};
use crate::ui::config_form::ConfigForm;
use crate::ui::job::Job;
use crate::web::file::{clear_picked, picked_file, read_bytes, FileReadError, MAX_CONFIG_BYTES};

use super::notice::{ErrorText, WarningText};

/// Why an import did not change the form.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImportError {
    /// The file could not be read (too large, or the browser failed).
    #[error(transparent)]
    File(#[from] FileReadError),
    /// The text is not a config.
    #[error("could not import {source_name}: {error}")]
    Parse {
        /// The file name, or `the pasted text`.
        source_name: String,
        /// What the parser said (with line and column when it has them).
        error: ConfigError,
    },
    /// The paste box is empty.
    #[error("paste a YAML or JSON config into the box first")]
    NothingPasted,
    /// The YAML reader, which the page fetches the first time it is needed, did not load.
    #[error(
        "could not import {source_name}: the YAML reader could not be loaded from the server \
         Trialogue is served from. Check the connection and try again; JSON imports need nothing \
         more"
    )]
    YamlReaderUnavailable {
        /// The file name, or `the pasted text`.
        source_name: String,
    },
}

/// Where a config to import comes from.
#[derive(Clone)]
enum Source {
    File(File),
    Pasted(String),
}

impl Source {
    fn name(&self) -> String {
        match self {
            Source::File(file) => file.name(),
            Source::Pasted(_) => "the pasted text".to_string(),
        }
    }
}

/// How the last import went.
#[derive(Debug, Clone, PartialEq)]
enum Outcome {
    Imported {
        source_name: String,
        warnings: Vec<String>,
        problems: usize,
    },
    Failed(ImportError),
}

/// The YAML reader is split off the first page's wasm: most configs are JSON or typed in the
/// form, and the reader is a sizable part of the code.
#[wasm_split(yaml_config_reader, wasm_split_path = ::leptos::wasm_split, fallible)]
fn read_yaml_config(bytes: Vec<u8>) -> Result<Result<ParsedConfig, ConfigError>, SplitLoaderError> {
    Ok(parse_yaml_config(&bytes))
}

/// Parses `bytes` and, only when that works, replaces the form with the result.
async fn import(
    form: ConfigForm,
    source_name: String,
    bytes: Vec<u8>,
    format: ConfigFormat,
) -> Outcome {
    let parsed = match format {
        ConfigFormat::Json => parse_json_config(&bytes),
        ConfigFormat::Yaml => match read_yaml_config(bytes).await {
            Ok(parsed) => parsed,
            Err(_) => return Outcome::Failed(ImportError::YamlReaderUnavailable { source_name }),
        },
    };
    match parsed {
        Ok(parsed) => {
            form.replace(&parsed.config);
            let problems = form.check().with_untracked(|c| c.errors.len());
            Outcome::Imported {
                source_name,
                warnings: parsed.warnings,
                problems,
            }
        }
        Err(error) => Outcome::Failed(ImportError::Parse { source_name, error }),
    }
}

/// The file picker (`config-import`) and the paste box.
#[component]
pub fn ConfigImport() -> impl IntoView {
    let form = expect_context::<ConfigForm>();
    let (pasted, set_pasted) = signal(String::new());
    let importer = Job::<Outcome>::new();
    // The name of what is being read, while it is.
    let reading = RwSignal::new(String::new());
    let start = move |source: Source| {
        let name = source.name();
        reading.set(name.clone());
        importer.run(async move {
            match source {
                Source::File(file) => match read_bytes(&file, MAX_CONFIG_BYTES).await {
                    Ok(bytes) => {
                        let format = ConfigFormat::from_file_name(&name).unwrap_or_else(|| {
                            ConfigFormat::sniff(&String::from_utf8_lossy(&bytes))
                        });
                        import(form, name, bytes, format).await
                    }
                    Err(e) => Outcome::Failed(e.into()),
                },
                Source::Pasted(text) if text.trim().is_empty() => {
                    Outcome::Failed(ImportError::NothingPasted)
                }
                Source::Pasted(text) => {
                    let format = ConfigFormat::sniff(&text);
                    let result = import(form, name, text.into_bytes(), format).await;
                    if matches!(result, Outcome::Imported { .. }) {
                        set_pasted.set(String::new());
                    }
                    result
                }
            }
        });
    };
    let on_file = move |ev: leptos::ev::Event| {
        let Some(file) = picked_file(&ev) else {
            return;
        };
        clear_picked(&ev);
        start(Source::File(file));
    };
    let on_paste_import = move |_| start(Source::Pasted(pasted.get_untracked()));

    let report = move || {
        if importer.going() {
            let name = reading.get();
            return Some(
                view! { <p class="muted" role="status">{format!("Reading {name}…")}</p> }
                    .into_any(),
            );
        }
        importer.outcome().get().map(|o| match o {
            Outcome::Failed(e) => view! {
                <ErrorText message=e.to_string()/>
                <p class="muted">"The form was not changed."</p>
            }
            .into_any(),
            Outcome::Imported {
                source_name,
                warnings,
                problems,
            } => {
                let summary = match problems {
                    0 => format!("Imported {source_name}."),
                    1 => format!("Imported {source_name}; 1 field needs fixing, marked below."),
                    n => format!("Imported {source_name}; {n} fields need fixing, marked below."),
                };
                view! {
                    <p class="ok-text" role="status">{summary}</p>
                    {warnings
                        .into_iter()
                        .map(|w| view! { <WarningText message=w/> })
                        .collect_view()}
                }
                .into_any()
            }
        })
    };

    view! {
        <section class="card" aria-labelledby="import-title">
            <h2 class="section-label" id="import-title">"Import"</h2>
            <label class="btn file-button">
                <input type="file" class="visually-hidden" data-testid="config-import"
                    accept=".yaml,.yml,.json" on:change=on_file/>
                <span>"Choose a YAML or JSON file…"</span>
            </label>
            <p class="muted import-hint">"Configs from the original pipeline read as they are; up to 1 MiB."</p>
            <div class="field paste-field">
                <label for="config-paste">"Or paste one"</label>
                <textarea id="config-paste" class="input mono" rows="4" spellcheck="false"
                    placeholder="config_version: \"1\"\nsolver:\n  role: solver\n  …"
                    prop:value=pasted on:input=move |ev| set_pasted.set(event_target_value(&ev))></textarea>
            </div>
            <div class="btn-group paste-actions">
                <button type="button" class="btn btn-sm" on:click=on_paste_import>"Import pasted text"</button>
            </div>
            <div class="import-report" aria-live="polite">{report}</div>
        </section>
    }
}
