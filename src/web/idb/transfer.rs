//! Moving runs in as trajectory JSONL: import from a parsed file without ever overwriting a
//! stored run (the way out is `export.rs`).

use std::collections::{HashMap, HashSet};

use indexed_db_futures::prelude::*;
use indexed_db_futures::transaction::TransactionMode;
use wasm_bindgen::JsValue;

use crate::core::jsonl::{DuplicateStep, ReadReport, RejectedLine};
use crate::core::sorting;
use crate::core::trajectory::{RunRecord, TrajectoryEntry};

use indexed_db_futures::internals::SystemRepr;

use super::error::StoreError;
use super::records::RunRow;
use super::schema::{COST_ROLLUPS, RUNS, RUN_COUNTS, STEPS};
use super::{
    add_step_in, count, ended_by_itself, js_failure, request, rollups, run_counts, run_steps_in,
    store, TrajectoryStore,
};

/// What to do with an imported run whose id is already stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OnConflict {
    /// Leave the stored run alone and report the id in [`ImportSummary::conflicts`].
    #[default]
    Skip,
    /// Keep both: import under the first free id `<id>_2`, `<id>_3`, … with every step's
    /// `run_id` rewritten to it.
    KeepBoth,
}

/// One run that was imported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportedRun {
    /// The id it is stored under.
    pub run_id: String,
    /// The id it had in the file (differs from `run_id` after [`OnConflict::KeepBoth`]).
    pub original_id: String,
    /// How many steps were stored.
    pub steps: u64,
}

/// A run that could not be imported; nothing of it was stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportFailure {
    /// The id it had in the file.
    pub run_id: String,
    /// Why.
    pub error: StoreError,
}

/// What an import did, with the reader's findings carried along so one summary can be shown.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ImportSummary {
    /// Runs stored, in file order.
    pub imported: Vec<ImportedRun>,
    /// Ids already stored and skipped ([`OnConflict::Skip`]); the stored runs are unchanged.
    pub conflicts: Vec<String>,
    /// Runs that failed to be stored (each in its own transaction, so nothing partial).
    pub failed: Vec<ImportFailure>,
    /// Lines of the file that were not steps (from the [`ReadReport`]).
    pub rejected: Vec<RejectedLine>,
    /// Repeated steps in the file that were skipped (from the [`ReadReport`]).
    pub duplicates: Vec<DuplicateStep>,
}

/// An import stored chunk by chunk ([`TrajectoryStore::import_chunk`]): what it did so far,
/// and which runs it created, so that a run whose steps come in several chunks is appended to
/// rather than seen as taken.
#[derive(Debug, Clone, Default)]
pub struct StreamedImport {
    /// What the import did so far.
    pub summary: ImportSummary,
    /// The steps of the runs whose ids were taken, kept so they can be imported as copies.
    pub conflicting: ReadReport,
    /// Original id → its index in `summary.imported`.
    created: HashMap<String, usize>,
    taken: HashSet<String>,
    failed: HashSet<String>,
}

impl StreamedImport {
    /// An import that has stored nothing yet.
    pub fn new() -> Self {
        Self::default()
    }

    fn keep_aside(&mut self, report: &ReadReport, id: &str) {
        for (entry, line) in report.entries.iter().zip(&report.lines) {
            if entry.run_id == id {
                self.conflicting.entries.push(entry.clone());
                self.conflicting.lines.push(*line);
            }
        }
    }
}

impl TrajectoryStore {
    /// Imports the runs of a read JSONL file, each run with its steps in one transaction and
    /// a run record rebuilt from its steps ([`RunRecord::from_entries`]).
    ///
    /// A run id that is already stored is never overwritten: it is skipped and reported in
    /// `conflicts`, or with [`OnConflict::KeepBoth`] stored under a new suffixed id.
    pub async fn import_runs(&self, report: ReadReport, on_conflict: OnConflict) -> ImportSummary {
        let mut summary = ImportSummary::default();
        for (id, entries) in report.runs() {
            match self.import_run(&id, entries, on_conflict).await {
                Ok(Ok(run)) => summary.imported.push(run),
                Ok(Err(_taken)) => summary.conflicts.push(id),
                Err(error) => summary.failed.push(ImportFailure { run_id: id, error }),
            }
        }
        summary.rejected = report.rejected;
        summary.duplicates = report.duplicates;
        summary
    }

    /// Stores one run; its entries back when its id is taken and `on_conflict` is `Skip`.
    async fn import_run(
        &self,
        id: &str,
        mut entries: Vec<TrajectoryEntry>,
        on_conflict: OnConflict,
    ) -> Result<Result<ImportedRun, Vec<TrajectoryEntry>>, StoreError> {
        let op = format!("importing run {id}");
        let tx = self.transaction(
            &[RUNS, STEPS, COST_ROLLUPS, RUN_COUNTS],
            TransactionMode::Readwrite,
            &op,
        )?;
        let stored_id = {
            let runs = store(&tx, RUNS, &op)?;
            let steps = store(&tx, STEPS, &op)?;
            let mut stored_id = id.to_string();
            if count(&runs, JsValue::from_str(id), &op).await? > 0 {
                if on_conflict == OnConflict::Skip {
                    return Ok(Err(entries));
                }
                for n in 2u64.. {
                    let candidate = format!("{id}_{n}");
                    if count(&runs, JsValue::from_str(&candidate), &op).await? == 0 {
                        stored_id = candidate;
                        break;
                    }
                }
                for entry in &mut entries {
                    entry.run_id.clone_from(&stored_id);
                }
            }
            let run = RunRecord::from_entries(&stored_id, &entries, js_sys::Date::now());
            request(runs.add(RunRow::encode(&run)?).primitive(), &op)
                .await
                .map_err(|(e, _)| e)?;
            for entry in &entries {
                add_step_in(&steps, entry, &op).await?;
            }
            let raw: web_sys::IdbTransaction = tx.as_sys().clone().into();
            rollups::count_steps(&raw, &stored_id, &entries).map_err(|e| js_failure(&op, &e))?;
            run_counts::shift(&raw, vec![(None, Some(run.status))])
                .map_err(|e| js_failure(&op, &e))?;
            stored_id
        };
        ended_by_itself(tx, &op).await?;
        Ok(Ok(ImportedRun {
            run_id: stored_id,
            original_id: id.to_string(),
            steps: entries.len() as u64,
        }))
    }

    /// Stores one chunk of a file being imported ([`StreamedImport`]): a run this import
    /// created in an earlier chunk gets the chunk's steps appended (it is not a conflict with
    /// itself); a run id stored before the import is skipped and its steps kept aside in
    /// [`StreamedImport::conflicting`]; any other run is stored as by [`Self::import_runs`].
    pub async fn import_chunk(&self, import: &mut StreamedImport, report: ReadReport) {
        for (id, entries) in report.runs() {
            if import.failed.contains(&id) {
                // Its first part failed and was reported; the rest would be stored in part.
                continue;
            }
            if let Some(&index) = import.created.get(&id) {
                let stored_id = import.summary.imported[index].run_id.clone();
                match self.append_to_run(&stored_id, entries).await {
                    Ok(added) => import.summary.imported[index].steps += added,
                    Err(error) => {
                        import.failed.insert(id.clone());
                        import
                            .summary
                            .failed
                            .push(ImportFailure { run_id: id, error });
                    }
                }
                continue;
            }
            if import.taken.contains(&id) {
                import.keep_aside(&report, &id);
                continue;
            }
            match self.import_run(&id, entries, OnConflict::Skip).await {
                Ok(Ok(run)) => {
                    import
                        .created
                        .insert(id.clone(), import.summary.imported.len());
                    import.summary.imported.push(run);
                }
                Ok(Err(_taken)) => {
                    import.keep_aside(&report, &id);
                    import.taken.insert(id.clone());
                    import.summary.conflicts.push(id);
                }
                Err(error) => {
                    import.failed.insert(id.clone());
                    import
                        .summary
                        .failed
                        .push(ImportFailure { run_id: id, error });
                }
            }
        }
        import.summary.rejected.extend(report.rejected);
        import.summary.duplicates.extend(report.duplicates);
    }

    /// Adds `entries` to the stored run `run_id` in one transaction, its record rebuilt from
    /// all its steps; returns how many steps were added.
    async fn append_to_run(
        &self,
        run_id: &str,
        entries: Vec<TrajectoryEntry>,
    ) -> Result<u64, StoreError> {
        let op = format!("importing more steps of run {run_id}");
        let tx = self.transaction(
            &[RUNS, STEPS, COST_ROLLUPS, RUN_COUNTS],
            TransactionMode::Readwrite,
            &op,
        )?;
        {
            let runs = store(&tx, RUNS, &op)?;
            let steps = store(&tx, STEPS, &op)?;
            let mut all = run_steps_in(&steps, run_id, &op).await?;
            for entry in &entries {
                add_step_in(&steps, entry, &op).await?;
            }
            let raw: web_sys::IdbTransaction = tx.as_sys().clone().into();
            rollups::count_steps(&raw, run_id, &entries).map_err(|e| js_failure(&op, &e))?;
            all.extend(entries.iter().cloned());
            sorting::sort_by_key(&mut all, |e| e.step_id);
            let run = RunRecord::from_entries(run_id, &all, js_sys::Date::now());
            run_counts::shift_stored(&raw, run_id, Some(run.status))
                .map_err(|e| js_failure(&op, &e))?;
            request(runs.put(RunRow::encode(&run)?).primitive(), &op)
                .await
                .map_err(|(e, _)| e)?;
        }
        ended_by_itself(tx, &op).await?;
        Ok(entries.len() as u64)
    }
}
