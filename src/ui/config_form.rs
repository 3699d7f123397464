//! The Configure form's live state: one text signal per field, the config they describe with
//! its problems, the live hash, and saving to storage on every valid change.
//!
//! The state is app-wide (a context value), so the form survives moving between pages, and the
//! Run page reads the same config.

use leptos::prelude::*;

use crate::app::config_draft::{self, stored_reason, DraftCheck};
use crate::core::config::{parse_json_config, FieldError, PipelineConfig};

use super::persist::{self, PersistError, CONFIG_KEY};
use super::provider_state::ProviderState;

/// The Configure form (a context value: read it with `expect_context::<ConfigForm>()`).
#[derive(Debug, Clone, Copy)]
pub struct ConfigForm {
    /// The last config loaded whole; carries what the form has no control for (roles,
    /// `trajectory_output_dir`) and the value of any field whose text does not parse.
    base: RwSignal<PipelineConfig>,
    fields: StoredValue<Vec<(&'static str, RwSignal<String>)>>,
    check: Memo<DraftCheck>,
    hash: Memo<String>,
    problems: RwSignal<Vec<PersistError>>,
}

/// Reads the stored current config: `Ok(None)` when there is none.
fn load_stored() -> Result<Option<PipelineConfig>, PersistError> {
    persist::load_with("current configuration", CONFIG_KEY, |text| {
        parse_json_config(text.as_bytes())
            .map(|parsed| parsed.config)
            .map_err(|e| stored_reason(&e))
    })
}

impl ConfigForm {
    /// Loads the stored config (or the default preset), and starts saving valid changes.
    pub fn load(providers: ProviderState) -> Self {
        let mut problems = Vec::new();
        let initial = match load_stored() {
            Ok(Some(config)) => config,
            Ok(None) => PipelineConfig::default(),
            Err(e) => {
                problems.push(e);
                PipelineConfig::default()
            }
        };
        let fields = config_draft::texts(&initial)
            .into_iter()
            .map(|(path, text)| (path, RwSignal::new(text)))
            .collect::<Vec<_>>();
        let base = RwSignal::new(initial);
        let fields = StoredValue::new(fields);
        let check = Memo::new(move |_| {
            let texts: Vec<(&'static str, String)> = fields
                .with_value(|all| all.iter().map(|(path, text)| (*path, text.get())).collect());
            let registry = providers.registry();
            registry.with(|r| base.with(|b| config_draft::check_with_providers(b, &texts, r)))
        });
        // The hash of the last valid state; while the form is invalid it stays put (and the
        // page marks it stale). Before any valid state it is the hash of what the form shows.
        let hash = Memo::new(move |previous: Option<&String>| {
            check.with(|c| match previous {
                Some(last) if !c.is_valid() => last.clone(),
                _ => c.config.config_hash(),
            })
        });
        let problems = RwSignal::new(problems);
        let form = Self {
            base,
            fields,
            check,
            hash,
            problems,
        };
        Effect::new(move |_| {
            let json = check.with(|c| c.is_valid().then(|| c.config.to_json()));
            if let Some(json) = json {
                match persist::save_text(CONFIG_KEY, &json) {
                    Ok(()) => form.clear_save_problems(),
                    Err(e) => form.report(e),
                }
            }
        });
        form
    }

    /// The text signal of the field at `path` (a path from [`config_draft::FIELDS`]).
    pub fn field(&self, path: &str) -> Option<RwSignal<String>> {
        self.fields
            .with_value(|all| all.iter().find(|(p, _)| *p == path).map(|(_, s)| *s))
    }

    /// The config the form describes, with its problems.
    pub fn check(&self) -> Memo<DraftCheck> {
        self.check
    }

    /// The problems to show beside the field at `path`.
    pub fn messages_for(&self, path: &'static str) -> Signal<Vec<String>> {
        let check = self.check;
        Signal::derive(move || check.with(|c| c.messages_for(path)))
    }

    /// Problems at paths the form has no control for.
    pub fn unplaced(&self) -> Signal<Vec<FieldError>> {
        let check = self.check;
        Signal::derive(move || check.with(|c| c.unplaced()))
    }

    /// Whether the form describes a valid config.
    pub fn is_valid(&self) -> Signal<bool> {
        let check = self.check;
        Signal::derive(move || check.with(|c| c.is_valid()))
    }

    /// The valid config, or `None` while the form has problems.
    pub fn valid_config(&self) -> Signal<Option<PipelineConfig>> {
        let check = self.check;
        Signal::derive(move || check.with(|c| c.is_valid().then(|| c.config.clone())))
    }

    /// The 8-hex-digit hash of the last valid state (see [`Self::is_valid`] for staleness).
    pub fn hash(&self) -> Memo<String> {
        self.hash
    }

    /// Storage problems met so far.
    pub fn problems(&self) -> ReadSignal<Vec<PersistError>> {
        self.problems.read_only()
    }

    /// Forgets the reported storage problems (the user dismissed them).
    pub fn dismiss_problems(&self) {
        self.problems.set(Vec::new());
    }

    /// Replaces the whole form with `config` (a preset, an import or a saved config).
    pub fn replace(&self, config: &PipelineConfig) {
        let texts = config_draft::texts(config);
        self.base.set(config.clone());
        self.fields.with_value(|all| {
            for ((path, signal), (text_path, text)) in all.iter().zip(texts) {
                debug_assert_eq!(*path, text_path);
                signal.set(text);
            }
        });
    }

    fn report(&self, problem: PersistError) {
        self.problems.update(|all| {
            if !all.contains(&problem) {
                all.push(problem);
            }
        });
    }

    /// Once a save succeeds, earlier save failures are history; load problems stay.
    fn clear_save_problems(&self) {
        let stale = self
            .problems
            .with_untracked(|all| all.iter().any(|p| matches!(p, PersistError::Storage(_))));
        if stale {
            self.problems
                .update(|all| all.retain(|p| !matches!(p, PersistError::Storage(_))));
        }
    }
}
