//! Several stored replies read in one transaction: what core's reads gather
//! ([`crate::core::replies::reads`]) while a batch is answered from the store costs one
//! transaction for many runs' requests rather than one each.

use indexed_db_futures::internals::SystemRepr;
use indexed_db_futures::transaction::TransactionMode;
use wasm_bindgen::JsValue;

use super::replies::decode_reply;
use super::schema::REPLIES;
use super::{ended_by_itself, js_failure, StoreError, TrajectoryStore};
use crate::core::replies::StoredReply;

impl TrajectoryStore {
    /// The replies stored under `request_hashes`, in their order (`None` where none is), read
    /// in one read-only transaction.
    pub async fn get_stored_replies(
        &self,
        request_hashes: &[String],
    ) -> Result<Vec<Option<StoredReply>>, StoreError> {
        if request_hashes.is_empty() {
            return Ok(Vec::new());
        }
        let op = format!("reading {} stored replies", request_hashes.len());
        let tx = self.transaction(&[REPLIES], TransactionMode::Readonly, &op)?;
        let raw: web_sys::IdbTransaction = tx.as_sys().clone().into();
        // Every request is made at once; the transaction ends by itself once they are done,
        // and their results are read then (no commit, and nothing left to abort).
        let issued = raw.object_store(REPLIES).and_then(|replies| {
            request_hashes
                .iter()
                .map(|hash| replies.get(&JsValue::from_str(hash)))
                .collect::<Result<Vec<_>, _>>()
        });
        let requests = match issued {
            Ok(requests) => requests,
            Err(e) => {
                let _ = raw.abort();
                return Err(js_failure(&op, &e));
            }
        };
        ended_by_itself(tx, &op).await?;
        request_hashes
            .iter()
            .zip(requests)
            .map(|(hash, request)| {
                let value = request.result().map_err(|e| js_failure(&op, &e))?;
                if value.is_undefined() {
                    Ok(None)
                } else {
                    decode_reply(value, hash).map(Some)
                }
            })
            .collect()
    }
}
