//! Rounds: the calls of every item in flight, held until each of them waits on one, go up as
//! one provider batch per provider; each reply comes back to the call that made it.
//!
//! [`BatchSource`] makes, for each run, the live client over a [`RunTransport`]: the client
//! builds, validates and re-asks exactly as it does live, and the transport hands each
//! request to the [`RoundHub`] under a [`CustomId`] (the run, the step the call is for, the
//! request's place in the call) instead of sending it. [`RoundHub::run`] submits a round once
//! every item in flight is waiting, polls the provider batches, records everything in the
//! [`BatchJournal`] and hands the results out.
//!
//! A request's result is looked up by its custom id, so a run reopened after the tab closed
//! asks for the same ids again and gets the results already read, or waits for the batch that
//! holds them; its step is committed once, by the loop, so a result is never applied twice.
//!
//! A hub that serves several batches at once (an experiment's configs) may share requests
//! between runs ([`RoundHub::sharing_between_runs`]): a request identical to one another run
//! sent (same request hash, as the reply store addresses it) is not sent again; it waits on
//! that one and gets its result. The hashes are journaled with the rounds, so a reopened hub
//! still finds the request another run's waits on.

use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, HashMap};
use std::future::poll_fn;
use std::rc::Rc;
use std::task::{Poll, Waker};

use super::journal::{BatchJournal, RoundRecord, RoundStatus};
use super::{
    Batch, BatchCounts, BatchFamily, BatchState, CustomId, ItemOutcome, ProviderBatchError,
    Submission,
};
use crate::core::batch::scheduler::BatchEvent;
use crate::core::cancel::CancelToken;
use crate::core::clock::Clock;
use crate::core::config::PipelineConfig;
use crate::core::driver::wait::{first_of, Notify};
use crate::core::driver::{client_options, BatchProgress, LlmSource};
use crate::core::llm::chat::{HttpRequest, HttpResponse};
use crate::core::llm::client::LlmClient;
use crate::core::llm::transport::{Transport, TransportError};
use crate::core::llm::{
    AgentCall, AgentCallError, AgentCompletion, AgentLlm, AttemptRecord, LlmError, SentVia, Usage,
};
use crate::core::pipeline::SinkError;
use crate::core::providers::ProviderRegistry;
use crate::core::replies::cache::{Notes, ReplyCache, ReplyNote, RunScope};
use crate::core::replies::canonical::CanonicalRequest;
use crate::core::replies::hub::ReplyHub;
use crate::core::replies::llm::{keep_paid, ReplyProvenance};
use crate::core::replies::policy::ReusePolicy;
use crate::core::replies::store::ReplyStore;
use crate::core::run_store::RunStore;

use super::engine::ProviderBatchOptions;

/// How often a running provider batch is polled at most, ms, by default.
pub const POLL_INTERVAL_MS: u64 = 30_000;
/// The first poll after a submit, ms; each next one waits twice as long, up to the interval
/// (a small batch may be done in seconds, a large one takes hours).
pub const FIRST_POLL_MS: u64 = 1_000;

/// A request waiting for the next round.
#[derive(Debug, Clone)]
struct Queued {
    encoded: String,
    id: CustomId,
    family: BatchFamily,
    group: String,
    entry: String,
    /// Its request hash, when runs share requests and this one may be shared.
    hash: Option<String>,
}

/// The request another run's identical request waits on.
#[derive(Debug, Clone)]
struct Leader {
    encoded: String,
    run_id: String,
}

/// What became of a request sent through the hub.
#[derive(Debug, Clone, PartialEq)]
pub struct Exchanged {
    /// The result.
    pub outcome: ItemOutcome,
    /// Its request hash, when runs share requests and this one may be shared.
    pub request_hash: Option<String>,
    /// The run whose identical request was sent instead of this one (and paid), when it was
    /// another run's.
    pub paid_by: Option<String>,
}

/// A round as a page shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct RoundView {
    /// Its number.
    pub round: u32,
    /// The provider's batch id, once known.
    pub provider_batch_id: Option<String>,
    /// Where it stands.
    pub status: RoundStatus,
    /// When it was submitted, epoch ms.
    pub submitted_ms: f64,
    /// When it ended, epoch ms.
    pub ended_ms: Option<f64>,
    /// Requests in it.
    pub requests: usize,
    /// The provider's counts as last polled.
    pub counts: BatchCounts,
    /// Why it failed, or why it could not be polled last time.
    pub message: Option<String>,
}

impl From<&RoundRecord> for RoundView {
    fn from(r: &RoundRecord) -> Self {
        RoundView {
            round: r.round,
            provider_batch_id: r.provider_batch_id.clone(),
            status: r.status,
            submitted_ms: r.submitted_ms,
            ended_ms: r.ended_ms,
            requests: r.requests.len(),
            counts: r.counts,
            message: r.message.clone(),
        }
    }
}

#[derive(Default)]
struct HubState {
    batch_id: String,
    queued: Vec<Queued>,
    /// Custom ids in a provider batch that has not ended.
    submitted: std::collections::HashSet<String>,
    /// Results read and not yet taken by a waiting call (or asked for again after a reload).
    results: HashMap<String, ItemOutcome>,
    /// Calls waiting, by custom id, with the waker of each.
    waiters: HashMap<String, Option<Waker>>,
    /// Under [`RoundHub::sharing_between_runs`]: how requests may be shared.
    share: Option<ReusePolicy>,
    /// The request sent for each shareable request hash.
    leaders: HashMap<String, Leader>,
    /// A call waiting on another run's identical request: its custom id → that request's.
    follows: HashMap<String, String>,
    /// The reverse of `follows`: a request sent → the calls of other runs waiting on it.
    followers: HashMap<String, Vec<String>>,
    /// A chat request per group: the batch endpoints are called with its headers. Held in
    /// memory only (the headers carry the key).
    templates: HashMap<String, HttpRequest>,
    rounds: Vec<RoundRecord>,
    in_flight: usize,
    /// Polls since the last submit (the wait before the next one doubles with each).
    polls: u32,
    finished: bool,
    journal_error: Option<String>,
    /// The calls waiting on a round when the parked listener last heard.
    parked: usize,
}

impl HubState {
    /// Calls waiting for a result that is not there yet.
    fn blocked(&self) -> usize {
        self.waiters
            .keys()
            .filter(|id| !self.results.contains_key(self.target(id)))
            .count()
    }

    /// The request whose result the call of custom id `encoded` takes.
    fn target<'s>(&'s self, encoded: &'s str) -> &'s str {
        self.follows.get(encoded).map_or(encoded, String::as_str)
    }

    /// The request of another run than `run_id` that a request hashed `hash` may wait on:
    /// one still to be answered, or answered with a reply. A request whose identical one
    /// failed is sent on its own (the failure was that run's, under its retry policy).
    fn leader_for(&self, hash: &str, run_id: &str) -> Option<Leader> {
        let leader = self.leaders.get(hash)?;
        if leader.run_id == run_id {
            return None;
        }
        let pending = self.submitted.contains(&leader.encoded)
            || self.queued.iter().any(|q| q.encoded == leader.encoded);
        match self.results.get(&leader.encoded) {
            Some(ItemOutcome::Reply(reply)) if (200..300).contains(&reply.status) => {
                Some(leader.clone())
            }
            Some(_) => None,
            None => pending.then(|| leader.clone()),
        }
    }

    /// Every item in flight waits on the hub, and some wait on a round not yet submitted.
    fn round_ready(&self) -> bool {
        !self.queued.is_empty() && self.blocked() >= self.in_flight
    }

    fn deliver(&mut self, encoded: String, outcome: ItemOutcome) {
        let followers = self.followers.get(&encoded).cloned().unwrap_or_default();
        for id in std::iter::once(&encoded).chain(&followers) {
            if let Some(Some(waker)) = self.waiters.get_mut(id).map(Option::take) {
                waker.wake();
            }
        }
        self.results.insert(encoded, outcome);
    }
}

/// Hears every round, as a page shows them, after each change of one.
pub type RoundListener = Rc<dyn Fn(&[RoundView])>;

/// Hears how many calls wait on a round (their items are parked, not working), when it changes.
pub type ParkedListener = Rc<dyn Fn(usize)>;

/// Provider batches for one Trialogue batch: rounds submitted, polled, read and recorded.
pub struct RoundHub<T, C, J> {
    api: T,
    clock: C,
    journal: J,
    poll_interval_ms: u64,
    state: RefCell<HubState>,
    wake: Rc<Notify>,
    listener: Option<RoundListener>,
    parked_listener: Option<ParkedListener>,
}

impl<T: Transport, C: Clock, J: BatchJournal> RoundHub<T, C, J> {
    /// A hub calling the batch endpoints over `api`, timed by `clock`, recording in
    /// `journal`, polling every [`POLL_INTERVAL_MS`].
    pub fn new(api: T, clock: C, journal: J) -> Self {
        RoundHub {
            api,
            clock,
            journal,
            poll_interval_ms: POLL_INTERVAL_MS,
            state: RefCell::default(),
            wake: Rc::default(),
            listener: None,
            parked_listener: None,
        }
    }

    /// Tells `listener` how many calls wait on a round, whenever that changes.
    pub fn with_parked_listener(mut self, listener: ParkedListener) -> Self {
        self.parked_listener = Some(listener);
        self
    }

    /// Tells the parked listener the number of calls waiting on a round, if it changed.
    fn parked_changed(&self) {
        let Some(listener) = &self.parked_listener else {
            return;
        };
        let parked = {
            let mut state = self.state.borrow_mut();
            let parked = state.blocked();
            if parked == state.parked {
                return;
            }
            state.parked = parked;
            parked
        };
        listener(parked);
    }

    /// Tells `listener` about every change of a round.
    pub fn with_listener(mut self, listener: RoundListener) -> Self {
        self.listener = Some(listener);
        self
    }

    fn changed(&self) {
        if let Some(listener) = &self.listener {
            listener(&self.rounds());
        }
    }

    /// Shares requests between the runs it serves, as `policy` reuses replies: a request
    /// identical to one another run sent waits on that one instead of being sent (and paid)
    /// again. Default: every request is sent for its own run.
    pub fn sharing_between_runs(self, policy: ReusePolicy) -> Self {
        self.state.borrow_mut().share = Some(policy);
        self
    }

    /// The request hash of `request` when runs share requests and its policy lets this one
    /// be shared.
    fn share_hash(&self, request: &HttpRequest) -> Option<String> {
        let policy = self.state.borrow().share?;
        // An experiment's runs are each one sample of their problem.
        let canonical = CanonicalRequest::of(request, policy.addresses_sample().then_some(0));
        policy
            .may_reuse(canonical.temperature())
            .then(|| canonical.hash())
    }

    /// Polls running provider batches every `ms` instead.
    pub fn with_poll_interval(mut self, ms: u64) -> Self {
        self.poll_interval_ms = ms.max(1);
        self
    }

    /// Takes up batch `batch_id`'s rounds from the journal: results already read are handed
    /// to the calls that ask for them again, batches still running are polled.
    pub async fn load(&self, batch_id: &str) -> Result<(), SinkError> {
        let rounds = self.journal.rounds(batch_id).await?;
        let mut state = self.state.borrow_mut();
        state.batch_id = batch_id.to_string();
        for round in &rounds {
            match round.status {
                RoundStatus::Ended | RoundStatus::Failed => {
                    for (id, outcome) in &round.results {
                        state.results.insert(id.clone(), outcome.clone());
                    }
                }
                RoundStatus::Submitted => state.submitted.extend(round.requests.keys().cloned()),
                // Never acknowledged by the provider: its calls ask again and go into a new
                // round.
                RoundStatus::Submitting => continue,
            }
            for (encoded, hash) in &round.hashes {
                if let Some(id) = round.requests.get(encoded) {
                    let leader = Leader {
                        encoded: encoded.clone(),
                        run_id: id.run_id.clone(),
                    };
                    state.leaders.insert(hash.clone(), leader);
                }
            }
        }
        state.rounds = rounds;
        drop(state);
        self.changed();
        Ok(())
    }

    /// The Trialogue batch the rounds belong to (known once the driver stored it).
    pub fn set_batch_id(&self, batch_id: &str) {
        self.state.borrow_mut().batch_id = batch_id.to_string();
    }

    /// An item started: the next round waits for its call too.
    pub fn item_started(&self) {
        self.state.borrow_mut().in_flight += 1;
        self.wake.notify();
    }

    /// An item finished: the next round no longer waits for it.
    pub fn item_finished(&self) {
        let mut state = self.state.borrow_mut();
        state.in_flight = state.in_flight.saturating_sub(1);
        drop(state);
        self.wake.notify();
    }

    /// Follows a batch driver's progress: an item started or finished changes what the next
    /// round waits for.
    pub fn follow(&self, progress: &BatchProgress<'_>) {
        match progress {
            BatchProgress::Batch {
                event: BatchEvent::ItemStarted { .. },
                ..
            } => self.item_started(),
            BatchProgress::Batch {
                event: BatchEvent::ItemFinished { .. },
                ..
            } => self.item_finished(),
            _ => {}
        }
    }

    /// The batch's driver is done: [`RoundHub::run`] returns.
    pub fn finish(&self) {
        self.state.borrow_mut().finished = true;
        self.wake.notify();
    }

    /// Every round so far, for a page.
    pub fn rounds(&self) -> Vec<RoundView> {
        self.state
            .borrow()
            .rounds
            .iter()
            .map(RoundView::from)
            .collect()
    }

    /// The last journal write that failed, if one did (the rounds go on; a reload may then
    /// submit a round's requests again).
    pub fn journal_error(&self) -> Option<String> {
        self.state.borrow().journal_error.clone()
    }

    /// Sends `request` (a live chat request of `family`) as request `id` of the next round
    /// and returns what became of it there; a result already read is returned at once. When
    /// runs share requests, a request identical to another run's takes that one's result.
    pub async fn exchange(
        &self,
        id: CustomId,
        family: BatchFamily,
        request: &HttpRequest,
        cancel: &CancelToken,
    ) -> Result<Exchanged, TransportError> {
        let api = family.api();
        let encoded = id.encode();
        let hash = self.share_hash(request);
        let mut paid_by = None;
        let group = api
            .group(request)
            .map_err(|e| TransportError::Network(e.to_string()))?;
        let entry = api
            .entry(&encoded, request)
            .map_err(|e| TransportError::Network(e.to_string()))?;
        {
            let mut state = self.state.borrow_mut();
            state
                .templates
                .entry(group.clone())
                .or_insert_with(|| request.clone());
            let known = state.results.contains_key(&encoded)
                || state.submitted.contains(&encoded)
                || state.queued.iter().any(|q| q.encoded == encoded);
            let leader = match &hash {
                Some(hash) if !known => state.leader_for(hash, &id.run_id),
                _ => None,
            };
            if let Some(leader) = leader {
                state
                    .follows
                    .insert(encoded.clone(), leader.encoded.clone());
                state
                    .followers
                    .entry(leader.encoded)
                    .or_default()
                    .push(encoded.clone());
                paid_by = Some(leader.run_id);
            } else if !known {
                if let Some(hash) = &hash {
                    let leader = Leader {
                        encoded: encoded.clone(),
                        run_id: id.run_id.clone(),
                    };
                    state.leaders.insert(hash.clone(), leader);
                }
                state.queued.push(Queued {
                    encoded: encoded.clone(),
                    id,
                    family,
                    group,
                    entry,
                    hash: hash.clone(),
                });
            }
            state.waiters.insert(encoded.clone(), None);
        }
        self.wake.notify();
        self.parked_changed();
        let waiting = Waiting {
            state: &self.state,
            encoded: encoded.clone(),
        };
        // A cancel wakes the wait, which then sees the token.
        let slot: Rc<RefCell<Option<Waker>>> = Rc::default();
        let woken = Rc::clone(&slot);
        let _guard = cancel.on_cancel(move || {
            if let Some(waker) = woken.borrow_mut().take() {
                waker.wake();
            }
        });
        let outcome = poll_fn(|cx| {
            let mut state = self.state.borrow_mut();
            if let Some(outcome) = state.results.get(state.target(&encoded)) {
                return Poll::Ready(Ok(outcome.clone()));
            }
            if cancel.is_cancelled() {
                return Poll::Ready(Err(TransportError::Cancelled));
            }
            state
                .waiters
                .insert(encoded.clone(), Some(cx.waker().clone()));
            *slot.borrow_mut() = Some(cx.waker().clone());
            Poll::Pending
        })
        .await;
        drop(waiting);
        self.wake.notify();
        self.parked_changed();
        Ok(Exchanged {
            outcome: outcome?,
            request_hash: hash,
            paid_by,
        })
    }

    /// Submits rounds and polls them until [`RoundHub::finish`]; when `cancel` fires, cancels
    /// the provider batches still running and returns.
    pub async fn run(&self, cancel: &CancelToken) {
        let wake = Rc::clone(&self.wake);
        let _guard = cancel.on_cancel(move || wake.notify());
        loop {
            if self.state.borrow().finished {
                return;
            }
            if cancel.is_cancelled() {
                self.cancel_running().await;
                return;
            }
            if self.state.borrow().round_ready() {
                self.submit_round().await;
                continue;
            }
            let running = self.running_rounds();
            if running.is_empty() {
                self.wake.notified().await;
                continue;
            }
            self.poll(&running).await;
            if !self.state.borrow().round_ready() {
                first_of(self.clock.sleep(self.next_poll_ms()), self.wake.notified()).await;
            }
        }
    }

    fn next_poll_ms(&self) -> u64 {
        let mut state = self.state.borrow_mut();
        let doubled = FIRST_POLL_MS.saturating_mul(1 << state.polls.min(20));
        state.polls += 1;
        doubled.min(self.poll_interval_ms)
    }

    fn running_rounds(&self) -> Vec<u32> {
        self.state
            .borrow()
            .rounds
            .iter()
            .filter(|r| r.status == RoundStatus::Submitted)
            .map(|r| r.round)
            .collect()
    }

    async fn record(&self, round: &RoundRecord) {
        if let Err(e) = self.journal.put_round(round).await {
            self.state.borrow_mut().journal_error = Some(e.to_string());
        }
        {
            let mut state = self.state.borrow_mut();
            match state.rounds.iter_mut().find(|r| r.round == round.round) {
                Some(kept) => *kept = round.clone(),
                None => state.rounds.push(round.clone()),
            }
        }
        self.changed();
    }

    /// One provider batch per API root, of every queued request.
    async fn submit_round(&self) {
        let (groups, batch_id, first_round) = {
            let mut state = self.state.borrow_mut();
            let mut groups: BTreeMap<(BatchFamily, String), Vec<Queued>> = BTreeMap::new();
            for queued in std::mem::take(&mut state.queued) {
                state.submitted.insert(queued.encoded.clone());
                groups
                    .entry((queued.family, queued.group.clone()))
                    .or_default()
                    .push(queued);
            }
            // In custom-id order, the order of the record's requests: a family whose results
            // carry no id is read by position.
            for group in groups.values_mut() {
                group.sort_by(|a, b| a.encoded.cmp(&b.encoded));
            }
            let next = state.rounds.iter().map(|r| r.round).max().unwrap_or(0) + 1;
            state.polls = 0;
            (groups, state.batch_id.clone(), next)
        };
        for (offset, ((family, api_root), group)) in groups.into_iter().enumerate() {
            let mut record = RoundRecord {
                batch_id: batch_id.clone(),
                round: first_round + offset as u32,
                family,
                api_root: api_root.clone(),
                provider_batch_id: None,
                status: RoundStatus::Submitting,
                submitted_ms: self.clock.now_ms(),
                ended_ms: None,
                requests: group
                    .iter()
                    .map(|q| (q.encoded.clone(), q.id.clone()))
                    .collect(),
                hashes: group
                    .iter()
                    .filter_map(|q| Some((q.encoded.clone(), q.hash.clone()?)))
                    .collect(),
                counts: BatchCounts {
                    total: group.len() as u64,
                    ..BatchCounts::default()
                },
                results: BTreeMap::new(),
                message: None,
            };
            // The custom ids are durable before the provider holds them.
            self.record(&record).await;
            let entries: Vec<String> = group.iter().map(|q| q.entry.clone()).collect();
            match self.create(family, &api_root, &entries).await {
                Ok(batch) => {
                    record.provider_batch_id = Some(batch.id);
                    record.status = RoundStatus::Submitted;
                    if batch.counts.total > 0 {
                        record.counts = batch.counts;
                    }
                    self.record(&record).await;
                }
                Err(e) => {
                    let message = e.to_string();
                    let outcome = ItemOutcome::Errored {
                        message: message.clone(),
                    };
                    record.results = group
                        .iter()
                        .map(|q| (q.encoded.clone(), outcome.clone()))
                        .collect();
                    self.end(record, RoundStatus::Failed, Some(message)).await;
                }
            }
        }
    }

    async fn end(&self, mut record: RoundRecord, status: RoundStatus, message: Option<String>) {
        record.status = status;
        record.message = message;
        record.ended_ms = Some(self.clock.now_ms());
        // Durable before any call sees a result.
        self.record(&record).await;
        {
            let mut state = self.state.borrow_mut();
            for (id, outcome) in &record.results {
                state.submitted.remove(id);
                state.deliver(id.clone(), outcome.clone());
            }
        }
        self.parked_changed();
    }

    async fn call(
        &self,
        request: &HttpRequest,
        what: &str,
    ) -> Result<HttpResponse, ProviderBatchError> {
        // Batch endpoints answer quickly; the work itself happens between polls.
        const TIMEOUT_MS: u64 = 120_000;
        self.api
            .send(request, TIMEOUT_MS, &CancelToken::new())
            .await
            .map_err(|e| ProviderBatchError::Unreachable {
                what: what.into(),
                reason: e.to_string(),
            })
    }

    fn template(&self, api_root: &str) -> Option<HttpRequest> {
        self.state.borrow().templates.get(api_root).cloned()
    }

    async fn create(
        &self,
        family: BatchFamily,
        group: &str,
        entries: &[String],
    ) -> Result<Batch, ProviderBatchError> {
        let chat = self
            .template(group)
            .ok_or_else(|| ProviderBatchError::NotBatchable {
                url: group.to_string(),
            })?;
        let api = family.api();
        let mut request = api.submit(group, &chat, entries)?;
        // A submission is a request or a few (OpenAI uploads a file, then creates the batch;
        // Gemini above its inline limit starts an upload, uploads, then creates the batch).
        const MAX_STEPS: usize = 4;
        for step in 0..MAX_STEPS {
            let response = self.call(&request, "the batch submission").await?;
            match api.submitted(step, group, &chat, entries, &response)? {
                Submission::Created(batch) => return Ok(batch),
                Submission::Next(next) => request = next,
            }
        }
        Err(ProviderBatchError::Unexpected {
            what: "the batch submission".into(),
            detail: format!("no batch after {MAX_STEPS} requests"),
        })
    }

    async fn poll(&self, rounds: &[u32]) {
        for &number in rounds {
            let Some(record) = self
                .state
                .borrow()
                .rounds
                .iter()
                .find(|r| r.round == number)
                .cloned()
            else {
                continue;
            };
            if let Err(e) = self.poll_one(record.clone()).await {
                let mut state = self.state.borrow_mut();
                if let Some(kept) = state.rounds.iter_mut().find(|r| r.round == number) {
                    kept.message = Some(format!("last poll failed: {e}"));
                }
            }
        }
    }

    async fn poll_one(&self, mut record: RoundRecord) -> Result<(), ProviderBatchError> {
        let (Some(chat), Some(batch_id)) = (
            self.template(&record.api_root),
            record.provider_batch_id.clone(),
        ) else {
            // Reopened, and no call of this round has asked again yet: nothing to
            // authenticate with until one does.
            return Ok(());
        };
        let api = record.family.api();
        let retrieve = api.retrieve(&record.api_root, &chat, &batch_id);
        let custom_ids: Vec<&str> = record.requests.keys().map(String::as_str).collect();
        let batch = api.parse_batch(
            &self.call(&retrieve, "the batch status").await?,
            &custom_ids,
        )?;
        record.counts = batch.counts;
        record.message = None;
        match batch.state {
            BatchState::Running => {
                {
                    let mut state = self.state.borrow_mut();
                    if let Some(kept) = state.rounds.iter_mut().find(|r| r.round == record.round) {
                        kept.counts = record.counts;
                        kept.message = None;
                    }
                }
                self.changed();
                Ok(())
            }
            BatchState::Failed => {
                let outcome = ItemOutcome::Errored {
                    message: "the provider rejected the batch".into(),
                };
                record.results = record
                    .requests
                    .keys()
                    .map(|id| (id.clone(), outcome.clone()))
                    .collect();
                let message = Some("the provider rejected the batch as a whole".to_string());
                self.end(record, RoundStatus::Failed, message).await;
                Ok(())
            }
            BatchState::Ended => {
                let mut results = BTreeMap::new();
                let mut read = batch.inline_results;
                for source in &batch.result_sources {
                    let get = api.fetch_results(&record.api_root, &chat, source);
                    let response = self.call(&get, "the batch results").await?;
                    if !(200..300).contains(&response.status) {
                        return Err(ProviderBatchError::Refused {
                            what: "the batch results".into(),
                            status: response.status,
                            body: super::excerpt(&response.body),
                        });
                    }
                    read.extend(api.parse_results(&response.body)?);
                }
                for result in read {
                    if record.requests.contains_key(&result.custom_id) {
                        results.insert(result.custom_id, result.outcome);
                    }
                }
                for id in record.requests.keys() {
                    results
                        .entry(id.clone())
                        .or_insert_with(|| ItemOutcome::Errored {
                            message: "the provider batch ended without running it (cancelled?)"
                                .into(),
                        });
                }
                record.results = results;
                self.end(record, RoundStatus::Ended, None).await;
                Ok(())
            }
        }
    }

    async fn cancel_running(&self) {
        for number in self.running_rounds() {
            let record = self
                .state
                .borrow()
                .rounds
                .iter()
                .find(|r| r.round == number)
                .cloned();
            let Some(record) = record else { continue };
            let (Some(chat), Some(batch_id)) =
                (self.template(&record.api_root), record.provider_batch_id)
            else {
                continue;
            };
            // The round stays `submitted`: reopened, it is polled, and what ran before the
            // cancel is used.
            let cancel = record
                .family
                .api()
                .cancel(&record.api_root, &chat, &batch_id);
            let _ = self.call(&cancel, "the batch cancel").await;
        }
    }
}

/// Takes a call's wait off the hub when the call stops waiting (answered, cancelled, or
/// dropped with its run).
struct Waiting<'s> {
    state: &'s RefCell<HubState>,
    encoded: String,
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        let mut state = self.state.borrow_mut();
        state.waiters.remove(&self.encoded);
        if let Some(leader) = state.follows.remove(&self.encoded) {
            if let Some(followers) = state.followers.get_mut(&leader) {
                followers.retain(|f| *f != self.encoded);
            }
            // The last wait on a request whose own call went away: it need not go up.
            let awaited = state.waiters.contains_key(&leader)
                || state.followers.get(&leader).is_some_and(|f| !f.is_empty());
            if !awaited {
                state.queued.retain(|q| q.encoded != leader);
            }
        }
        // A request other runs still wait on goes up all the same.
        let followed = state
            .followers
            .get(&self.encoded)
            .is_some_and(|f| !f.is_empty());
        if !followed {
            state.queued.retain(|q| q.encoded != self.encoded);
        }
    }
}

/// The request being made for a run: its step, how many requests its call has made through
/// the hub, and how each request of the call that reached the run's transport was sent.
#[derive(Debug, Default)]
struct CallPlace {
    step: Cell<u64>,
    attempt: Cell<u32>,
    sent: RefCell<Vec<Sent>>,
}

/// How one request that reached a run's transport was answered.
#[derive(Debug, Clone)]
struct Sent {
    /// The route it took, which decides its rate.
    via: SentVia,
    /// The other run whose identical request went up instead, when one did (its reply is
    /// that run's, paid once).
    paid_by: Option<String>,
}

/// How each request of a call was answered, in order: the route it took and the other run
/// that paid for its reply, if one did. A request the reply store answered did not reach the
/// run's transport (`sent` holds the ones that did, in order). `None` when the two do not
/// line up (no request may then be tied to its route).
fn routes_of(notes: &[ReplyNote], sent: &[Sent]) -> Option<Vec<Sent>> {
    let mut sent = sent.iter();
    let routes = notes
        .iter()
        .map(|note| match note.sent {
            true => sent.next().cloned(),
            false => Some(Sent {
                via: SentVia::Live,
                paid_by: note.reused_from.clone(),
            }),
        })
        .collect::<Option<Vec<_>>>()?;
    sent.next().is_none().then_some(routes)
}

/// A run's transport in provider batch mode: requests to a provider with a batch API go to
/// the hub, any other provider's live.
pub struct RunTransport<'h, T, C, J> {
    hub: &'h RoundHub<T, C, J>,
    live: &'h T,
    batched: &'h [(String, BatchFamily)],
    stragglers_live: bool,
    run_id: String,
    place: Rc<CallPlace>,
}

impl<T: Transport, C: Clock, J: BatchJournal> Transport for RunTransport<'_, T, C, J> {
    async fn send(
        &self,
        request: &HttpRequest,
        timeout_ms: u64,
        cancel: &CancelToken,
    ) -> Result<HttpResponse, TransportError> {
        let family = self
            .batched
            .iter()
            .find(|(root, family)| family.api().carries(root, request))
            .map(|(_, family)| *family);
        let Some(family) = family else {
            self.place.sent.borrow_mut().push(Sent {
                via: SentVia::Live,
                paid_by: None,
            });
            return self.live.send(request, timeout_ms, cancel).await;
        };
        // The request timeout does not apply: a provider batch takes up to its window.
        let attempt = self.place.attempt.get() + 1;
        self.place.attempt.set(attempt);
        let id = CustomId {
            run_id: self.run_id.clone(),
            step: self.place.step.get(),
            attempt,
        };
        let exchanged = self.hub.exchange(id, family, request, cancel).await;
        let sent = match &exchanged {
            Ok(Exchanged {
                outcome: ItemOutcome::Reply(_),
                paid_by,
                ..
            }) => Sent {
                via: SentVia::ProviderBatch,
                paid_by: paid_by.clone(),
            },
            // Expired, errored or cancelled: nothing billed at batch rates; a straggler sent
            // live below is billed live.
            _ => Sent {
                via: SentVia::Live,
                paid_by: None,
            },
        };
        self.place.sent.borrow_mut().push(sent);
        let failure = match exchanged?.outcome {
            ItemOutcome::Reply(response) => return Ok(response),
            ItemOutcome::Expired => "the provider batch ended before this request ran".to_string(),
            ItemOutcome::Errored { message } => {
                format!("the provider batch could not run this request: {message}")
            }
        };
        if self.stragglers_live {
            // "Finish the stragglers live": the request the batch did not answer is sent as
            // it is, now, instead of waiting for the next round.
            return self.live.send(request, timeout_ms, cancel).await;
        }
        // An error the client's retry policy retries: the request goes into the next round.
        Err(TransportError::Network(failure))
    }
}

/// The reply store a batch's runs keep their replies in, and the policy they reuse them by.
pub struct RoundReplies<R> {
    /// The store, shared with the session's live runs.
    pub hub: Rc<ReplyHub<R>>,
    /// The batch's reuse policy.
    pub policy: ReusePolicy,
}

/// One run's LLM in provider batch mode: the live client over the reply store over the run's
/// [`RunTransport`]. Every reply a provider batch answered is stored as a live call of the same
/// request stores it (same address), so the run can be replayed and its replies reused.
pub struct RoundLlm<'h, T: Transport, C: Clock, J: BatchJournal, S, R: ReplyStore> {
    client: LlmClient<ReplyCache<RunTransport<'h, T, C, J>, R>, C>,
    notes: Notes,
    replies: Rc<ReplyHub<R>>,
    policy: ReusePolicy,
    clock: C,
    store: &'h S,
    run_id: Option<String>,
    place: Rc<CallPlace>,
}

impl<T: Transport, C: Clock, J: BatchJournal, S: RunStore, R: ReplyStore + 'static> AgentLlm
    for RoundLlm<'_, T, C, J, S, R>
{
    async fn complete(
        &self,
        call: &AgentCall,
        cancel: &CancelToken,
    ) -> Result<AgentCompletion, AgentCallError> {
        if let Some(run_id) = &self.run_id {
            // The call is for the step after the run's committed ones: the same step (and so
            // the same custom ids) when a reopened run asks again.
            let committed = match self.store.get_run(run_id).await {
                Ok(Some(record)) => record.step_count,
                Ok(None) | Err(_) => {
                    let error = LlmError::network(
                        "provider batch",
                        &format!(
                            "run {run_id} could not be read to place its call in a round; resume \
                             the batch once storage works"
                        ),
                    );
                    return Err(AgentCallError {
                        error,
                        usage: Usage::default(),
                        attempts: Vec::new(),
                    });
                }
            };
            self.place.step.set(committed + 1);
        }
        // Without a run, nothing places the call in a round: its requests go live.
        self.place.attempt.set(0);
        self.place.sent.borrow_mut().clear();
        self.notes.borrow_mut().clear();
        match self.client.complete(call, cancel).await {
            Ok(mut completion) => {
                completion.provenance = self.settle(&mut completion.attempts).await;
                Ok(completion)
            }
            Err(mut error) => {
                self.settle(&mut error.attempts).await;
                Err(error)
            }
        }
    }
}

impl<T: Transport, C: Clock, J: BatchJournal, S, R: ReplyStore + 'static>
    RoundLlm<'_, T, C, J, S, R>
{
    /// Marks each of `attempts` with the route its request took, keeps the replies the call
    /// paid for (or that another run's identical request paid for) in the reply store, and
    /// reads the call's provenance.
    async fn settle(&self, attempts: &mut [AttemptRecord]) -> Option<ReplyProvenance> {
        let notes: Vec<ReplyNote> = self.notes.borrow_mut().drain(..).collect();
        let sent = self.place.sent.take();
        let routes = routes_of(&notes, &sent).filter(|r| r.len() == attempts.len());
        if let Some(routes) = &routes {
            for (attempt, route) in attempts.iter_mut().zip(routes) {
                attempt.sent_via = route.via;
            }
        }
        // When routes cannot be tied to requests, every request stays live (the higher price)
        // and each reply is this run's.
        let own = self.run_id.clone().unwrap_or_default();
        let payer_of = |i: usize| {
            routes
                .as_ref()
                .and_then(|r| r.get(i)?.paid_by.clone())
                .unwrap_or_else(|| own.clone())
        };
        keep_paid(
            &self.replies,
            &notes,
            attempts,
            payer_of,
            self.clock.now_ms(),
        )
        .await;
        let last = notes.last()?;
        let reused_from = routes.as_ref().and_then(|routes| {
            routes
                .iter()
                .all(|r| r.paid_by.is_some())
                .then(|| routes.last()?.paid_by.clone())
                .flatten()
        });
        Some(ReplyProvenance {
            request_hash: last.request_hash.clone(),
            reused_from,
            policy: self.policy,
        })
    }
}

/// The LLM of every run of a batch in provider batch mode: the providers' live client whose
/// requests to `batched` providers go through `hub`, behind the reply store.
pub struct BatchSource<'h, T, C, J, S, R> {
    hub: &'h RoundHub<T, C, J>,
    registry: ProviderRegistry,
    /// The API root and batch family of each batched provider.
    batched: Vec<(String, BatchFamily)>,
    stragglers_live: bool,
    live: &'h T,
    clock: C,
    store: &'h S,
    replies: RoundReplies<R>,
}

impl<'h, T: Transport, C: Clock + Clone, J: BatchJournal, S: RunStore, R: ReplyStore>
    BatchSource<'h, T, C, J, S, R>
{
    /// Runs calling `registry`'s providers, those `options` name (and that have a batch API)
    /// through `hub` and the others over `live`, with their steps read from `store` and their
    /// replies kept in `replies`.
    pub fn new(
        hub: &'h RoundHub<T, C, J>,
        mut registry: ProviderRegistry,
        options: &ProviderBatchOptions,
        live: &'h T,
        clock: C,
        store: &'h S,
        replies: RoundReplies<R>,
    ) -> Self {
        // A batch line carries a whole reply; streaming is for live calls.
        for provider in &mut registry.providers {
            provider.streaming = Some(false);
        }
        let batched = registry
            .providers
            .iter()
            .filter(|p| options.batched_providers.contains(&p.id))
            .filter_map(|p| {
                let family = BatchFamily::of(p)?;
                Some((p.base_url.trim().trim_end_matches('/').to_string(), family))
            })
            .collect();
        BatchSource {
            hub,
            registry,
            batched,
            stragglers_live: options.stragglers_live,
            live,
            clock,
            store,
            replies,
        }
    }
}

impl<'h, T: Transport, C: Clock + Clone, J: BatchJournal, S: RunStore, R: ReplyStore + 'static>
    LlmSource for BatchSource<'h, T, C, J, S, R>
{
    type Llm<'s>
        = RoundLlm<'s, T, C, J, S, R>
    where
        Self: 's;

    /// Without a run to place its calls, a call goes live.
    fn llm_for(&self, config: &PipelineConfig) -> RoundLlm<'_, T, C, J, S, R> {
        self.make(config, None)
    }

    fn llm_for_run(&self, config: &PipelineConfig, run_id: &str) -> RoundLlm<'_, T, C, J, S, R> {
        self.make(config, Some(run_id))
    }
}

impl<'h, T: Transport, C: Clock + Clone, J: BatchJournal, S: RunStore, R: ReplyStore>
    BatchSource<'h, T, C, J, S, R>
{
    fn make(&self, config: &PipelineConfig, run_id: Option<&str>) -> RoundLlm<'_, T, C, J, S, R> {
        let place = Rc::new(CallPlace::default());
        let transport = RunTransport {
            hub: self.hub,
            live: self.live,
            batched: match run_id {
                Some(_) => &self.batched,
                None => &[],
            },
            stragglers_live: self.stragglers_live,
            run_id: run_id.unwrap_or_default().to_string(),
            place: Rc::clone(&place),
        };
        // Addressed as a live run's requests are: the same request has the same address
        // whichever way it was sent.
        let scope = RunScope::live(run_id.unwrap_or_default(), self.replies.policy, 0);
        let cache = ReplyCache::new(transport, Rc::clone(&self.replies.hub), scope).in_rounds();
        let notes = cache.notes();
        let mut options = client_options(config);
        // A retry goes into the next round, which is wait enough.
        options.retry.min_backoff_ms = 0;
        options.retry.max_backoff_ms = 0;
        RoundLlm {
            client: LlmClient::with_options(
                self.registry.clone(),
                cache,
                self.clock.clone(),
                options,
            ),
            notes,
            replies: Rc::clone(&self.replies.hub),
            policy: self.replies.policy,
            clock: self.clock.clone(),
            store: self.store,
            run_id: run_id.map(str::to_string),
            place,
        }
    }
}
