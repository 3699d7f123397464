//! The reply store: every paid reply kept under the sha-256 of its canonical request, reused
//! by policy at $0, and the source a stored run is replayed from.
//!
//! - [`canonical`]: the request as it is addressed (endpoint, body with sorted keys, no
//!   credentials) and its hash.
//! - [`policy`]: when a stored reply may answer a new request ([`ReusePolicy`]).
//! - [`store`]: the [`ReplyStore`] seam and its in-memory implementation.
//! - [`known`]: the hashes of the stored replies, in memory, so a paid call reads nothing.
//! - [`reads`]: the store's reads gathered, one read for the requests asked meanwhile.
//! - [`hub`]: what a session's runs share: requests in flight, the index, and the writes of
//!   paid replies, made in order off the call's path.
//! - [`cache`]: the [`Transport`](crate::core::llm::transport::Transport) wrapper that answers
//!   from the store, stores what was paid and sends identical requests in flight once.
//! - [`llm`]: the [`AgentLlm`](crate::core::llm::AgentLlm) wrapper that turns what the cache
//!   did into a completion's provenance, and the run driver's source of such LLMs.
//! - [`replay`]: a stored run again, from its stored replies only.
//! - [`resume`]: the policy a stored run or batch goes on with.

pub mod cache;
pub mod canonical;
pub mod hub;
pub mod known;
pub mod llm;
pub mod policy;
pub mod reads;
pub mod replay;
pub mod resume;
pub mod store;

pub use canonical::CanonicalRequest;
pub use policy::ReusePolicy;
pub use store::{MemoryReplyStore, ReplyStore, StoredReply};
