//! The Experiments page's form as values: which config fields can be varied, and how a base
//! config and the values typed (one per line) become the experiment's configs.

use crate::app::config_draft::{field, set_text};
use crate::core::batch::BatchEngine;
use crate::core::config::PipelineConfig;
use crate::core::experiment::{Arm, Experiment, ExperimentError, ExperimentStatus};
use crate::core::provider_batch::RoundStatus;

/// The config paths an experiment can vary, in the order the page lists them: the things a
/// researcher changes between two runs of the same problems (models, sampling, the loop's
/// length, the rubric, the prompts, reasoning).
pub const VARIABLE_FIELDS: &[&str] = &[
    "verifier.model",
    "judge.model",
    "solver.model",
    "solver.temperature",
    "verifier.temperature",
    "judge.temperature",
    "max_iterations",
    "mode",
    "judge.scoring_rubric",
    "solver.prompt_template",
    "verifier.prompt_template",
    "judge.prompt_template",
    "solver.system_prompt",
    "verifier.system_prompt",
    "judge.system_prompt",
    "solver.reasoning",
    "verifier.reasoning",
    "judge.reasoning",
    "solver.max_tokens",
];

/// The values typed for the varied field: one per line, trimmed, blank lines skipped. A
/// prompt or rubric that needs several lines writes them as `\n`, read back as line breaks.
pub fn values(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .map(|line| line.replace("\\n", "\n"))
        .collect()
}

/// One config per value: `base` with `field_path` set to it, labelled with the value as typed
/// (on one line). The first value that does not fit the field is refused with the reason.
pub fn vary(
    base: &PipelineConfig,
    field_path: &str,
    values_text: &str,
) -> Result<Vec<Arm>, ExperimentError> {
    if !VARIABLE_FIELDS.contains(&field_path) || field(field_path).is_none() {
        return Err(ExperimentError::UnknownField {
            field: field_path.to_string(),
        });
    }
    values(values_text)
        .into_iter()
        .map(|value| {
            let mut config = base.clone();
            set_text(&mut config, field_path, &value).map_err(|reason| {
                ExperimentError::BadValue {
                    field: field_path.to_string(),
                    value: value.clone(),
                    reason,
                }
            })?;
            Ok(Arm {
                label: value.replace('\n', "\\n"),
                config,
            })
        })
        .collect()
}

/// One config per saved config picked, labelled with its name.
pub fn saved(configs: &[(String, PipelineConfig)]) -> Vec<Arm> {
    configs
        .iter()
        .map(|(name, config)| Arm {
            label: name.clone(),
            config: config.clone(),
        })
        .collect()
}

/// A saved config as the picker reads it: its name, and its config read back or why it
/// could not be.
pub type SavedEntry = (String, Result<PipelineConfig, String>);

/// The configs picked by name among the saved ones, in the saved list's order: `entries` are
/// the saved configs as (name, config read back, or why it could not be). A picked config that
/// does not read, or is no longer saved, is refused with the reason.
pub fn pick_saved(entries: &[SavedEntry], picked: &[String]) -> Result<Vec<Arm>, String> {
    if let Some(gone) = picked
        .iter()
        .find(|name| !entries.iter().any(|(n, _)| n == *name))
    {
        return Err(format!(
            "the saved config “{gone}” is no longer saved; pick another"
        ));
    }
    let mut configs = Vec::new();
    for (name, config) in entries.iter().filter(|(n, _)| picked.contains(n)) {
        match config {
            Ok(config) => configs.push((name.clone(), config.clone())),
            Err(reason) => return Err(reason.clone()),
        }
    }
    Ok(saved(&configs))
}

/// Whether opening the Experiments page should take `experiment` up at once: one in
/// provider batch mode that a closed tab cut off (interrupted, not cancelled nor stopped by a
/// budget) while one of its `rounds` was at the provider. Its results are then collected and
/// it goes on without a Resume press, as a batch in provider batch mode does; applying them is
/// idempotent.
pub fn takes_up_on_open(experiment: &Experiment, rounds: &[RoundStatus]) -> bool {
    experiment
        .batches
        .iter()
        .any(|b| b.spec.engine == BatchEngine::ProviderBatch)
        && experiment.status() == ExperimentStatus::Interrupted
        && rounds.contains(&RoundStatus::Submitted)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_interrupted_experiment_in_rounds_with_a_round_at_the_provider_is_taken_up_on_open() {
        use crate::core::batch::{BatchModes, BatchRecord, BatchSpec, BatchStatus};
        let batch = |engine: BatchEngine, status: BatchStatus, arm: usize| {
            let mut spec = BatchSpec::new(
                "b",
                "ds",
                "d",
                vec!["P1".into()],
                BatchModes::Debate,
                1,
                PipelineConfig::default(),
                0.0,
                |_| false,
            )
            .unwrap_or_else(|e| panic!("{e}"));
            spec.batch_id = format!("batch_{arm}");
            spec.engine = engine;
            spec.experiment = Some(crate::core::experiment::ExperimentTag {
                experiment_id: "exp_1".into(),
                name: "e".into(),
                arm,
                arms: 2,
                label: format!("{arm}"),
                varied_field: None,
            });
            let mut record = BatchRecord::new(spec);
            record.status = status;
            record
        };
        let experiment = |engine: BatchEngine, status: BatchStatus| {
            Experiment::group(vec![batch(engine, status, 0), batch(engine, status, 1)]).remove(0)
        };
        let at_provider = [RoundStatus::Ended, RoundStatus::Submitted];
        let cut_off = experiment(BatchEngine::ProviderBatch, BatchStatus::Interrupted);
        assert!(takes_up_on_open(&cut_off, &at_provider));
        // Nothing at the provider: the user resumes it.
        assert!(!takes_up_on_open(&cut_off, &[RoundStatus::Ended]));
        // Live, or cancelled by the user: never by itself.
        let live = experiment(BatchEngine::Live, BatchStatus::Interrupted);
        assert!(!takes_up_on_open(&live, &at_provider));
        let cancelled = experiment(BatchEngine::ProviderBatch, BatchStatus::Cancelled);
        assert!(!takes_up_on_open(&cancelled, &at_provider));
    }

    #[test]
    fn picked_saved_configs_keep_the_list_order_and_unreadable_ones_are_refused() {
        let mut big = PipelineConfig::default();
        big.solver.model = "openai/gpt-4o".into();
        let entries = vec![
            ("small".to_string(), Ok(PipelineConfig::default())),
            (
                "broken".to_string(),
                Err("the saved configuration \"broken\" could not be read".to_string()),
            ),
            ("big".to_string(), Ok(big.clone())),
        ];
        let arms = pick_saved(&entries, &["big".into(), "small".into()]).unwrap();
        let labels: Vec<&str> = arms.iter().map(|a| a.label.as_str()).collect();
        assert_eq!(labels, ["small", "big"]);
        assert_eq!(arms[1].config, big);
        assert!(pick_saved(&entries, &["broken".into(), "big".into()])
            .unwrap_err()
            .contains("broken"));
        assert!(pick_saved(&entries, &["gone".into()])
            .unwrap_err()
            .contains("no longer saved"));
    }
}
