//! Training data from stored runs: SFT, preference (DPO), unpaired preference (KTO), critic and
//! reward datasets in TRL's and OpenAI's formats, with a dataset card, in one store-only ZIP.
//!
//! The pieces, in the order an export uses them:
//! - [`selection`]: which runs (chosen runs, a batch, or filters);
//! - [`export::problem_groups`]: the runs grouped by problem, so a group is all that is held;
//! - [`answers`]: a run read as answers, verdicts and the judge's score;
//! - [`prompt`]: the exact prompt a step sent (one function, [`prompt::step_prompt`]);
//! - [`rows`]: rows of every kind, the signals and rewards, and why candidates are dropped;
//! - [`split`], [`dedup`]: leakage-free splits by problem, duplicates by content hash;
//! - [`formats`]: rows in each format, and a validator per format that every row passes;
//! - [`export`]: the streamed writing and the counts;
//! - [`card`]: the dataset card; [`zip`] and [`archive`]: the download's store-only ZIP;
//! - [`query`]: the page's address, so other pages can open it pre-filtered.

pub mod answers;
pub mod archive;
pub mod card;
pub mod dedup;
pub mod export;
pub mod formats;
pub mod options;
pub mod prompt;
pub mod query;
pub mod rows;
pub mod selection;
pub mod split;
pub mod zip;

pub use answers::RunData;
pub use archive::DatasetArchive;
pub use export::{problem_groups, ExportStats, Exporter, OutputFile, CARD_FILE};
pub use options::{DatasetFormat, Signal, TrainingOptions};
pub use selection::{RunFilter, Selection};
pub use split::{Split, SplitPlan};
