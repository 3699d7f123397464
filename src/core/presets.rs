//! Ready-made pipeline configs: one per provider setup a researcher is likely to start from.
//!
//! All presets share the same prompts: the solver shows its work and puts the final answer in
//! `\boxed{}` (which the answer checker extracts); the verifier re-derives the answer and, when
//! it fails the solution, names the first wrong step concretely; the judge scores against
//! `{rubric}`. Only models and token limits differ.

use crate::core::config::{
    AgentConfig, JudgeConfig, Mode, PipelineConfig, DEFAULT_MAX_ATTEMPTS, DEFAULT_MAX_ITERATIONS,
    DEFAULT_MAX_REASKS, DEFAULT_REQUEST_TIMEOUT_SECS, DEFAULT_TRAJECTORY_OUTPUT_DIR,
};
use crate::core::llm::Reasoning;

/// A named, described config for the preset picker.
#[derive(Debug, Clone, PartialEq)]
pub struct Preset {
    /// Stable id, e.g. `local-smollm2` (safe for URLs and storage).
    pub id: &'static str,
    /// Short display name.
    pub name: &'static str,
    /// One or two sentences: what it runs on and what it needs.
    pub description: &'static str,
    /// The config itself; it validates cleanly.
    pub config: PipelineConfig,
}

/// The id of the app's default preset (also [`PipelineConfig::default`]).
pub const DEFAULT_PRESET_ID: &str = "local-smollm2";

const SOLVER_SYSTEM: &str = "You are a careful problem solver. Reason step by step, check each \
step before moving on, and never guess silently: if something is uncertain, say so.";

const SOLVER_TEMPLATE: &str = "Solve the following problem.

Problem:
{problem}

A reviewer's critique of your previous attempt (empty on the first attempt):
{feedback}

If there is a critique, address every point it raises: keep what was right and fix what was \
wrong, rather than starting over from scratch. Show your reasoning, then state the final answer \
exactly once, inside \\boxed{}, for example \\boxed{42}.";

const VERIFIER_SYSTEM: &str = "You are a rigorous reviewer of solutions. You check the work \
yourself instead of trusting it, and your critiques are specific enough to act on.";

const VERIFIER_TEMPLATE: &str = "Check this proposed solution.

Problem:
{problem}

Proposed solution:
{solution}

Re-derive the key results yourself: redo each calculation, test every claim, and make sure the \
answer in \\boxed{} answers the question that was asked, in the form it asks for. Pass the \
solution only if the final answer is correct and the reasoning supports it.
If it fails, quote the first step that is wrong, explain exactly why it is wrong, and say what a \
correct step must take into account. Do not write out the full corrected solution.";

const JUDGE_SYSTEM: &str = "You are a strict, fair grader. You score only what the solution \
shows, against the rubric you are given.";

const JUDGE_TEMPLATE: &str = "Grade the final solution to this problem.

Problem:
{problem}

Final solution:
{solution}

Rubric:
{rubric}

Give a score from 0 to 1 that follows the rubric, explain the score, and list the solution's \
main strengths and weaknesses.";

const RUBRIC: &str = "1.0: the final answer is correct and the reasoning fully supports it. \
0.5: the final answer is correct but the reasoning has gaps or errors. \
0.0: the final answer is wrong or missing.";

fn agent(role: &str, model: &str, max_tokens: u32, system: &str, template: &str) -> AgentConfig {
    AgentConfig {
        role: role.to_string(),
        model: model.to_string(),
        temperature: 0.0,
        max_tokens,
        prompt_template: template.to_string(),
        system_prompt: system.to_string(),
        reasoning: Reasoning::Off,
    }
}

/// A config with the shared prompts, for the given models and token limits.
fn build(models: [&str; 3], max_tokens: [u32; 3]) -> PipelineConfig {
    PipelineConfig {
        solver: agent(
            "solver",
            models[0],
            max_tokens[0],
            SOLVER_SYSTEM,
            SOLVER_TEMPLATE,
        ),
        verifier: agent(
            "verifier",
            models[1],
            max_tokens[1],
            VERIFIER_SYSTEM,
            VERIFIER_TEMPLATE,
        ),
        judge: JudgeConfig {
            model: models[2].to_string(),
            temperature: 0.0,
            max_tokens: max_tokens[2],
            prompt_template: JUDGE_TEMPLATE.to_string(),
            system_prompt: JUDGE_SYSTEM.to_string(),
            scoring_rubric: RUBRIC.to_string(),
            reasoning: Reasoning::Off,
        },
        mode: Mode::Debate,
        max_iterations: DEFAULT_MAX_ITERATIONS,
        trajectory_output_dir: DEFAULT_TRAJECTORY_OUTPUT_DIR.to_string(),
        config_version: "1".to_string(),
        max_reasks: DEFAULT_MAX_REASKS,
        max_attempts: DEFAULT_MAX_ATTEMPTS,
        request_timeout_secs: DEFAULT_REQUEST_TIMEOUT_SECS,
        run_budget_usd: None,
        batch_budget_usd: None,
    }
}

/// The `local-smollm2` preset's config ([`PipelineConfig::default`]).
pub(crate) fn local_smollm2_config() -> PipelineConfig {
    build(["local/smollm2-135m"; 3], [512, 512, 256])
}

/// Every preset, the default first.
pub fn presets() -> Vec<Preset> {
    vec![
        Preset {
            id: DEFAULT_PRESET_ID,
            name: "Local SmolLM2 135M",
            description: "All three agents on SmolLM2-135M served by a local OpenAI-compatible \
                server such as llama.cpp's llama-server. No key and no cost; a tiny model, good for \
                trying the pipeline out.",
            config: local_smollm2_config(),
        },
        Preset {
            id: "openai-mini",
            name: "OpenAI GPT-4.1 mini",
            description: "All three agents on gpt-4.1-mini: cheap and quick. Needs an OpenAI key.",
            config: build(["gpt-4.1-mini"; 3], [4096, 2048, 1024]),
        },
        Preset {
            id: "anthropic",
            name: "Anthropic Claude Sonnet 4.5",
            description: "All three agents on claude-sonnet-4-5. Needs an Anthropic key.",
            config: build(["claude-sonnet-4-5"; 3], [4096, 2048, 1024]),
        },
        Preset {
            id: "mixed",
            name: "Mixed providers",
            description: "Solver gpt-4.1-mini, verifier claude-sonnet-4-5, judge \
                gemini-2.5-flash, so no model grades its own work. Needs OpenAI, Anthropic and \
                Gemini keys.",
            config: build(
                ["gpt-4.1-mini", "claude-sonnet-4-5", "gemini-2.5-flash"],
                [4096, 2048, 1024],
            ),
        },
        Preset {
            id: "cohere",
            name: "Cohere Command R+",
            description: "All three agents on command-r-plus, the original pipeline's usual \
                model. Needs a Cohere key.",
            config: build(["command-r-plus"; 3], [4000, 2048, 1024]),
        },
    ]
}

/// The preset with this id, if any.
pub fn preset(id: &str) -> Option<Preset> {
    presets().into_iter().find(|p| p.id == id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::model::resolve_model;
    use crate::core::template::{placeholders_in, render};

    #[test]
    fn every_preset_validates_and_ids_are_unique() {
        let all = presets();
        assert!(all.len() >= 5);
        for p in &all {
            assert_eq!(p.config.validate(), vec![], "preset {}", p.id);
            assert_eq!(all.iter().filter(|q| q.id == p.id).count(), 1);
        }
        assert_eq!(all[0].id, DEFAULT_PRESET_ID);
        assert_eq!(PipelineConfig::default(), all[0].config);
    }

    #[test]
    fn presets_use_the_requested_models() {
        let providers = |id: &str| {
            let c = preset(id).unwrap().config;
            [&c.solver.model, &c.verifier.model, &c.judge.model]
                .map(|m| resolve_model(m, &[]).unwrap().provider)
        };
        assert_eq!(providers("local-smollm2"), ["local", "local", "local"]);
        assert_eq!(providers("mixed"), ["openai", "anthropic", "gemini"]);
        assert_eq!(providers("cohere"), ["cohere", "cohere", "cohere"]);
        let local = preset("local-smollm2").unwrap().config;
        assert_eq!(local.solver.model, "local/smollm2-135m");
        assert!(local.solver.max_tokens <= 512);
        assert!(preset("nope").is_none());
    }

    #[test]
    fn prompts_use_every_placeholder_and_ask_for_a_boxed_answer() {
        let c = PipelineConfig::default();
        assert_eq!(
            placeholders_in(&c.solver.prompt_template),
            ["problem", "feedback"]
        );
        assert_eq!(
            placeholders_in(&c.verifier.prompt_template),
            ["problem", "solution"]
        );
        assert_eq!(
            placeholders_in(&c.judge.prompt_template),
            ["problem", "solution", "rubric"]
        );
        let first = render(
            &c.solver.prompt_template,
            &[("problem", "1+1?"), ("feedback", "")],
        )
        .unwrap();
        assert!(first.contains("\\boxed{}"));
        assert!(first.contains("Problem:\n1+1?\n"));
    }
}
