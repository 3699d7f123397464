//! The runs table read from indexes: one page of runs in date order (all of them, or those in
//! one status), a page at a time from a cursor that starts after the last row shown, and the
//! counts the pager shows, without reading every run.
//!
//! Paging keeps the position of the last row (its creation time and id), never an offset: a
//! cursor opened at that key reads only the next page, however deep the page is.

use std::cell::RefCell;
use std::rc::Rc;

use indexed_db_futures::internals::SystemRepr;
use indexed_db_futures::prelude::*;
use indexed_db_futures::transaction::TransactionMode;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{IdbCursor, IdbCursorDirection, IdbCursorWithValue, IdbKeyRange};

use crate::core::trajectory::{RunRecord, RunStatus};

use super::error::from_idb;
use super::records::RunRow;
use super::schema::{index, RUNS};
use super::{js_failure, request, store, text_keys, StoreError, TrajectoryStore};

/// Where a page of runs ends: the last row's creation time and id. The next page starts
/// right after it in the same order.
#[derive(Debug, Clone, PartialEq)]
pub struct RunPosition {
    /// The row's `created_ms`.
    pub created_ms: f64,
    /// The row's `run_id` (the tie-breaker between runs created in the same millisecond).
    pub run_id: String,
}

impl RunPosition {
    /// The position of `run`.
    pub fn of(run: &RunRecord) -> RunPosition {
        RunPosition {
            created_ms: run.created_ms,
            run_id: run.run_id.clone(),
        }
    }
}

/// One page read from an index.
#[derive(Debug, Clone, PartialEq)]
pub struct IndexedPage {
    /// The runs, in the order asked for.
    pub runs: Vec<RunRecord>,
    /// Whether at least one run comes after them.
    pub more: bool,
}

/// Skips the cursor's entries up to and including the one at a position.
type Skip = Box<dyn Fn(&IdbCursor) -> bool>;

impl TrajectoryStore {
    /// Up to `limit` runs in creation order (newest first when `newest_first`, ties by id the
    /// same way), only those in `status` if given, starting right after `after`.
    ///
    /// Read from the `created_at` index, or `status_created` for one status: the browser
    /// walks only the entries the page shows (and the one after, to tell whether there is
    /// more).
    pub async fn runs_page(
        &self,
        status: Option<RunStatus>,
        newest_first: bool,
        after: Option<&RunPosition>,
        limit: u32,
    ) -> Result<IndexedPage, StoreError> {
        let op = "reading a page of runs";
        let fail = |e: JsValue| js_failure(op, &e);
        let key = |created_ms: f64| -> JsValue {
            match status {
                Some(s) => js_sys::Array::of2(
                    &JsValue::from_str(s.as_str()),
                    &JsValue::from_f64(created_ms),
                )
                .into(),
                None => JsValue::from_f64(created_ms),
            }
        };
        // The whole index, or one status's part of it, narrowed to what comes from `after`
        // on (its own key included: runs created in the same millisecond share it).
        let (mut low, mut high) = (key(f64::NEG_INFINITY), key(f64::INFINITY));
        if let Some(at) = after {
            if newest_first {
                high = key(at.created_ms);
            } else {
                low = key(at.created_ms);
            }
        }
        let range: JsValue = IdbKeyRange::bound(&low, &high).map_err(fail)?.into();
        let index_name = if status.is_some() {
            index::STATUS_CREATED
        } else {
            index::CREATED_AT
        };
        let direction = if newest_first {
            IdbCursorDirection::Prev
        } else {
            IdbCursorDirection::Next
        };
        let skip: Skip = match after.cloned() {
            None => Box::new(|_| false),
            Some(at) => Box::new(move |cursor| {
                let id = cursor.primary_key().ok().and_then(|k| k.as_string());
                let value = cursor
                    .dyn_ref::<IdbCursorWithValue>()
                    .and_then(|c| c.value().ok())
                    .unwrap_or_default();
                let created = js_sys::Reflect::get(&value, &"created_ms".into())
                    .ok()
                    .and_then(|v| v.as_f64());
                // Only entries with the position's own time can be at or before it.
                created == Some(at.created_ms)
                    && id.is_some_and(|id| {
                        if newest_first {
                            id >= at.run_id
                        } else {
                            id <= at.run_id
                        }
                    })
            }),
        };
        let db: web_sys::IdbDatabase = self.db.as_sys().clone().into();
        let mut values = if after.is_none() {
            first_entries(&db, index_name, &range, newest_first, limit as usize + 1)
                .await
                .map_err(fail)?
        } else {
            walk_index(
                &db,
                RUNS,
                index_name,
                &range,
                direction,
                limit as usize + 1,
                skip,
                Read::Records,
                op,
            )
            .await?
        };
        let more = values.len() > limit as usize;
        values.truncate(limit as usize);
        let runs = values
            .into_iter()
            .map(RunRow::decode)
            .collect::<Result<_, _>>()?;
        Ok(IndexedPage { runs, more })
    }

    /// How many runs are in `status` (every run when `None`), counted by the browser on an
    /// index's entries, not by reading the runs.
    pub async fn count_runs_in(&self, status: Option<RunStatus>) -> Result<u64, StoreError> {
        let Some(status) = status else {
            return self.count_runs().await;
        };
        let op = "counting runs by status";
        let tx = self.transaction(&[RUNS], TransactionMode::Readonly, op)?;
        let runs = store(&tx, RUNS, op)?;
        let by_status = runs.index(index::STATUS).map_err(|e| from_idb(op, &e))?;
        let n = request(
            by_status
                .count()
                .with_query(JsValue::from_str(status.as_str()))
                .primitive(),
            op,
        )
        .await
        .map_err(|(e, _)| e)?;
        Ok(u64::from(n))
    }

    /// The batches that runs belong to, each once, in id order: the distinct keys of the
    /// `batch_id` index (runs outside a batch are not in it), so the batch filter offers every
    /// batch without a run read.
    pub async fn batch_ids_of_runs(&self) -> Result<Vec<String>, StoreError> {
        let op = "listing the batches of runs";
        let db: web_sys::IdbDatabase = self.db.as_sys().clone().into();
        let keys = walk_index(
            &db,
            RUNS,
            index::BATCH_ID,
            &JsValue::NULL,
            IdbCursorDirection::Nextunique,
            usize::MAX,
            skip_none(),
            Read::Keys,
            op,
        )
        .await?;
        Ok(keys.into_iter().filter_map(|k| k.as_string()).collect())
    }

    /// The ids of the runs in `status` (every run when `None`): index keys only, so "select
    /// every run" needs no run read.
    pub async fn run_ids_in(&self, status: Option<RunStatus>) -> Result<Vec<String>, StoreError> {
        let op = "listing run ids";
        let tx = self.transaction(&[RUNS], TransactionMode::Readonly, op)?;
        let runs = store(&tx, RUNS, op)?;
        let keys = match status {
            None => request(runs.get_all_keys::<JsValue>().primitive(), op).await,
            Some(s) => {
                let by_status = runs.index(index::STATUS).map_err(|e| from_idb(op, &e))?;
                request(
                    by_status
                        .get_all_keys::<JsValue>()
                        .with_query(JsValue::from_str(s.as_str()))
                        .primitive(),
                    op,
                )
                .await
            }
        }
        .map_err(|(e, _)| e)?;
        text_keys(keys, RUNS, "run", op)
    }
}

/// The first `count` runs of `index_name` within `range` (`IdbKeyRange`), oldest first or
/// newest first (ties in descending key order), in two requests whatever `count` is, where a
/// cursor walk makes one per run: the page's first rows wait on these round trips to the
/// database.
///
/// `getAll` only reads forwards, so newest first is: a key cursor from the end skips `count -
/// 1` entries in one `advance`, and `getAll` from that entry's key on reads them forwards (with
/// any older entries of the same key, dropped after the reversal).
async fn first_entries(
    db: &web_sys::IdbDatabase,
    index_name: &str,
    range: &JsValue,
    newest_first: bool,
    count: usize,
) -> Result<Vec<JsValue>, JsValue> {
    let tx = db.transaction_with_str(RUNS)?;
    let index = tx.object_store(RUNS)?.index(index_name)?;
    let limit = u32::try_from(count).unwrap_or(u32::MAX);
    if !newest_first {
        let all = settled(&index.get_all_with_key_and_limit(range, limit)?).await?;
        return Ok(all.unchecked_into::<js_sys::Array>().iter().collect());
    }
    let cursor = index.open_key_cursor_with_range_and_direction(range, IdbCursorDirection::Prev)?;
    let oldest_key = advanced_key(&cursor, limit.saturating_sub(1)).await?;
    let from_there = match oldest_key {
        None => range.clone(),
        Some(key) => {
            // Read as properties: each web-sys getter would add an import to the first load's glue.
            let upper = js_sys::Reflect::get(range, &"upper".into())?;
            let upper_open =
                js_sys::Reflect::get(range, &"upperOpen".into())?.as_bool() == Some(true);
            IdbKeyRange::bound_with_lower_open_and_upper_open(&key, &upper, false, upper_open)?
                .into()
        }
    };
    let all = settled(&index.get_all_with_key(&from_there)?).await?;
    let mut values: Vec<JsValue> = all.unchecked_into::<js_sys::Array>().iter().collect();
    values.reverse();
    values.truncate(count);
    Ok(values)
}

/// The result of `request` once it succeeds.
async fn settled(request: &web_sys::IdbRequest) -> Result<JsValue, JsValue> {
    let done = js_sys::Promise::new(&mut |resolve, reject| {
        let ok = request.clone();
        let on_success = Closure::once_into_js(move || {
            let _ = resolve.call1(&JsValue::NULL, &ok.result().unwrap_or(JsValue::UNDEFINED));
        });
        let failed = request.clone();
        let on_error = Closure::once_into_js(move || {
            let error: JsValue = match failed.error() {
                Ok(Some(dom)) => dom.into(),
                _ => JsValue::from_str("the request failed"),
            };
            let _ = reject.call1(&JsValue::NULL, &error);
        });
        request.set_onsuccess(Some(on_success.unchecked_ref()));
        request.set_onerror(Some(on_error.unchecked_ref()));
    });
    JsFuture::from(done).await
}

/// The key of the entry `skip` entries past the first one of key cursor `cursor` (`None` when
/// there are not that many), moved there in one `advance`.
async fn advanced_key(cursor: &web_sys::IdbRequest, skip: u32) -> Result<Option<JsValue>, JsValue> {
    let at = settled(cursor).await?;
    let Some(at) = at.dyn_ref::<IdbCursor>() else {
        return Ok(None);
    };
    if skip == 0 {
        return at.key().map(Some);
    }
    at.advance(skip)?;
    let moved = settled(cursor).await?;
    match moved.dyn_ref::<IdbCursor>() {
        Some(at) => at.key().map(Some),
        None => Ok(None),
    }
}

/// What a walk over an index reads of each entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Read {
    /// The record the entry points to.
    Records,
    /// The entry's index key only (the records are not read).
    Keys,
}

/// Up to `limit` raw records (or index keys, as `read` says) of `store_name` in the order of its
/// index `index_name` within `range` (`null` for all), walked with a cursor in `direction`;
/// entries for which `skip` holds are passed over while it holds (it is asked until it first
/// says no).
#[allow(clippy::too_many_arguments)]
pub(crate) async fn walk_index(
    db: &web_sys::IdbDatabase,
    store_name: &str,
    index_name: &str,
    range: &JsValue,
    direction: IdbCursorDirection,
    limit: usize,
    skip: Skip,
    read: Read,
    op: &str,
) -> Result<Vec<JsValue>, StoreError> {
    let fail = |e: JsValue| js_failure(op, &e);
    if limit == 0 {
        return Ok(Vec::new());
    }
    let tx = db.transaction_with_str(store_name).map_err(fail)?;
    let index = tx
        .object_store(store_name)
        .and_then(|s| s.index(index_name))
        .map_err(fail)?;
    let cursor = match read {
        Read::Records => index.open_cursor_with_range_and_direction(range, direction),
        Read::Keys => index.open_key_cursor_with_range_and_direction(range, direction),
    }
    .map_err(fail)?;
    let found = Rc::new(RefCell::new(Vec::new()));
    let mut settle = None;
    let done = js_sys::Promise::new(&mut |resolve, reject| settle = Some((resolve, reject)));
    // The executor runs at once, so both functions are there.
    let (resolve, reject) =
        settle.unwrap_or_else(|| (js_sys::Function::default(), js_sys::Function::default()));
    let on_success = {
        let found = Rc::clone(&found);
        let cursor = cursor.clone();
        let reject = reject.clone();
        let mut skipping = true;
        Closure::<dyn FnMut()>::new(move || {
            let result = cursor.result().unwrap_or(JsValue::NULL);
            let Some(at) = result.dyn_ref::<IdbCursor>() else {
                let _ = resolve.call0(&JsValue::NULL);
                return;
            };
            if skipping && skip(at) {
                if let Err(e) = at.continue_() {
                    let _ = reject.call1(&JsValue::NULL, &e);
                }
                return;
            }
            skipping = false;
            let entry = match read {
                Read::Records => at
                    .dyn_ref::<IdbCursorWithValue>()
                    .ok_or_else(|| JsValue::from_str("the cursor holds no record"))
                    .and_then(IdbCursorWithValue::value),
                Read::Keys => at.key(),
            };
            let step = entry.and_then(|value| {
                found.borrow_mut().push(value);
                if found.borrow().len() >= limit {
                    resolve.call0(&JsValue::NULL).map(drop)
                } else {
                    at.continue_()
                }
            });
            if let Err(e) = step {
                let _ = reject.call1(&JsValue::NULL, &e);
            }
        })
    };
    let on_error = {
        let cursor = cursor.clone();
        Closure::<dyn FnMut()>::new(move || {
            let error: JsValue = match cursor.error() {
                Ok(Some(dom)) => dom.into(),
                _ => JsValue::from_str("the cursor failed"),
            };
            let _ = reject.call1(&JsValue::NULL, &error);
        })
    };
    cursor.set_onsuccess(Some(on_success.as_ref().unchecked_ref()));
    cursor.set_onerror(Some(on_error.as_ref().unchecked_ref()));
    let settled = JsFuture::from(done).await;
    // The closures are dropped below; the request must not call them after that.
    cursor.set_onsuccess(None);
    cursor.set_onerror(None);
    settled.map_err(fail)?;
    let values = found.take();
    Ok(values)
}

/// A skip that skips nothing.
pub(crate) fn skip_none() -> Skip {
    Box::new(|_| false)
}
