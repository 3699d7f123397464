//! The prompts of one agent step, rendered from the config and what the step was given.
//!
//! The loop renders every call through [`agent_call`], and anything that needs a step's prompt
//! again later (the training-data export, which re-renders the prompt of a stored step from its
//! run's config and the step's stored `input`) calls the very same function, so the two cannot
//! drift apart.

use serde_json::{json, Map, Value};

use crate::core::config::{AgentConfig, JudgeConfig, PipelineConfig};
use crate::core::llm::{AgentCall, Reasoning};
use crate::core::role::AgentRole;
use crate::core::template::{self, TemplateError};

/// What a step's prompt is rendered from: the values of the placeholders its template may use.
///
/// These are exactly the fields the loop stores in the step's `input` object (see
/// [`StepVars::to_input`]), so a stored step can be rendered again ([`StepVars::from_input`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StepVars<'a> {
    /// The problem text (`{problem}`, every role).
    pub problem: &'a str,
    /// The last critique, empty on the first iteration (`{feedback}`, solver only).
    pub feedback: &'a str,
    /// The candidate or final solution (`{solution}`, verifier and judge).
    pub solution: &'a str,
}

impl<'a> StepVars<'a> {
    /// The step `input` object the loop stores for `role`: `{problem, feedback}` for the
    /// solver, `{problem, solution}` for the verifier and the judge (the original's shape).
    pub fn to_input(&self, role: AgentRole) -> Map<String, Value> {
        let value = match role {
            AgentRole::Solver => json!({"problem": self.problem, "feedback": self.feedback}),
            AgentRole::Verifier | AgentRole::Judge => {
                json!({"problem": self.problem, "solution": self.solution})
            }
        };
        match value {
            Value::Object(map) => map,
            _ => Map::new(),
        }
    }

    /// The values a stored step's `input` holds for `role`, or the name of the first field
    /// that is missing or not a string.
    pub fn from_input(
        role: AgentRole,
        input: &'a Map<String, Value>,
    ) -> Result<Self, &'static str> {
        let field = |name: &'static str| input.get(name).and_then(Value::as_str).ok_or(name);
        let problem = field("problem")?;
        Ok(match role {
            AgentRole::Solver => StepVars {
                problem,
                feedback: field("feedback")?,
                solution: "",
            },
            AgentRole::Verifier | AgentRole::Judge => StepVars {
                problem,
                feedback: "",
                solution: field("solution")?,
            },
        })
    }
}

/// The call `role` makes with `vars`: its model settings from `config`, its system prompt, and
/// its prompt template rendered with the placeholders the role may use.
pub fn agent_call(
    config: &PipelineConfig,
    role: AgentRole,
    vars: &StepVars<'_>,
) -> Result<AgentCall, TemplateError> {
    match role {
        AgentRole::Solver => {
            let c = &config.solver;
            let values = [("problem", vars.problem), ("feedback", vars.feedback)];
            call_with(role, c.settings(), &c.prompt_template, &values)
        }
        AgentRole::Verifier => {
            let c = &config.verifier;
            let values = [("problem", vars.problem), ("solution", vars.solution)];
            call_with(role, c.settings(), &c.prompt_template, &values)
        }
        AgentRole::Judge => {
            let c = &config.judge;
            let values = [
                ("problem", vars.problem),
                ("solution", vars.solution),
                ("rubric", c.scoring_rubric.as_str()),
            ];
            call_with(role, c.settings(), &c.prompt_template, &values)
        }
    }
}

/// A role's model settings, the same for the two agent shapes of the config.
struct CallSettings<'c> {
    model: &'c str,
    system_prompt: &'c str,
    temperature: f64,
    max_tokens: u32,
    reasoning: Reasoning,
}

macro_rules! call_settings {
    ($($config:ty),*) => {$(
        impl $config {
            fn settings(&self) -> CallSettings<'_> {
                CallSettings {
                    model: &self.model,
                    system_prompt: &self.system_prompt,
                    temperature: self.temperature,
                    max_tokens: self.max_tokens,
                    reasoning: self.reasoning,
                }
            }
        }
    )*};
}
call_settings!(AgentConfig, JudgeConfig);

/// The call of `role` with `settings`, its prompt `template` rendered with `values`.
fn call_with(
    role: AgentRole,
    settings: CallSettings<'_>,
    template: &str,
    values: &[(&str, &str)],
) -> Result<AgentCall, TemplateError> {
    Ok(AgentCall {
        role,
        model: settings.model.to_string(),
        system_prompt: settings.system_prompt.to_string(),
        user_prompt: template::render(template, values)?,
        temperature: settings.temperature,
        max_tokens: settings.max_tokens,
        reasoning: settings.reasoning,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stored_input_renders_the_same_call_as_the_vars_it_was_written_from() {
        let config = PipelineConfig::default();
        let vars = StepVars {
            problem: "What is 2+2?",
            feedback: "Check the sum.",
            solution: "4",
        };
        for role in AgentRole::ALL {
            let input = vars.to_input(role);
            let again = StepVars::from_input(role, &input).unwrap();
            assert_eq!(
                agent_call(&config, role, &again).unwrap(),
                agent_call(&config, role, &vars).unwrap()
            );
        }
        let mut input = vars.to_input(AgentRole::Solver);
        input.remove("feedback");
        assert_eq!(
            StepVars::from_input(AgentRole::Solver, &input),
            Err("feedback")
        );
    }
}
