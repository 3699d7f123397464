//! What the run page's fork, re-judge and re-grade controls show and check: the config fields
//! each lets the user edit (prefilled with the run's stored config), the edited config or its
//! problems, and the re-grade's sentence.

use crate::app::config_draft;
use crate::core::config::{FieldError, PipelineConfig};
use crate::core::providers::ProviderRegistry;
use crate::core::regrade::{verdict_word, Regrade};
use crate::core::trajectory::RunOrigin;

/// The fields a fork may change: any agent's model and prompt, the rubric, max iterations.
pub const FORK_FIELDS: &[&str] = &[
    "max_iterations",
    "solver.model",
    "solver.prompt_template",
    "verifier.model",
    "verifier.prompt_template",
    "judge.model",
    "judge.prompt_template",
    "judge.scoring_rubric",
];

/// The fields a re-judge may change: the judge's model, prompt and rubric.
pub const REJUDGE_FIELDS: &[&str] = &[
    "judge.model",
    "judge.prompt_template",
    "judge.scoring_rubric",
];

/// The texts of `paths` in `config`, as the form shows them.
pub fn draft_texts(config: &PipelineConfig, paths: &[&str]) -> Vec<(&'static str, String)> {
    config_draft::texts(config)
        .into_iter()
        .filter(|(path, _)| paths.contains(path))
        .collect()
}

/// The visible label of a field: its agent and its own label (`verifier model`).
pub fn field_label(path: &str) -> String {
    let label = config_draft::field(path).map_or(path, |f| f.label);
    match path.split_once('.') {
        Some((agent, _)) => format!("{agent} {}", label.to_lowercase()),
        None => label.to_string(),
    }
}

/// `base` with `texts` applied: the config to go on with, or every problem of it.
pub fn edited_config(
    base: &PipelineConfig,
    texts: &[(&'static str, String)],
    registry: &ProviderRegistry,
) -> Result<PipelineConfig, Vec<FieldError>> {
    let check = config_draft::check_with_providers(base, texts, registry);
    if check.errors.is_empty() {
        Ok(check.config)
    } else {
        Err(check.errors)
    }
}

/// "graded now: correct (was: wrong)", or why the run is not graded.
pub fn regrade_text(regrade: &Regrade) -> String {
    if regrade.now.is_none() {
        return format!(
            "not graded now: the run has no ground truth, no judge step or no final solution (was: {})",
            verdict_word(regrade.was)
        );
    }
    let answer = regrade
        .extracted_now
        .as_deref()
        .map(|a| format!(", answer {a}"))
        .unwrap_or_default();
    format!(
        "graded now: {} (was: {}){answer}",
        verdict_word(regrade.now),
        verdict_word(regrade.was)
    )
}

/// "fork of run_x at step 3" / "re-judge of run_x".
pub fn origin_text(origin: &RunOrigin) -> String {
    match origin.kind {
        crate::core::trajectory::DerivationKind::Fork => {
            format!("fork of {} at step {}", origin.run_id, origin.step_id)
        }
        crate::core::trajectory::DerivationKind::Rejudge => {
            format!("re-judge of {}", origin.run_id)
        }
    }
}

/// An accuracy as `3/4 (75.0%)`, or `none graded`.
pub fn accuracy_text(accuracy: &crate::core::regrade::Accuracy) -> String {
    match accuracy.fraction() {
        Some(f) => format!(
            "{}/{} ({:.1}%)",
            accuracy.correct,
            accuracy.graded,
            f * 100.0
        ),
        None => "none graded".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::regrade::Accuracy;
    use crate::core::trajectory::DerivationKind;

    #[test]
    fn a_fork_edits_only_its_fields_and_keeps_the_rest_of_the_stored_config() {
        let base = PipelineConfig {
            run_budget_usd: Some(0.5),
            ..PipelineConfig::default()
        };
        let mut texts = draft_texts(&base, FORK_FIELDS);
        assert_eq!(texts.len(), FORK_FIELDS.len());
        for (path, text) in &mut texts {
            if *path == "verifier.model" {
                *text = "openai/gpt-4o".into();
            }
        }
        let edited = edited_config(&base, &texts, &ProviderRegistry::default()).unwrap();
        assert_eq!(edited.verifier.model, "openai/gpt-4o");
        assert_eq!(edited.run_budget_usd, Some(0.5));
        assert_eq!(edited.solver, base.solver);
    }

    #[test]
    fn a_field_that_does_not_parse_is_named() {
        let base = PipelineConfig::default();
        let mut texts = draft_texts(&base, REJUDGE_FIELDS);
        texts.push(("max_iterations", "many".into()));
        let errors = edited_config(&base, &texts, &ProviderRegistry::default()).unwrap_err();
        assert!(errors.iter().any(|e| e.path == "max_iterations"));
    }

    #[test]
    fn texts_say_what_changed() {
        let regrade = Regrade {
            run_id: "r".into(),
            was: Some(false),
            now: Some(true),
            extracted_was: None,
            extracted_now: Some("4".into()),
            unreadable: None,
        };
        assert_eq!(
            regrade_text(&regrade),
            "graded now: correct (was: wrong), answer 4"
        );
        assert_eq!(field_label("verifier.model"), "verifier model");
        assert_eq!(field_label("max_iterations"), "Max iterations");
        let origin = RunOrigin {
            kind: DerivationKind::Fork,
            run_id: "run_a".into(),
            step_id: 3,
        };
        assert_eq!(origin_text(&origin), "fork of run_a at step 3");
        let accuracy = Accuracy {
            correct: 3,
            graded: 4,
        };
        assert_eq!(accuracy_text(&accuracy), "3/4 (75.0%)");
    }
}
