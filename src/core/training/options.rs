//! What the user chooses: the dataset's format, what decides good and bad, and how rows are
//! made. Each option documents its default.

use serde::{Deserialize, Serialize};

use super::split::SplitPlan;

/// The dataset's kind and file format (the `training-format` select's option values).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum DatasetFormat {
    /// TRL supervised fine-tuning: conversational prompt-completion (or `messages`, see
    /// [`SftShape`]) of accepted solver answers.
    #[serde(rename = "trl-sft")]
    TrlSft,
    /// TRL preference: conversational `prompt` / `chosen` / `rejected`.
    #[serde(rename = "trl-preference")]
    TrlPreference,
    /// TRL unpaired preference (KTO): conversational `prompt` / `completion` / `label`.
    #[serde(rename = "trl-unpaired")]
    TrlUnpaired,
    /// OpenAI chat fine-tuning: `messages`.
    #[serde(rename = "openai-sft")]
    OpenAiSft,
    /// OpenAI preference fine-tuning (DPO): `input.messages`, `preferred_output`,
    /// `non_preferred_output`.
    #[serde(rename = "openai-preference")]
    OpenAiPreference,
    /// Critic data for the verifier: (problem, solution) → critique, labelled by whether the
    /// verdict agreed with the ground truth (TRL unpaired-preference columns).
    #[serde(rename = "critic")]
    Critic,
    /// Reward-model / RL rows: (problem, solution) → reward, with per-role rewards.
    #[serde(rename = "reward")]
    Reward,
    /// Every field of every solver answer, for people who write their own loader.
    #[serde(rename = "plain")]
    Plain,
}

impl DatasetFormat {
    /// Every format, in the order the page lists them.
    pub const ALL: [DatasetFormat; 8] = [
        DatasetFormat::TrlSft,
        DatasetFormat::TrlPreference,
        DatasetFormat::TrlUnpaired,
        DatasetFormat::OpenAiSft,
        DatasetFormat::OpenAiPreference,
        DatasetFormat::Critic,
        DatasetFormat::Reward,
        DatasetFormat::Plain,
    ];

    /// The option value (`trl-sft`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            DatasetFormat::TrlSft => "trl-sft",
            DatasetFormat::TrlPreference => "trl-preference",
            DatasetFormat::TrlUnpaired => "trl-unpaired",
            DatasetFormat::OpenAiSft => "openai-sft",
            DatasetFormat::OpenAiPreference => "openai-preference",
            DatasetFormat::Critic => "critic",
            DatasetFormat::Reward => "reward",
            DatasetFormat::Plain => "plain",
        }
    }

    /// The format whose option value is `value`.
    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.as_str() == value)
    }

    /// A short description for the page and the card.
    pub fn label(self) -> &'static str {
        match self {
            DatasetFormat::TrlSft => "TRL SFT (solver answers)",
            DatasetFormat::TrlPreference => "TRL preference pairs (DPO)",
            DatasetFormat::TrlUnpaired => "TRL unpaired preference (KTO)",
            DatasetFormat::OpenAiSft => "OpenAI chat fine-tuning (SFT)",
            DatasetFormat::OpenAiPreference => "OpenAI preference fine-tuning (DPO)",
            DatasetFormat::Critic => "Critic data for the verifier",
            DatasetFormat::Reward => "Reward-model / RL rows",
            DatasetFormat::Plain => "Plain rows with every field",
        }
    }

    /// Whether rows are preference pairs.
    pub fn is_preference(self) -> bool {
        matches!(
            self,
            DatasetFormat::TrlPreference | DatasetFormat::OpenAiPreference
        )
    }

    /// Whether rows follow one of OpenAI's fine-tuning formats (which have no room for a
    /// provenance column: it goes to `provenance.jsonl`).
    pub fn is_openai(self) -> bool {
        matches!(
            self,
            DatasetFormat::OpenAiSft | DatasetFormat::OpenAiPreference
        )
    }
}

/// What decides whether a solver answer is good (the `training-signal` select's values).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Signal {
    /// Correct against the run's ground truth (Trialogue's answer checker).
    GroundTruth,
    /// Passed by the verifier.
    Verifier,
    /// Scored at least the threshold by the judge (final answers only: the judge scores no other).
    Judge,
}

impl Signal {
    /// The three, in the page's order.
    pub const ALL: [Signal; 3] = [Signal::GroundTruth, Signal::Verifier, Signal::Judge];

    /// The option value (`ground_truth`, `verifier`, `judge`).
    pub fn as_str(self) -> &'static str {
        match self {
            Signal::GroundTruth => "ground_truth",
            Signal::Verifier => "verifier",
            Signal::Judge => "judge",
        }
    }

    /// The signal whose option value is `value`.
    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == value)
    }
}

/// Which accepted answers SFT rows are made of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AnswerScope {
    /// Only each run's final answer (default).
    #[default]
    FinalOnly,
    /// Every answer the signal accepts, revisions included, each with its own prompt.
    EveryAccepted,
}

/// Where preference pairs come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Pairing {
    /// Within a run: a rejected draft and the accepted revision that followed it.
    WithinRuns,
    /// Across runs: a good and a bad answer to the identical first-turn prompt.
    AcrossRuns,
    /// Both (default).
    #[default]
    Both,
}

/// Which single prompt a within-run pair is written against (the revision was made from a
/// prompt holding the critique; a pair must still have one prompt).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PairPrompt {
    /// The first-turn prompt (no critique), for both answers (default).
    #[default]
    FirstTurn,
    /// The prompt the accepted revision was made from (holding the critique of the rejected
    /// draft), for both answers.
    CritiqueConditioned,
}

/// What an assistant message holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AnswerRendering {
    /// The structured output as stored: one JSON object, keys sorted (default).
    #[default]
    Json,
    /// The solver's `solution` text alone (the verifier's `critique`).
    Solution,
    /// The solver's `reasoning`, a blank line, then its `solution` (the verifier's `critique`).
    SolutionWithReasoning,
}

/// Where a reward row's `reward` comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RewardSource {
    /// 1.0 when correct against the ground truth, else 0.0 (default).
    #[default]
    GroundTruth,
    /// The verifier's probability that the answer is right: its confidence when it passed the
    /// answer, one minus its confidence when it failed it.
    Verifier,
    /// The judge's score (final answers only).
    Judge,
    /// The mean of those three that are known for the answer.
    Combined,
}

impl RewardSource {
    /// Every source, in the page's order.
    pub const ALL: [RewardSource; 4] = [
        RewardSource::GroundTruth,
        RewardSource::Verifier,
        RewardSource::Judge,
        RewardSource::Combined,
    ];

    /// The option value.
    pub fn as_str(self) -> &'static str {
        match self {
            RewardSource::GroundTruth => "ground_truth",
            RewardSource::Verifier => "verifier",
            RewardSource::Judge => "judge",
            RewardSource::Combined => "combined",
        }
    }

    /// The source whose option value is `value`.
    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == value)
    }
}

/// The shape of TRL SFT rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SftShape {
    /// Conversational prompt-completion: TRL's SFT trainer then learns from the answer only
    /// (default).
    #[default]
    PromptCompletion,
    /// Conversational language modelling: one `messages` list.
    Messages,
}

/// OpenAI's per-example token limit for the models its fine-tuning guide lists
/// (`gpt-4.1-2025-04-14` and its mini and nano): 65,536 tokens.
pub const OPENAI_EXAMPLE_TOKEN_LIMIT: u64 = 65_536;

/// Everything that shapes a dataset. Each field documents its default.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainingOptions {
    /// The format (default TRL SFT).
    pub format: DatasetFormat,
    /// The signals that must all accept an answer for it to be good; any one rejecting it
    /// makes it bad (default: ground truth).
    pub signals: Vec<Signal>,
    /// The judge's score at or above which the judge accepts (default 0.7).
    pub judge_threshold: f64,
    /// SFT: final answers only, or every accepted revision (default final only).
    pub scope: AnswerScope,
    /// Preference: where pairs come from (default both).
    pub pairing: Pairing,
    /// Preference within a run: the single prompt of a pair (default the first-turn prompt).
    pub pair_prompt: PairPrompt,
    /// What assistant messages hold (default the structured output as JSON).
    pub rendering: AnswerRendering,
    /// Reward rows: where `reward` comes from (default ground truth).
    pub reward: RewardSource,
    /// The split plan (default seed 0, 80 / 10 / 10).
    pub split: SplitPlan,
    /// TRL SFT: prompt-completion or messages (default prompt-completion).
    pub sft_shape: SftShape,
    /// OpenAI formats: the per-example token limit (default [`OPENAI_EXAMPLE_TOKEN_LIMIT`]).
    pub token_limit: u64,
    /// TRL formats: the thinking the provider returned with an answer goes into its assistant
    /// message as `reasoning_content`, the field TRL's chat templates render as the turn's
    /// thinking (see `formats.rs`) (default off). OpenAI's fine-tuning formats have no such
    /// field and never carry it.
    #[serde(default)]
    pub include_thinking: bool,
}

impl Default for TrainingOptions {
    fn default() -> Self {
        TrainingOptions {
            format: DatasetFormat::TrlSft,
            signals: vec![Signal::GroundTruth],
            judge_threshold: 0.7,
            scope: AnswerScope::default(),
            pairing: Pairing::default(),
            pair_prompt: PairPrompt::default(),
            rendering: AnswerRendering::default(),
            reward: RewardSource::default(),
            split: SplitPlan::default(),
            sft_shape: SftShape::default(),
            token_limit: OPENAI_EXAMPLE_TOKEN_LIMIT,
            include_thinking: false,
        }
    }
}

/// Why options cannot be used.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum OptionsError {
    /// No signal was chosen.
    #[error("choose at least one signal that decides good and bad answers")]
    NoSignal,
    /// The judge threshold is not in [0, 1].
    #[error("the judge threshold must be a number between 0 and 1 (got {0})")]
    Threshold(f64),
    /// The split shares do not work.
    #[error(transparent)]
    Split(#[from] super::split::SplitPlanError),
    /// The token limit is zero.
    #[error("the token limit per example must be at least 1")]
    TokenLimit,
}

impl TrainingOptions {
    /// Checks every option.
    pub fn validate(&self) -> Result<(), OptionsError> {
        if self.signals.is_empty() {
            return Err(OptionsError::NoSignal);
        }
        if !(self.judge_threshold.is_finite() && (0.0..=1.0).contains(&self.judge_threshold)) {
            return Err(OptionsError::Threshold(self.judge_threshold));
        }
        if self.token_limit == 0 {
            return Err(OptionsError::TokenLimit);
        }
        self.split.validate()?;
        Ok(())
    }

    /// The signals as the card and provenance name them (`ground_truth+verifier`).
    pub fn signal_names(&self) -> String {
        let mut signals = self.signals.clone();
        signals.sort();
        signals.dedup();
        signals
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join("+")
    }
}
