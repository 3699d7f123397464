//! The dataset card: a `README.md` in Hugging Face's dataset-card form (YAML front matter with
//! the configs and splits, then Markdown) that says how every row was made.
//!
//! Front matter keys follow Hugging Face's dataset card documentation
//! (<https://huggingface.co/docs/hub/datasets-cards>) and its data-files configuration
//! (<https://huggingface.co/docs/hub/datasets-manual-configuration>): `configs` with
//! `data_files` per split, and `dataset_info.splits` with `num_examples`.

use std::fmt::Write;

use super::export::{ExportStats, OutputFile};
use super::options::{
    AnswerRendering, AnswerScope, DatasetFormat, PairPrompt, Pairing, RewardSource, SftShape,
    TrainingOptions,
};
use super::rows::DropReason;
use super::split::Split;
use crate::core::clock::iso8601_utc;

/// The TRL version whose "Dataset formats and types" page the TRL formats follow.
pub const TRL_VERSION: &str = "0.24.0";
/// That page.
pub const TRL_FORMATS_URL: &str = "https://huggingface.co/docs/trl/v0.24.0/dataset_formats";
/// OpenAI's supervised (chat) fine-tuning guide.
pub const OPENAI_SFT_URL: &str = "https://platform.openai.com/docs/guides/supervised-fine-tuning";
/// OpenAI's preference (DPO) fine-tuning guide.
pub const OPENAI_DPO_URL: &str =
    "https://platform.openai.com/docs/guides/direct-preference-optimization";

/// What the card is written from.
#[derive(Debug, Clone, Copy)]
pub struct CardInput<'a> {
    /// The options the rows were made with.
    pub options: &'a TrainingOptions,
    /// The selection, one line per source or filter.
    pub selection: &'a [String],
    /// The export's counts.
    pub stats: &'a ExportStats,
    /// When the export was made (epoch ms).
    pub created_ms: f64,
}

fn quoted(text: &str) -> String {
    // A JSON string is a YAML double-quoted scalar.
    serde_json::to_string(text).unwrap_or_else(|_| "\"\"".into())
}

fn size_category(rows: u64) -> &'static str {
    match rows {
        0..1_000 => "n<1K",
        1_000..10_000 => "1K<n<10K",
        10_000..100_000 => "10K<n<100K",
        100_000..1_000_000 => "100K<n<1M",
        _ => "1M<n<10M",
    }
}

fn share(part: u64, whole: u64) -> String {
    if whole == 0 {
        "–".into()
    } else {
        format!("{:.1} %", 100.0 * part as f64 / whole as f64)
    }
}

fn format_description(options: &TrainingOptions) -> String {
    match options.format {
        DatasetFormat::TrlSft => match options.sft_shape {
            SftShape::PromptCompletion => format!("TRL conversational prompt-completion (`prompt`, `completion`), as in TRL {TRL_VERSION}'s [Dataset formats and types]({TRL_FORMATS_URL}); TRL's SFT trainer learns from the completion only."),
            SftShape::Messages => format!("TRL conversational language modelling (`messages`), as in TRL {TRL_VERSION}'s [Dataset formats and types]({TRL_FORMATS_URL})."),
        },
        DatasetFormat::TrlPreference => format!("TRL conversational preference with an explicit prompt (`prompt`, `chosen`, `rejected`), as in TRL {TRL_VERSION}'s [Dataset formats and types]({TRL_FORMATS_URL}), for DPO and the other preference trainers."),
        DatasetFormat::TrlUnpaired => format!("TRL conversational unpaired preference (`prompt`, `completion`, `label`), as in TRL {TRL_VERSION}'s [Dataset formats and types]({TRL_FORMATS_URL}), for KTO and BCO."),
        DatasetFormat::OpenAiSft => format!("OpenAI chat fine-tuning (`messages`), as in OpenAI's [supervised fine-tuning guide]({OPENAI_SFT_URL}). Each row's provenance is in `provenance.jsonl` (split, line), since the format has no room for it."),
        DatasetFormat::OpenAiPreference => format!("OpenAI preference fine-tuning (`input.messages`, `preferred_output`, `non_preferred_output`), as in OpenAI's [DPO guide]({OPENAI_DPO_URL}). Each row's provenance is in `provenance.jsonl` (split, line)."),
        DatasetFormat::Critic => format!("Critic rows in TRL's conversational unpaired-preference columns (`prompt` = the verifier's prompt with the problem and the solution, `completion` = the verifier's critique, `label` = the verdict agreed with the ground truth), plus `verdict_passed` and `answer_correct`; see TRL {TRL_VERSION}'s [Dataset formats and types]({TRL_FORMATS_URL})."),
        DatasetFormat::Reward => "Reward rows: `prompt` and `completion` (conversational), `reward` in [0, 1], `reward_source`, and `rewards` per role (see below).".into(),
        DatasetFormat::Plain => "Plain rows: the conversational `prompt` and `completion`, and every field known about the answer (problem, ground truth, iteration, the structured output, the extracted answer, correctness, the verifier's verdict, the judge's score, the label of each signal, the per-role rewards).".into(),
    }
}

fn rendering_description(rendering: AnswerRendering) -> &'static str {
    match rendering {
        AnswerRendering::Json => "the structured output as stored (one JSON object, keys sorted; the model's exact reply bytes are not kept)",
        AnswerRendering::Solution => "the `solution` text alone (for the verifier, the `critique`)",
        AnswerRendering::SolutionWithReasoning => "the `reasoning`, a blank line, then the `solution` (for the verifier, the `critique`)",
    }
}

fn reward_description(source: RewardSource, threshold: f64) -> String {
    let base = match source {
        RewardSource::GroundTruth => "1.0 when the answer is correct against the ground truth (Trialogue's answer checker), else 0.0".to_string(),
        RewardSource::Verifier => "the verifier's probability that the answer is right: its confidence when it passed the answer, 1 − its confidence when it failed it".to_string(),
        RewardSource::Judge => "the judge's score of the final answer (the judge scores no other)".to_string(),
        RewardSource::Combined => "the mean of those of these that are known for the answer: ground truth (1.0 / 0.0), the verifier's probability (confidence if passed, 1 − confidence if failed), the judge's score".to_string(),
    };
    format!(
        "`reward` = {base}. `rewards` follows the original pipeline's `reward` semantics per role, 1.0 or 0.0 and `null` when unknown: `solver` = the answer is correct; `verifier` = the verifier's verdict on it agreed with the ground truth; `judge` = the judge's acceptance (score ≥ {threshold}) agreed with the ground truth (final answers only)."
    )
}

/// The card's text.
pub fn dataset_card(input: CardInput<'_>) -> String {
    let CardInput {
        options,
        selection,
        stats,
        created_ms,
    } = input;
    let total = stats.total_rows();
    let mut out = String::new();
    // Writing to a String cannot fail.
    let _ = write_card(&mut out, options, selection, stats, created_ms, total);
    out
}

fn write_card(
    out: &mut String,
    options: &TrainingOptions,
    selection: &[String],
    stats: &ExportStats,
    created_ms: f64,
    total: u64,
) -> std::fmt::Result {
    let format = options.format;
    writeln!(out, "---")?;
    writeln!(
        out,
        "pretty_name: {}",
        quoted(&format!("Trialogue training data: {}", format.label()))
    )?;
    writeln!(out, "language:\n- en")?;
    writeln!(out, "tags:\n- trialogue\n- math")?;
    if matches!(
        format,
        DatasetFormat::TrlSft
            | DatasetFormat::TrlPreference
            | DatasetFormat::TrlUnpaired
            | DatasetFormat::Critic
    ) {
        writeln!(out, "- trl")?;
    }
    writeln!(out, "task_categories:\n- text-generation")?;
    writeln!(out, "size_categories:\n- {}", size_category(total))?;
    writeln!(out, "configs:\n- config_name: default\n  data_files:")?;
    for split in Split::ALL {
        writeln!(
            out,
            "  - split: {}\n    path: {}",
            split.as_str(),
            OutputFile::Split(split).name()
        )?;
    }
    writeln!(out, "dataset_info:\n  splits:")?;
    for split in Split::ALL {
        writeln!(
            out,
            "  - name: {}\n    num_examples: {}",
            split.as_str(),
            stats.rows[split.index()]
        )?;
    }
    writeln!(out, "---\n")?;

    writeln!(out, "# Trialogue training data: {}\n", format.label())?;
    writeln!(
        out,
        "Made by Trialogue on {} from solver → verifier → judge debate runs. {} rows.\n",
        iso8601_utc(created_ms),
        total
    )?;

    writeln!(out, "## Format\n\n{}\n", format_description(options))?;
    writeln!(
        out,
        "Every row passed the format's validator before it was written (message roles, the last message, empty content{}).\n",
        if format.is_openai() {
            format!(", and at most {} tokens per example, counted as at most one token per byte, which OpenAI's byte-level tokenizers never exceed", options.token_limit)
        } else {
            String::new()
        }
    )?;

    writeln!(out, "## Sources and filters\n")?;
    for line in selection {
        writeln!(out, "- {line}")?;
    }
    writeln!(
        out,
        "\n{} runs were selected; {} of them gave rows. {} selected runs were imported from trajectory files and have no stored config, so their exact prompts are unknown: they gave no rows.\n",
        stats.runs_selected, stats.runs_used, stats.runs_without_config
    )?;

    writeln!(out, "## How the rows were made\n")?;
    writeln!(
        out,
        "- Prompts: each row's prompt is the system prompt and the rendered user prompt of the step's first request, exactly as sent: rendered again from the run's stored config and the step's stored input by the same functions the loop used, with the structured-output mode of the step's provider as set in Settings at export time (a prompt-only provider's schema instructions are part of the prompt). Re-ask turns are not included."
    )?;
    writeln!(
        out,
        "- Assistant content: {}.",
        rendering_description(options.rendering)
    )?;
    if options.include_thinking {
        let where_ = if matches!(
            format,
            DatasetFormat::OpenAiSft | DatasetFormat::OpenAiPreference
        ) {
            "not included: OpenAI's fine-tuning format has no field for it"
        } else {
            "the thinking the provider returned with an answer is its assistant message's `reasoning_content` (the readable text; a redacted block stands as a note); answers without thinking have none"
        };
        writeln!(out, "- Thinking: {where_}.")?;
    }
    match format {
        DatasetFormat::Critic => writeln!(
            out,
            "- Label: whether the verifier's verdict (passed / failed) agreed with the ground truth (the answer checked by Trialogue's answer checker). Verdicts of runs without a ground truth are dropped."
        )?,
        DatasetFormat::Reward => writeln!(
            out,
            "- Reward: {}",
            reward_description(options.reward, options.judge_threshold)
        )?,
        _ => {
            writeln!(
                out,
                "- Signal: `{}`. An answer is good when every chosen signal accepts it and bad when any one rejects it; otherwise it has no label. Ground truth: correct by Trialogue's answer checker; verifier: passed; judge: score ≥ {} (the judge scores only the final answer).",
                options.signal_names(),
                options.judge_threshold
            )?;
            if matches!(format, DatasetFormat::Plain) {
                writeln!(out, "- Rewards: {}", reward_description(options.reward, options.judge_threshold))?;
            }
        }
    }
    if matches!(format, DatasetFormat::TrlSft | DatasetFormat::OpenAiSft) {
        writeln!(
            out,
            "- Answers: {}.",
            match options.scope {
                AnswerScope::FinalOnly => "each run's final answer (the one the judge scored), when it is good",
                AnswerScope::EveryAccepted => "every good answer, revisions included, each with the prompt it was made from (a revision's prompt holds the critique it answered)",
            }
        )?;
    }
    if format.is_preference() {
        let within = match options.pair_prompt {
            PairPrompt::FirstTurn => "written against the run's first-turn prompt (the problem with no critique) for both answers, although the revision was made from a prompt holding the critique",
            PairPrompt::CritiqueConditioned => "written against the prompt the accepted revision was made from (holding the critique of the rejected draft) for both answers",
        };
        let policy = match options.pairing {
            Pairing::WithinRuns => format!("within a run only: the first good answer that follows a bad one (chosen) and the bad draft just before it (rejected), {within}"),
            Pairing::AcrossRuns => "across runs only: the first-turn answers of runs of the same problem, grouped by their identical first-turn prompt; in each group good and bad answers are paired one to one in run-id order".into(),
            Pairing::Both => format!("within a run: the first good answer that follows a bad one (chosen) and the bad draft just before it (rejected), {within}; and across runs: the first-turn answers of runs of the same problem, grouped by their identical first-turn prompt, good and bad paired one to one in run-id order"),
        };
        writeln!(out, "- Pairing policy: {policy}. A pair never has two prompts. Ties (all answers of one label) and pairs whose answers are equal after normalisation are dropped and counted below.")?;
        for (kind, n) in &stats.pairs {
            writeln!(out, "  - {kind}: {n} pairs")?;
        }
    }
    writeln!(
        out,
        "- Duplicates: rows with the same prompt and answer(s) (SHA-256 of the texts) are written once.\n- Provenance: {}\n",
        if format.is_openai() {
            "`provenance.jsonl` holds, for each row (`split`, 1-based `line`), the runs and steps it came from, their config hashes, models and batch, and the signal or reward source."
        } else {
            "the `provenance` column holds the runs and steps each row came from, their config hashes, models and batch, and the signal or reward source."
        }
    )?;

    writeln!(out, "## Splits\n")?;
    writeln!(
        out,
        "Split by problem: SHA-256 of the seed ({}) and the problem's normalised text (whitespace collapsed, lower-cased) decides the split, so the same problem is never in two splits, across runs, batches and configs. Shares: validation {}, test {}, train the rest.\n",
        options.split.seed, options.split.validation, options.split.test
    )?;
    writeln!(
        out,
        "| split | rows | problems | good | bad |\n|---|---:|---:|---:|---:|"
    )?;
    for split in Split::ALL {
        let i = split.index();
        writeln!(
            out,
            "| {} | {} | {} | {} | {} |",
            split.as_str(),
            stats.rows[i],
            stats.problems[i],
            stats.labels[i][1],
            stats.labels[i][0]
        )?;
    }
    writeln!(out, "\nGood and bad count rows that carry a label.\n")?;

    if format == DatasetFormat::Critic {
        let c = stats.critic;
        writeln!(
            out,
            "## The verifier's mistakes\n\nOf {} verdicts: false passes (a wrong answer passed) {} ({}), false fails (a right answer failed) {} ({}).\n",
            c.verdicts,
            c.false_passes,
            share(c.false_passes, c.verdicts),
            c.false_fails,
            share(c.false_fails, c.verdicts)
        )?;
    }
    if format == DatasetFormat::Reward && total > 0 {
        writeln!(
            out,
            "Mean reward: {:.4}.\n",
            stats.reward_sum / total as f64
        )?;
    }

    writeln!(out, "## Models and configs\n")?;
    for (role, models) in &stats.models {
        let list: Vec<String> = models.iter().map(|m| format!("`{m}`")).collect();
        writeln!(out, "- {role}: {}", list.join(", "))?;
    }
    let hashes: Vec<String> = stats
        .config_hashes
        .iter()
        .map(|h| format!("`{h}`"))
        .collect();
    writeln!(
        out,
        "- config hashes: {}\n",
        if hashes.is_empty() {
            "none".into()
        } else {
            hashes.join(", ")
        }
    )?;

    writeln!(out, "## Cost\n")?;
    writeln!(
        out,
        "The runs that gave rows cost ${:.6} ({}); all selected runs cost ${:.6}. Costs are Trialogue's, priced per step when the run was made.\n",
        stats.cost_used_usd,
        if stats.cost_complete { "every step priced" } else { "a lower bound: some steps had no known price or usage" },
        stats.cost_selected_usd
    )?;

    writeln!(out, "## Dropped\n")?;
    if stats.drops.is_empty() {
        writeln!(out, "Nothing was dropped.")?;
    } else {
        writeln!(
            out,
            "{} candidates did not become rows:\n",
            stats.total_dropped()
        )?;
        writeln!(out, "| reason | count | what |\n|---|---:|---|")?;
        for (reason, n) in &stats.drops {
            writeln!(
                out,
                "| `{}` | {} | {} |",
                reason.as_str(),
                n,
                DropReason::describe(*reason)
            )?;
        }
    }
    Ok(())
}
