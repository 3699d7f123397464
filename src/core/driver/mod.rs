//! The run driver: the one lifecycle of every run (create or reopen its record, drive the loop
//! over it, save its summary) and of every batch (store or reconcile its record, run its
//! items through the same run lifecycle, save it as it goes). The Run and Batch pages adapt
//! its events to their signals; core's tests drive it over the in-memory store and the
//! scripted LLM.
//!
//! Everything a run meets is an input, so new ways of running plug in here: the LLM (a
//! replay of stored replies is another [`AgentLlm`](crate::core::llm::AgentLlm)), the store,
//! the clock, the prices, a gate over every call (a batch's, an experiment's budget), the
//! locks, and the listener.
//!
//! - [`RunDriver`]: start, resume and finish one run ([`run`]).
//! - [`BatchDriver`]: start and resume a batch ([`batch`]), saving its record through
//!   [`saver`].
//! - [`RunDriver::fork`], [`RunDriver::rejudge`]: a new run from a stored one, its first
//!   steps carried over and the rest called live ([`fork`]).
//! - [`StartError`]: why either could not start; nothing was called or changed then.
//! - [`TabLocks`]: which tab drives what ([`locks`]); [`Uncommitted`]: spend a resumed run
//!   carries over ([`spend`]).
//! - [`startup::mark_abandoned`]: what a closed tab left going becomes `interrupted` when the
//!   app loads ([`startup`]).

pub mod batch;
pub mod error;
pub mod fork;
pub mod locks;
pub mod run;
pub mod saver;
pub mod spend;
pub mod startup;
pub(crate) mod wait;

pub use batch::{BatchDriver, BatchProgress};
pub use error::{StartError, Work};
pub use fork::{rejudge_config, Fork, Rejudged};
pub use locks::{
    hold_for_delete, Claim, DeleteHold, DrivenElsewhere, MemoryLocks, NoLocks, TabLocks,
};
pub use run::{client_options, ClientSource, Finished, LlmSource, NewRun, RunDriver, RunEvent};
pub use spend::Uncommitted;
