//! The configuration model against the original's files and hash vectors, Python-generated
//! oracles (tests/fixtures/config/python/generate.py), every validation rule, error positions,
//! round-trips and hostile input.

use trialogue::core::config::{
    parse_config, ConfigError, ConfigFormat, FieldError, Mode, ParsedConfig, PipelineConfig,
    MAX_CONFIG_BYTES,
};
use trialogue::core::hash::{python_float_repr, python_json_dumps_sorted, sha256_hex};
use trialogue::core::model::{resolve_model, ModelError, ModelRef, BUILTIN_PROVIDER_IDS};
use trialogue::core::presets::{preset, presets};

use crate::util::fixture_bytes;

fn fixture(path: &str) -> Vec<u8> {
    fixture_bytes(&format!("config/{path}"))
}

fn yaml(text: &str) -> Result<ParsedConfig, ConfigError> {
    parse_config(text.as_bytes(), ConfigFormat::Yaml)
}

fn json(text: &str) -> Result<ParsedConfig, ConfigError> {
    parse_config(text.as_bytes(), ConfigFormat::Json)
}

/// A valid YAML config; tests swap single lines of it to make one thing wrong.
const BASE_YAML: &str = r#"config_version: "1"
solver:
  role: solver
  model: gpt-4.1-mini
  temperature: 0.5
  max_tokens: 100
  prompt_template: "Solve {problem}. {feedback}"
verifier:
  role: verifier
  model: claude-sonnet-4-5
  prompt_template: "Check {solution} for {problem}"
judge:
  model: gemini-2.5-flash
  prompt_template: "{problem} {solution} {rubric}"
  scoring_rubric: "1 if right"
"#;

fn base() -> PipelineConfig {
    yaml(BASE_YAML).unwrap().config
}

// ---- the original's files and the hash ------------------------------------------------------

#[test]
fn hash_vectors_from_the_original_match_exactly() {
    let expected: serde_json::Value =
        serde_json::from_slice(&fixture("vectors/expected.json")).unwrap();
    let vectors = expected.as_array().unwrap();
    assert_eq!(vectors.len(), 2);
    for v in vectors {
        let file = v["file"].as_str().unwrap();
        let format = ConfigFormat::from_file_name(file).unwrap();
        let parsed = parse_config(&fixture(&format!("vectors/{file}")), format).unwrap();
        assert_eq!(parsed.warnings, Vec::<String>::new(), "{file}");
        assert_eq!(
            parsed.config.canonical_json(),
            v["canonical_json"].as_str().unwrap(),
            "{file}"
        );
        assert_eq!(
            parsed.config.config_hash(),
            v["config_hash"].as_str().unwrap(),
            "{file}"
        );
        assert_eq!(parsed.config.validate(), vec![], "{file}");
    }
}

#[test]
fn full_vector_fields_are_read_with_an_integer_temperature_as_float() {
    let c = parse_config(&fixture("vectors/full.json"), ConfigFormat::Json)
        .unwrap()
        .config;
    assert_eq!(c.config_version, "1.2.0");
    assert_eq!(c.max_iterations, 7);
    assert_eq!(c.solver.temperature, 0.3);
    assert_eq!(c.verifier.temperature, 0.0); // written as `0`
    assert_eq!(c.verifier.system_prompt, "Be strict; naïve mistakes fail.");
    assert_eq!(
        c.solver.system_prompt,
        "Think step by step. Put the final answer in \\boxed{}."
    );
    assert_eq!(c.judge.max_tokens, 800);
}

#[test]
fn python_hash_cases_yaml_merges_blocks_unicode_and_extensions() {
    let cases: serde_json::Value =
        serde_json::from_slice(&fixture("python/hash_cases.json")).unwrap();
    let cases = cases.as_array().unwrap();
    assert_eq!(cases.len(), 3);
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let format = match case["format"].as_str().unwrap() {
            "yaml" => ConfigFormat::Yaml,
            _ => ConfigFormat::Json,
        };
        let text = case["text"].as_str().unwrap();
        let parsed =
            parse_config(text.as_bytes(), format).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(
            parsed.config.canonical_json(),
            case["canonical_json"].as_str().unwrap(),
            "{name}"
        );
        assert_eq!(
            parsed.config.config_hash(),
            case["config_hash"].as_str().unwrap(),
            "{name}"
        );
    }
}

#[test]
fn execution_settings_leave_the_hash_alone() {
    let c = base();
    let original = c.config_hash();
    let variants: [fn(&mut PipelineConfig); 5] = [
        |c| c.max_reasks = 0,
        |c| c.max_attempts = 1,
        |c| c.request_timeout_secs = 30,
        |c| c.run_budget_usd = Some(1.0),
        |c| c.batch_budget_usd = Some(0.25),
    ];
    for change in variants {
        let mut changed = c.clone();
        change(&mut changed);
        assert_ne!(changed, c);
        assert_eq!(changed.config_hash(), original, "{changed:?}");
        assert_eq!(changed.canonical_json(), c.canonical_json());
    }
    // What is studied still changes it.
    let mut studied = c.clone();
    studied.solver.temperature = 0.25;
    assert_ne!(studied.config_hash(), original);
    // The settings are still written to the config file, which carries them.
    let mut budget = c.clone();
    budget.run_budget_usd = Some(0.5);
    assert!(budget.to_json().contains(r#""run_budget_usd": 0.5"#));
}

#[test]
fn hash_is_eight_lowercase_hex_digits_of_sha256() {
    let c = base();
    let h = c.config_hash();
    assert_eq!(h.len(), 8);
    assert!(h.chars().all(|ch| matches!(ch, '0'..='9' | 'a'..='f')));
    assert_eq!(h, sha256_hex(c.canonical_json().as_bytes())[..8]);
}

// ---- Python oracles ---------------------------------------------------------------------------

fn float_cases() -> Vec<(f64, String)> {
    let text = String::from_utf8(fixture("python/float_repr.txt")).unwrap();
    text.lines()
        .map(|line| {
            let (bits, repr) = line.split_once(' ').unwrap();
            let x = f64::from_bits(u64::from_str_radix(bits, 16).unwrap());
            (x, repr.to_string())
        })
        .collect()
}

#[test]
fn float_repr_matches_python_on_2000_doubles() {
    let cases = float_cases();
    assert!(cases.len() > 2000);
    let wrong: Vec<String> = cases
        .iter()
        .filter(|(x, repr)| python_float_repr(*x) != *repr)
        .map(|(x, repr)| format!("{x:e}: ours {} python {repr}", python_float_repr(*x)))
        .collect();
    assert_eq!(wrong, Vec::<String>::new());
}

#[test]
fn json_and_yaml_number_reading_is_exact_so_hashes_can_match() {
    // Python's float() is correctly rounded; a config's hash prints the float it read, so our
    // readers must land on the very same double for every text Python prints.
    for (x, repr) in float_cases() {
        let from_json: f64 = serde_json::from_str(&repr).unwrap();
        assert_eq!(from_json.to_bits(), x.to_bits(), "JSON {repr}");
        let from_yaml: f64 = serde_norway::from_str(&repr).unwrap();
        assert_eq!(from_yaml.to_bits(), x.to_bits(), "YAML {repr}");
    }
}

#[test]
fn dumps_matches_python_json_dumps_sort_keys() {
    let cases: serde_json::Value = serde_json::from_slice(&fixture("python/dumps.json")).unwrap();
    let cases = cases.as_array().unwrap();
    assert_eq!(cases.len(), 9);
    for case in cases {
        assert_eq!(
            python_json_dumps_sorted(&case["input"]),
            case["expected"].as_str().unwrap()
        );
    }
}

// ---- parsing ------------------------------------------------------------------------------------

#[test]
fn yaml_and_json_give_the_same_config() {
    let from_yaml = base();
    let from_json = json(
        r#"{"config_version": "1",
        "solver": {"role": "solver", "model": "gpt-4.1-mini", "temperature": 0.5, "max_tokens": 100,
                   "prompt_template": "Solve {problem}. {feedback}"},
        "verifier": {"role": "verifier", "model": "claude-sonnet-4-5",
                     "prompt_template": "Check {solution} for {problem}"},
        "judge": {"model": "gemini-2.5-flash", "prompt_template": "{problem} {solution} {rubric}",
                  "scoring_rubric": "1 if right"}}"#,
    )
    .unwrap()
    .config;
    assert_eq!(from_yaml, from_json);
    assert_eq!(from_yaml.solver.max_tokens, 100);
    assert_eq!(from_yaml.verifier.max_tokens, 4096);
    assert_eq!(from_yaml.mode, Mode::Debate);
}

#[test]
fn all_fields_are_read_including_trialogue_extensions() {
    let text = format!(
        "{BASE_YAML}mode: baseline\nmax_iterations: 20\ntrajectory_output_dir: out\n\
         max_reasks: 0\nmax_attempts: 10\nrequest_timeout_secs: 3600\n\
         run_budget_usd: 0.25\nbatch_budget_usd: 3\n"
    );
    let c = yaml(&text).unwrap().config;
    assert_eq!(c.mode, Mode::Baseline);
    assert_eq!(c.max_iterations, 20);
    assert_eq!(c.trajectory_output_dir, "out");
    assert_eq!(
        (c.max_reasks, c.max_attempts, c.request_timeout_secs),
        (0, 10, 3600)
    );
    assert_eq!(
        (c.run_budget_usd, c.batch_budget_usd),
        (Some(0.25), Some(3.0))
    );
    let nulls = yaml(&format!(
        "{BASE_YAML}run_budget_usd: null\nbatch_budget_usd: ~\n"
    ))
    .unwrap();
    assert_eq!(nulls.config.run_budget_usd, None);
    assert_eq!(nulls.config.batch_budget_usd, None);
}

#[test]
fn whole_floats_are_accepted_for_integer_fields_like_pydantic() {
    let c = yaml(&BASE_YAML.replace("max_tokens: 100", "max_tokens: 100.0"))
        .unwrap()
        .config;
    assert_eq!(c.solver.max_tokens, 100);
    let err = yaml(&BASE_YAML.replace("max_tokens: 100", "max_tokens: 100.5")).unwrap_err();
    assert_eq!(
        err.to_string(),
        "solver.max_tokens: expected a whole number, found 100.5 (line 6, column 15)"
    );
}

#[test]
fn unknown_keys_are_ignored_with_a_warning_naming_the_path() {
    let text = BASE_YAML
        .replace("  role: solver\n", "  role: solver\n  foo: [1, {a: b}]\n")
        .replace("judge:\n", "judge:\n  role: judge\n")
        + "notes: hello\n"
        + "solver_extra: {deep: {deeper: 1}}\n";
    let parsed = yaml(&text).unwrap();
    assert_eq!(
        parsed.warnings,
        vec![
            "solver.foo: unknown key, ignored",
            "judge.role: unknown key, ignored",
            "notes: unknown key, ignored",
            "solver_extra: unknown key, ignored",
        ]
    );
    assert_eq!(parsed.config, base());
    assert_eq!(parsed.config.config_hash(), base().config_hash());
}

#[test]
fn a_key_given_twice_keeps_the_last_value_with_a_warning() {
    let text = BASE_YAML.replace(
        "  temperature: 0.5\n",
        "  temperature: 0.5\n  temperature: 0.9\n",
    );
    let parsed = yaml(&text).unwrap();
    assert_eq!(parsed.config.solver.temperature, 0.9);
    assert_eq!(
        parsed.warnings,
        vec!["solver.temperature: given more than once; the last value is used"]
    );
    let parsed = json(r#"{"config_version": "a", "config_version": "b"}"#);
    assert_eq!(
        parsed.unwrap_err(),
        ConfigError::Missing {
            path: "solver".into()
        }
    );
}

#[test]
fn wrong_types_name_the_field_line_and_column() {
    let err = yaml(&BASE_YAML.replace("temperature: 0.5", "temperature: \"hot\"")).unwrap_err();
    assert_eq!(
        err,
        ConfigError::WrongType {
            path: "solver.temperature".into(),
            line: 5,
            column: 16,
            message: "expected a number, found a string".into(),
        }
    );
    assert_eq!(
        err.to_string(),
        "solver.temperature: expected a number, found a string (line 5, column 16)"
    );

    let cases: &[(&str, &str, &str)] = &[
        (
            "config_version: \"1\"",
            "config_version: 1.0",
            "config_version: expected text, found a number; put the value in quotes (line 1, column 17)",
        ),
        (
            "  max_tokens: 100",
            "  max_tokens: -5",
            "solver.max_tokens: expected a whole number of 0 or more, found -5 (line 6, column 15)",
        ),
        (
            "  max_tokens: 100",
            "  max_tokens: 99999999999",
            "solver.max_tokens: expected a whole number up to 4294967295, found 99999999999 (line 6, column 15)",
        ),
        (
            "  model: claude-sonnet-4-5",
            "  model: [a, b]",
            "verifier.model: expected text, found a list (line 10, column 10)",
        ),
        (
            "  scoring_rubric: \"1 if right\"",
            "  scoring_rubric:",
            "judge.scoring_rubric: expected text, found nothing (null); write \"\" for empty text (line 15, column 18)",
        ),
        (
            "  role: solver",
            "  role: true",
            "solver.role: expected text, found a boolean; put the value in quotes (line 3, column 9)",
        ),
        (
            "judge:\n",
            "mode: Debate\njudge:\n",
            "mode: expected \"debate\" or \"baseline\", found \"Debate\" (line 12, column 7)",
        ),
        (
            "solver:\n  role: solver\n",
            "solver: 7\nx:\n  role: solver\n",
            "solver: expected a mapping of settings, found a number (line 2, column 9)",
        ),
    ];
    for (from, to, want) in cases {
        let text = BASE_YAML.replacen(from, to, 1);
        assert_ne!(text, BASE_YAML, "{from}");
        let err = yaml(&text).unwrap_err();
        assert_eq!(err.to_string(), *want, "{to}");
    }
}

#[test]
fn json_wrong_types_point_at_the_value() {
    let text = "{\n  \"config_version\": \"1\",\n  \"solver\": {\"role\": \"solver\", \"temperature\": \"hot\"}\n}";
    let err = json(text).unwrap_err();
    // serde_json reports the position of the offending token's last character: the closing
    // quote of "hot" is the 51st character of line 3.
    assert_eq!(
        err,
        ConfigError::WrongType {
            path: "solver.temperature".into(),
            line: 3,
            column: 51,
            message: "expected a number, found a string".into(),
        }
    );
    // Columns count characters, not bytes.
    let err = json("{\"é中😀\": 1, \"config_version\": 5}").unwrap_err();
    assert_eq!(
        err,
        ConfigError::WrongType {
            path: "config_version".into(),
            line: 1,
            column: 30,
            message: "expected text, found a number; put the value in quotes".into(),
        }
    );
}

#[test]
fn missing_required_fields_name_their_path() {
    let cases: &[(&str, &str)] = &[
        ("config_version: \"1\"\n", "config_version"),
        ("  role: solver\n", "solver.role"),
        ("  model: gpt-4.1-mini\n", "solver.model"),
        (
            "  prompt_template: \"Check {solution} for {problem}\"\n",
            "verifier.prompt_template",
        ),
        ("  scoring_rubric: \"1 if right\"\n", "judge.scoring_rubric"),
        ("  model: gemini-2.5-flash\n", "judge.model"),
    ];
    for (line, path) in cases {
        let text = BASE_YAML.replacen(line, "", 1);
        assert_ne!(text, BASE_YAML, "{line}");
        let err = yaml(&text).unwrap_err();
        assert_eq!(
            err,
            ConfigError::Missing {
                path: path.to_string()
            }
        );
        assert_eq!(
            err.to_string(),
            format!("{path} is missing; it is required, so add it to the file")
        );
    }
    let no_judge = BASE_YAML.split("judge:").next().unwrap();
    assert_eq!(
        yaml(no_judge).unwrap_err(),
        ConfigError::Missing {
            path: "judge".into()
        }
    );
}

#[test]
fn syntax_errors_carry_one_based_line_and_column() {
    let err = yaml("config_version: \"1\"\nsolver:\n  role: [solver\n  model: x\n").unwrap_err();
    match &err {
        ConfigError::Syntax {
            format,
            line,
            column,
            message,
        } => {
            assert_eq!(*format, ConfigFormat::Yaml);
            // PyYAML stops at the same place: "expected ',' or ']', but got ':'" at line 4,
            // column 8, "while parsing a flow sequence".
            assert_eq!((*line, *column), (4, 8));
            assert!(message.contains("flow sequence"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    assert!(err
        .to_string()
        .starts_with("YAML syntax error at line 4, column 8: "));

    let err = json("{\n  \"config_version\": \"1\",\n  \"solver\": {,}\n}").unwrap_err();
    assert_eq!(
        err,
        ConfigError::Syntax {
            format: ConfigFormat::Json,
            line: 3,
            column: 14,
            message: "key must be a string".into(),
        }
    );
    let err = json("{\"config_version\": \"1\"} trailing").unwrap_err();
    assert!(
        matches!(
            err,
            ConfigError::Syntax {
                line: 1,
                column: 25,
                ..
            }
        ),
        "{err:?}"
    );
}

// ---- validation ---------------------------------------------------------------------------------

fn paths(errors: &[FieldError]) -> Vec<&str> {
    errors.iter().map(|e| e.path.as_str()).collect()
}

#[test]
fn a_good_config_has_no_problems() {
    assert_eq!(base().validate(), vec![]);
}

#[test]
fn validation_reports_every_problem_at_once() {
    let mut c = base();
    c.config_version = "  ".into();
    c.max_iterations = 0;
    c.solver.role = "verifier".into();
    c.solver.model = "llama3".into();
    c.solver.temperature = 2.5;
    c.solver.max_tokens = 0;
    c.solver.prompt_template = "".into();
    c.verifier.role = "solver".into();
    c.verifier.model = "".into();
    c.verifier.temperature = f64::NAN;
    c.verifier.max_tokens = 1_000_001;
    c.verifier.prompt_template = "{problem} {feedback}".into();
    c.judge.model = "acme/x".into();
    c.judge.temperature = -0.1;
    c.judge.prompt_template = "{score}".into();
    c.judge.scoring_rubric = "".into();
    c.max_reasks = 11;
    c.max_attempts = 0;
    c.request_timeout_secs = 3601;
    c.run_budget_usd = Some(0.0);
    c.batch_budget_usd = Some(f64::INFINITY);
    let errors = c.validate();
    assert_eq!(
        paths(&errors),
        vec![
            "config_version",
            "max_iterations",
            "solver.role",
            "solver.model",
            "solver.temperature",
            "solver.max_tokens",
            "solver.prompt_template",
            "verifier.role",
            "verifier.model",
            "verifier.temperature",
            "verifier.max_tokens",
            "verifier.prompt_template",
            "judge.model",
            "judge.temperature",
            "judge.prompt_template",
            "judge.scoring_rubric",
            "max_reasks",
            "max_attempts",
            "request_timeout_secs",
            "run_budget_usd",
            "batch_budget_usd",
        ]
    );
    let message = |path: &str| errors.iter().find(|e| e.path == path).unwrap().to_string();
    assert_eq!(
        message("max_iterations"),
        "max_iterations: must be a whole number from 1 to 20, not 0"
    );
    assert_eq!(
        message("solver.role"),
        "solver.role: must be \"solver\", not \"verifier\""
    );
    assert_eq!(
        message("solver.temperature"),
        "solver.temperature: must be a number from 0 to 2, not 2.5"
    );
    assert_eq!(
        message("verifier.temperature"),
        "verifier.temperature: must be a number from 0 to 2, not nan"
    );
    assert_eq!(
        message("verifier.max_tokens"),
        "verifier.max_tokens: must be a whole number from 1 to 1000000, not 1000001"
    );
    assert_eq!(
        message("verifier.prompt_template"),
        "verifier.prompt_template: unknown placeholder {feedback} at character 10; this prompt may use {problem}, {solution} (write {{ and }} for literal braces)"
    );
    assert!(message("solver.model").contains("write it as `provider/model`"));
    assert!(message("judge.model").contains("unknown provider `acme`"));
    assert!(message("solver.prompt_template").contains("{problem}, {feedback}"));
    assert!(message("run_budget_usd").contains("above 0, not 0.0"));
    assert!(message("batch_budget_usd").contains("not inf"));
}

#[test]
fn range_edges_are_inclusive() {
    let mut c = base();
    c.max_iterations = 20;
    c.solver.temperature = 2.0;
    c.verifier.temperature = 0.0;
    c.solver.max_tokens = 1_000_000;
    c.judge.max_tokens = 1;
    c.max_reasks = 0;
    c.max_attempts = 10;
    c.request_timeout_secs = 1;
    c.run_budget_usd = Some(1e-6);
    assert_eq!(c.validate(), vec![]);
    c.max_iterations = 21;
    c.max_reasks = 10;
    c.max_attempts = 11;
    c.request_timeout_secs = 0;
    assert_eq!(
        paths(&c.validate()),
        vec!["max_iterations", "max_attempts", "request_timeout_secs"]
    );
}

#[test]
fn custom_providers_make_their_models_valid() {
    let mut c = base();
    c.solver.model = "vllm/qwen2.5-7b".into();
    assert_eq!(paths(&c.validate()), vec!["solver.model"]);
    assert_eq!(c.validate_with(&["vllm"]), vec![]);
}

// ---- models ---------------------------------------------------------------------------------------

#[test]
fn model_string_resolution_table() {
    let table: &[(&str, &str, &str)] = &[
        ("gpt-4o", "openai", "gpt-4o"),
        ("gpt-4.1-mini", "openai", "gpt-4.1-mini"),
        ("chatgpt-4o-latest", "openai", "chatgpt-4o-latest"),
        ("o1", "openai", "o1"),
        ("o1-mini", "openai", "o1-mini"),
        ("o3-mini", "openai", "o3-mini"),
        ("o4-mini", "openai", "o4-mini"),
        ("claude-sonnet-4-5", "anthropic", "claude-sonnet-4-5"),
        ("command-r-plus", "cohere", "command-r-plus"),
        ("command", "cohere", "command"),
        ("gemini-2.5-flash", "gemini", "gemini-2.5-flash"),
        ("openai/gpt-4o", "openai", "gpt-4o"),
        (
            "anthropic/claude-3-5-haiku",
            "anthropic",
            "claude-3-5-haiku",
        ),
        ("cohere/command-a-03-2025", "cohere", "command-a-03-2025"),
        ("cohere_chat/command-r", "cohere", "command-r"),
        ("gemini/gemini-2.0-flash", "gemini", "gemini-2.0-flash"),
        (
            "openrouter/anthropic/claude-3.5",
            "openrouter",
            "anthropic/claude-3.5",
        ),
        ("local/smollm2-135m", "local", "smollm2-135m"),
        ("local/qwen/qwen2.5:7b", "local", "qwen/qwen2.5:7b"),
        ("lab/llama-3-70b", "lab", "llama-3-70b"),
    ];
    for (input, provider, model) in table {
        assert_eq!(
            resolve_model(input, &["lab"]),
            Ok(ModelRef {
                provider: provider.to_string(),
                model: model.to_string()
            }),
            "{input}"
        );
    }
    for bad in [
        "llama3",
        "mistral-large",
        "GPT-4o",
        "azure/gpt-4o",
        "openai/",
    ] {
        let err = resolve_model(bad, &["lab"]).unwrap_err();
        assert!(
            matches!(
                err,
                ModelError::UnknownProvider { .. } | ModelError::Unresolvable { .. }
            ),
            "{bad}: {err:?}"
        );
        assert!(err.to_string().contains("`provider/model`"), "{bad}: {err}");
    }
    assert_eq!(resolve_model("", &[]), Err(ModelError::Empty));
    assert_eq!(
        BUILTIN_PROVIDER_IDS,
        [
            "openai",
            "anthropic",
            "cohere",
            "gemini",
            "openrouter",
            "local"
        ]
    );
    assert_eq!(
        resolve_model("local/x", &[]).unwrap().to_string(),
        "local/x"
    );
}

// ---- export and round-trips -------------------------------------------------------------------------

fn tricky() -> PipelineConfig {
    let mut c = base();
    c.config_version = "0.1".into();
    c.mode = Mode::Baseline;
    c.trajectory_output_dir = "yes".into();
    c.solver.system_prompt = "  leading spaces, trailing  \n\tand a tab line\n".into();
    c.solver.prompt_template = "Problem:\n{problem}\n\n  indented\n\nFeedback: {feedback}\n\\boxed{} # not a comment: ok\n\n\n".into();
    c.verifier.system_prompt = "quotes \" ' and \\ backslash, CR\r, NUL-free \u{1} \u{7f} \u{85} \u{2028} \u{feff} é 中 😀".into();
    c.verifier.prompt_template = "{problem}\n{solution}".into();
    c.judge.system_prompt = "- starts like a list item\n? and a question".into();
    c.judge.prompt_template = "{rubric}: {solution} — {problem}".into();
    c.judge.scoring_rubric = "null".into();
    c.judge.model = "local/true".into();
    c.solver.temperature = 1e-05;
    c.verifier.temperature = 1.0;
    c.judge.temperature = 0.30000000000000004;
    c.max_attempts = 7;
    c.run_budget_usd = Some(1e16);
    c.batch_budget_usd = Some(0.1);
    c
}

#[test]
fn yaml_and_json_exports_read_back_to_the_same_config_and_hash() {
    let mut configs = vec![base(), tricky()];
    configs.extend(presets().into_iter().map(|p| p.config));
    for c in configs {
        for (format, text) in [
            (ConfigFormat::Yaml, c.to_yaml()),
            (ConfigFormat::Json, c.to_json()),
        ] {
            let back = parse_config(text.as_bytes(), format)
                .unwrap_or_else(|e| panic!("{format}: {e}\n{text}"));
            assert_eq!(back.warnings, Vec::<String>::new(), "{text}");
            assert_eq!(back.config, c, "{format}\n{text}");
            assert_eq!(back.config.config_hash(), c.config_hash());
            assert_eq!(ConfigFormat::sniff(&text), format);
        }
    }
}

#[test]
fn exports_leave_out_extension_fields_at_their_defaults() {
    let c = base();
    for text in [c.to_yaml(), c.to_json()] {
        for name in [
            "max_reasks",
            "max_attempts",
            "request_timeout_secs",
            "budget",
        ] {
            assert!(!text.contains(name), "{name} in\n{text}");
        }
        // Every original field is written out, defaults included.
        for name in [
            "mode",
            "max_iterations",
            "trajectory_output_dir",
            "system_prompt",
        ] {
            assert!(text.contains(name), "{name} missing from\n{text}");
        }
    }
    let t = tricky();
    let yaml = t.to_yaml();
    assert!(yaml.contains("\nmax_attempts: 7\n"), "{yaml}");
    assert!(yaml.contains("\nrun_budget_usd: 1.0e+16\n"), "{yaml}");
    assert!(yaml.contains("\n  temperature: 1.0e-05\n"), "{yaml}");
    assert!(!yaml.contains("max_reasks"));
}

#[test]
fn yaml_export_is_readable_text() {
    let yaml = base().to_yaml();
    assert!(
        yaml.starts_with("config_version: \"1\"\nmode: debate\nmax_iterations: 5\n"),
        "{yaml}"
    );
    assert!(yaml.contains("\nsolver:\n  role: solver\n  model: gpt-4.1-mini\n  temperature: 0.5\n  max_tokens: 100\n"), "{yaml}");
    let local = preset("local-smollm2").unwrap().config.to_yaml();
    assert!(local.contains("  prompt_template: |-\n    Solve the following problem.\n\n    Problem:\n    {problem}\n"), "{local}");
    let json_text = base().to_json();
    assert!(
        json_text.starts_with("{\n  \"config_version\": \"1\",\n  \"mode\": \"debate\",\n"),
        "{json_text}"
    );
}

// ---- hostile input --------------------------------------------------------------------------------
// Each refusal below is the error of the limit that stopped the reader (TooLarge, TooComplex):
// that, not how long the call took on a shared machine, shows the input was cut off before it
// could cost much time or memory.

#[test]
fn oversized_files_are_rejected_before_parsing() {
    let big = vec![b'a'; 50 * 1024 * 1024];
    let err = parse_config(&big, ConfigFormat::Yaml).unwrap_err();
    assert_eq!(
        err,
        ConfigError::TooLarge {
            bytes: 50 * 1024 * 1024,
            limit: MAX_CONFIG_BYTES
        }
    );
    assert_eq!(MAX_CONFIG_BYTES, 1_048_576);
    assert!(err.to_string().contains("52428800 bytes"));
    let just_over = vec![b' '; MAX_CONFIG_BYTES + 1];
    assert!(matches!(
        parse_config(&just_over, ConfigFormat::Json),
        Err(ConfigError::TooLarge { .. })
    ));
    let at_limit = vec![b' '; MAX_CONFIG_BYTES];
    assert_eq!(
        parse_config(&at_limit, ConfigFormat::Json).unwrap_err(),
        ConfigError::Empty {
            format: ConfigFormat::Json
        }
    );
}

#[test]
fn non_utf8_and_binary_garbage_are_errors() {
    let latin1 = b"config_version: \"1\"\nsolver:\n  model: caf\xe9\n";
    assert_eq!(
        parse_config(latin1, ConfigFormat::Yaml).unwrap_err(),
        ConfigError::NotUtf8 {
            line: 3,
            column: 13,
            byte_offset: 40
        }
    );
    // UTF-16 with a byte-order mark, as some Windows editors save.
    let utf16: Vec<u8> = "\u{feff}a: b"
        .encode_utf16()
        .flat_map(|u| u.to_le_bytes())
        .collect();
    assert!(matches!(
        parse_config(&utf16, ConfigFormat::Yaml),
        Err(ConfigError::NotUtf8 { byte_offset: 0, .. })
    ));
    // Pseudo-random bytes (a fixed LCG), some made valid UTF-8 by masking to ASCII.
    let mut state: u32 = 12345;
    let mut noise = Vec::new();
    for _ in 0..4096 {
        state = state.wrapping_mul(1_103_515_245).wrapping_add(12_345);
        noise.push((state >> 16) as u8);
    }
    let ascii: Vec<u8> = noise.iter().map(|b| b & 0x7f).collect();
    for format in [ConfigFormat::Yaml, ConfigFormat::Json] {
        assert!(parse_config(&noise, format).is_err());
        assert!(parse_config(&ascii, format).is_err());
        assert!(parse_config(b"\0\0\0\0", format).is_err());
    }
}

#[test]
fn ten_thousand_levels_of_nesting_are_an_error_not_a_crash() {
    let n = 10_000;
    let flow = format!("{}{}", "[".repeat(n), "]".repeat(n));
    let json_objects = format!("{}1{}", "{\"a\":".repeat(n), "}".repeat(n));
    let yaml_objects = format!("{}1{}", "{a: ".repeat(n), "}".repeat(n));
    // Block style needs an indent per level: 1,400 levels is as deep as fits in 1 MiB.
    let block: String = (0..1_400)
        .map(|i| format!("{}k:\n", " ".repeat(i)))
        .collect();
    assert!(block.len() < MAX_CONFIG_BYTES);
    let inside_unknown = |inner: &str| format!("{{\"config_version\": \"1\", \"x\": {inner}}}");

    for (format, text) in [
        (ConfigFormat::Json, flow.clone()),
        (ConfigFormat::Json, json_objects.clone()),
        (ConfigFormat::Json, inside_unknown(&flow)),
        (ConfigFormat::Json, inside_unknown(&json_objects)),
        (ConfigFormat::Yaml, flow.clone()),
        (ConfigFormat::Yaml, yaml_objects.clone()),
        (ConfigFormat::Yaml, inside_unknown(&flow)),
        (ConfigFormat::Yaml, inside_unknown(&yaml_objects)),
        (ConfigFormat::Yaml, block),
    ] {
        let err = parse_config(text.as_bytes(), format).unwrap_err();
        assert!(
            matches!(err, ConfigError::TooComplex { .. }),
            "{format}: {err:?}"
        );
    }
    let err = json(&inside_unknown(&flow)).unwrap_err();
    assert!(matches!(err, ConfigError::TooComplex { .. }), "{err:?}");
    assert!(err.to_string().contains("too deeply nested"));
}

#[test]
fn yaml_alias_bombs_are_stopped() {
    // "Billion laughs": each level repeats the previous one nine times (9^9 strings).
    let mut bomb = String::from(
        "a0: &a0 [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n",
    );
    for i in 1..=9 {
        let p = i - 1;
        bomb.push_str(&format!(
            "a{i}: &a{i} [*a{p},*a{p},*a{p},*a{p},*a{p},*a{p},*a{p},*a{p},*a{p}]\n"
        ));
    }
    let err = yaml(&bomb).unwrap_err();
    assert!(matches!(err, ConfigError::TooComplex { .. }), "{err:?}");

    // Flat but quadratic: one big anchored list, aliased many times (no nesting to count).
    let big = format!("a: &a [{}]\n", vec!["1"; 100_000].join(","));
    let many = format!("b: [{}]\n", vec!["*a"; 150_000].join(","));
    let err = yaml(&format!("{big}{many}")).unwrap_err();
    assert!(matches!(err, ConfigError::TooComplex { .. }), "{err:?}");

    // A bomb fed into a known field is stopped too.
    let err =
        yaml(&format!("{bomb}{BASE_YAML}").replace("  role: solver", "  role: *a9")).unwrap_err();
    assert!(
        matches!(
            err,
            ConfigError::TooComplex { .. } | ConfigError::WrongType { .. }
        ),
        "{err:?}"
    );
}

#[test]
fn wrong_top_level_types_are_named() {
    let cases: &[(ConfigFormat, &str, &str)] = &[
        (ConfigFormat::Yaml, "- a\n- b\n", "a list"),
        (ConfigFormat::Yaml, "just text\n", "a string"),
        (ConfigFormat::Yaml, "42\n", "a number"),
        (ConfigFormat::Yaml, "null\n", "nothing (null)"),
        (ConfigFormat::Json, "[1, 2]", "a list"),
        (ConfigFormat::Json, "\"text\"", "a string"),
        (ConfigFormat::Json, "true", "a boolean"),
    ];
    for (format, text, found) in cases {
        let err = parse_config(text.as_bytes(), *format).unwrap_err();
        assert_eq!(
            err,
            ConfigError::WrongTopLevel {
                format: *format,
                found: found.to_string()
            }
        );
    }
    let message = yaml("- a\n").unwrap_err().to_string();
    assert_eq!(message, "the YAML file holds a list, not a mapping of settings; a pipeline config has keys such as `config_version:` and `solver:` at the top");
    for text in ["", "  \n\t\n", "# only a comment\n", "\u{feff}"] {
        assert_eq!(
            yaml(text).unwrap_err(),
            ConfigError::Empty {
                format: ConfigFormat::Yaml
            },
            "{text:?}"
        );
    }
}

#[test]
fn nan_and_infinity_are_refused_where_numbers_are_expected() {
    for (value, found) in [(".nan", "NaN"), (".inf", "infinity"), ("-.inf", "infinity")] {
        let err = yaml(&BASE_YAML.replace("temperature: 0.5", &format!("temperature: {value}")))
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "solver.temperature: expected a finite number, found {found} (line 5, column 16)"
            )
        );
    }
    let err = yaml(&format!("{BASE_YAML}run_budget_usd: .inf\n")).unwrap_err();
    assert!(
        matches!(err, ConfigError::WrongType { ref path, .. } if path == "run_budget_usd"),
        "{err:?}"
    );
    // JSON has no NaN or Infinity: those are syntax errors, and so is an overflowing literal.
    for bad in ["NaN", "Infinity", "1e400"] {
        let err = json(&format!("{{\"config_version\": \"1\", \"x\": {bad}}}")).unwrap_err();
        assert!(
            matches!(err, ConfigError::Syntax { line: 1, .. }),
            "{bad}: {err:?}"
        );
    }
}

#[test]
fn other_yaml_oddities_are_errors_with_sentences() {
    let two_docs = format!("{BASE_YAML}---\n{BASE_YAML}");
    let err = yaml(&two_docs).unwrap_err();
    assert!(matches!(err, ConfigError::Unreadable { .. }), "{err:?}");
    assert_eq!(
        err.to_string(),
        "the YAML file could not be read: it holds more than one YAML document (separated by `---`); keep one config per file"
    );

    let tagged = BASE_YAML.replace("model: gpt-4.1-mini", "model: !secret gpt");
    let err = yaml(&tagged).unwrap_err();
    assert!(
        matches!(err, ConfigError::WrongType { ref path, .. } if path == "solver.model"),
        "{err:?}"
    );

    let unknown_alias = BASE_YAML.replace("model: gpt-4.1-mini", "model: *nowhere");
    assert!(matches!(
        yaml(&unknown_alias).unwrap_err(),
        ConfigError::Syntax { .. }
    ));

    let odd_keys = format!("{BASE_YAML}1: one\n[a, b]: two\n");
    let parsed = yaml(&odd_keys).unwrap();
    assert_eq!(
        parsed.warnings,
        vec![
            "top level: a key that is a number, not text, ignored",
            "top level: a key that is a list, not text, ignored",
        ]
    );

    let bad_merge = BASE_YAML.replace("  role: solver\n", "  role: solver\n  <<: 5\n");
    assert_eq!(
        yaml(&bad_merge).unwrap_err().to_string(),
        "solver.<<: expected a mapping (or a list of mappings) to merge, found a number (line 4, column 7)"
    );
}

/// PyYAML (the original's reader) reads each YAML export to exactly the values and types of
/// the JSON export, and the original's hash of what it read is ours: the exports go through
/// `tests/fixtures/config/python/check_exports.py` in the `.venv` that `scripts/setup` fills
/// from `scripts/test-requirements.txt` (PyYAML pinned there).
#[test]
fn pyyaml_reads_our_exports_to_the_same_config_and_hash() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let python = root.join(".venv/bin/python3");
    assert!(
        python.is_file(),
        "{} is missing: run ./scripts/setup, which installs PyYAML from scripts/test-requirements.txt",
        python.display()
    );
    let dir = std::env::temp_dir().join(format!("trialogue-config-exports-{}", std::process::id()));
    // A leftover of an earlier run under the same process id must not be checked again.
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let mut configs = vec![base(), tricky()];
    configs.extend(presets().into_iter().map(|p| p.config));
    for (i, c) in configs.iter().enumerate() {
        std::fs::write(dir.join(format!("{i}.yaml")), c.to_yaml()).unwrap();
        std::fs::write(dir.join(format!("{i}.json")), c.to_json()).unwrap();
        std::fs::write(dir.join(format!("{i}.hash")), c.config_hash()).unwrap();
        assert_eq!(
            parse_config(c.to_yaml().as_bytes(), ConfigFormat::Yaml)
                .unwrap()
                .config,
            *c
        );
    }
    let out = std::process::Command::new(&python)
        .arg(root.join("tests/fixtures/config/python/check_exports.py"))
        .arg(&dir)
        .output()
        .expect("the .venv's python3 runs check_exports.py");
    let _ = std::fs::remove_dir_all(&dir);
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{report}");
    assert!(
        report.contains(&format!("{} exports checked, 0 mismatched", configs.len())),
        "{report}"
    );
}
