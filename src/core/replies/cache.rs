//! [`ReplyCache`]: the [`Transport`] wrapper that answers reusable requests from the reply
//! store, sends identical requests in flight at the same moment once, and notes every request
//! it handled so that [`super::llm::CachedLlm`] can store the paid replies with their usage and
//! tell the step where its reply came from.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;
use std::task::{Poll, Waker};

use super::canonical::CanonicalRequest;
use super::hub::ReplyHub;
use super::policy::ReusePolicy;
use super::store::ReplyStore;
use crate::core::cancel::CancelToken;
use crate::core::hash::sha256_hex;
use crate::core::llm::chat::{HttpRequest, HttpResponse};
use crate::core::llm::transport::{Transport, TransportError, WholeTwin};

/// What a run's requests are addressed and reused by.
#[derive(Debug, Clone)]
pub struct RunScope {
    /// The run making the requests (the payer of what it sends).
    pub run_id: String,
    /// Its reuse policy.
    pub policy: ReusePolicy,
    /// Its sample index (0 for a single sample).
    pub sample_index: u32,
    /// Replay: answer from the store only; a request with no stored reply fires this token
    /// (stopping the run) and is reported by [`ReplyCache::missing`].
    pub replay: Option<CancelToken>,
    /// A replay into a new run: the run whose requests are replayed. Requests that could not
    /// be reused are addressed by the run that made them, so the replay finds them under
    /// that run's id, while `run_id` (the new run) is what pays nothing.
    pub replay_of: Option<String>,
}

impl RunScope {
    /// A live run's scope.
    pub fn live(run_id: &str, policy: ReusePolicy, sample_index: u32) -> Self {
        RunScope {
            run_id: run_id.to_string(),
            policy,
            sample_index,
            replay: None,
            replay_of: None,
        }
    }
}

/// One request the cache handled.
#[derive(Debug, Clone, PartialEq)]
pub struct ReplyNote {
    /// The request's address.
    pub request_hash: String,
    /// The canonical request's JSON.
    pub request: String,
    /// The run that paid for the reply, when it was not this one.
    pub reused_from: Option<String>,
    /// A reply this run paid for and that is not stored yet.
    pub paid: Option<HttpResponse>,
    /// Whether the request went to the inner transport (paid, or failed there), rather than
    /// being answered from the store or an identical request in flight.
    pub sent: bool,
}

/// A request as the cache addresses it, worked out once per request.
struct Addressed {
    /// The canonical request's JSON, as stored.
    json: String,
    /// Its address.
    hash: String,
    /// The address of the request itself, whatever the run asked before: what counts how
    /// many identical requests the run made.
    occurrence_key: String,
    /// Whether a stored reply may answer it.
    reusable: bool,
    /// How many identical requests the run made before.
    nth: u32,
}

/// A request on its way, awaited by every identical request made meanwhile.
pub(super) struct Flight {
    payer: String,
    result: RefCell<Option<Result<HttpResponse, TransportError>>>,
    waiters: RefCell<Vec<Waker>>,
}

impl Flight {
    fn land(&self, result: Result<HttpResponse, TransportError>) {
        if self.result.borrow().is_none() {
            *self.result.borrow_mut() = Some(result);
        }
        for waker in self.waiters.borrow_mut().drain(..) {
            waker.wake();
        }
    }

    async fn wait(&self) -> Result<HttpResponse, TransportError> {
        std::future::poll_fn(|cx| match &*self.result.borrow() {
            Some(result) => Poll::Ready(result.clone()),
            None => {
                self.waiters.borrow_mut().push(cx.waker().clone());
                Poll::Pending
            }
        })
        .await
    }
}

/// Lands a leader's flight as cancelled if its future is dropped before the reply came, so
/// that nobody waits for it forever.
struct LandOnDrop(Rc<Flight>);

impl Drop for LandOnDrop {
    fn drop(&mut self) {
        self.0.land(Err(TransportError::Cancelled));
    }
}

/// The notes of one run's cache, read by the LLM wrapper after each call.
pub type Notes = Rc<RefCell<Vec<ReplyNote>>>;

/// A [`Transport`] that answers from the reply store where the run's policy allows.
pub struct ReplyCache<T, S> {
    inner: T,
    hub: Rc<ReplyHub<S>>,
    scope: RunScope,
    notes: Notes,
    occurrences: RefCell<HashMap<String, u32>>,
    missing: Rc<RefCell<Option<ReplyNote>>>,
    sent: Cell<u64>,
    in_rounds: bool,
}

impl<T, S> std::fmt::Debug for ReplyCache<T, S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReplyCache")
            .field("scope", &self.scope)
            .field("sent", &self.sent.get())
            .finish()
    }
}

impl<T: Transport, S: ReplyStore> ReplyCache<T, S> {
    /// `inner` behind the store of `hub`, for the run of `scope`.
    pub fn new(inner: T, hub: Rc<ReplyHub<S>>, scope: RunScope) -> Self {
        ReplyCache {
            inner,
            hub,
            scope,
            notes: Notes::default(),
            occurrences: RefCell::default(),
            missing: Rc::default(),
            sent: Cell::new(0),
            in_rounds: false,
        }
    }

    /// The cache of a run driven in provider batch rounds, whose inner transport holds each
    /// request for a round. It awaits no identical request in flight and registers none of its
    /// own: a call waiting on another call is not waiting on the round hub, so the round would
    /// never be ready (the round hub shares identical requests itself). And it takes no reply
    /// this run paid for from the store: a reopened run asks the round hub again, whose journal
    /// holds the result and knows how it was sent (the rate it is billed at).
    pub fn in_rounds(mut self) -> Self {
        self.in_rounds = true;
        self
    }

    /// The notes this cache writes (one per request handled).
    pub fn notes(&self) -> Notes {
        self.notes.clone()
    }

    /// In replay: where the first request with no stored reply is reported.
    pub fn missing(&self) -> Rc<RefCell<Option<ReplyNote>>> {
        self.missing.clone()
    }

    /// The run's scope.
    pub fn scope(&self) -> &RunScope {
        &self.scope
    }

    /// The hub it shares.
    pub fn hub(&self) -> &Rc<ReplyHub<S>> {
        &self.hub
    }

    /// The request's address under the run's policy, and whether its reply may be reused.
    fn address(&self, request: &HttpRequest) -> Addressed {
        self.address_nth(request, None)
    }

    /// The address of `request` as the `nth` identical request of the run (`None`: as many as
    /// the run made before).
    fn address_nth(&self, request: &HttpRequest, nth: Option<u32>) -> Addressed {
        let policy = self.scope.policy;
        let sample = policy.addresses_sample().then_some(self.scope.sample_index);
        let mut canonical = CanonicalRequest::of(request, sample);
        let reusable = policy.may_reuse(canonical.temperature());
        let plain_json = canonical.to_json();
        let occurrence_key = sha256_hex(plain_json.as_bytes());
        let n =
            nth.unwrap_or_else(|| *self.occurrences.borrow().get(&occurrence_key).unwrap_or(&0));
        if !reusable {
            let addressed_as = self.scope.replay_of.as_ref().unwrap_or(&self.scope.run_id);
            canonical.unique_to = Some(format!("{addressed_as}#{n}"));
        } else if n > 0 {
            canonical.repeat = Some(n);
        }
        let (json, hash) = if canonical.unique_to.is_none() && canonical.repeat.is_none() {
            (plain_json, occurrence_key.clone())
        } else {
            let json = canonical.to_json();
            let hash = sha256_hex(json.as_bytes());
            (json, hash)
        };
        Addressed {
            json,
            hash,
            occurrence_key,
            reusable,
            nth: n,
        }
    }

    /// Counts a reply received for the request, so the next identical one gets its own address.
    fn count(&self, addressed: &Addressed) {
        *self
            .occurrences
            .borrow_mut()
            .entry(addressed.occurrence_key.clone())
            .or_insert(0) += 1;
    }

    fn note(&self, addressed: &Addressed, payer: Option<&str>, paid: Option<HttpResponse>) {
        let reused_from = payer
            .filter(|p| *p != self.scope.run_id)
            .map(str::to_string);
        let sent = paid.is_some();
        self.notes.borrow_mut().push(ReplyNote {
            request_hash: addressed.hash.clone(),
            request: addressed.json.clone(),
            reused_from,
            paid,
            sent,
        });
    }

    /// A failed request is not stored; it is noted so that notes stay one per request.
    /// `sent`: whether it failed at the inner transport.
    fn note_failure(&self, addressed: &Addressed, sent: bool) {
        self.note(addressed, None, None);
        if let Some(note) = self.notes.borrow_mut().last_mut() {
            note.sent = sent;
        }
    }

    async fn replay(
        &self,
        addressed: &Addressed,
        twin: Option<&Addressed>,
        token: &CancelToken,
    ) -> Result<HttpResponse, TransportError> {
        for used in std::iter::once(addressed).chain(twin) {
            if let Ok(Some(stored)) = self.hub.read(&used.hash).await {
                self.count(addressed);
                self.note(used, Some(&stored.paid_by), None);
                return Ok(stored.response);
            }
        }
        let note = ReplyNote {
            request_hash: addressed.hash.clone(),
            request: addressed.json.clone(),
            reused_from: None,
            paid: None,
            sent: false,
        };
        self.notes.borrow_mut().push(note.clone());
        self.missing.borrow_mut().get_or_insert(note);
        token.cancel();
        Err(TransportError::Cancelled)
    }

    /// The reply stored for a reusable request under `used`'s address, unless it is one this
    /// run paid for in rounds (see [`Self::in_rounds`]).
    async fn stored_for(&self, used: &Addressed) -> Option<super::StoredReply> {
        let stored = self.hub.lookup(&used.hash).await?;
        if self.in_rounds && stored.paid_by == self.scope.run_id {
            return None;
        }
        Some(stored)
    }
}

fn is_success(result: &Result<HttpResponse, TransportError>) -> bool {
    matches!(result, Ok(r) if (200..300).contains(&r.status))
}

/// How the leader of a request sends it: whole, or streamed to a listener.
enum Delivery<'c> {
    Whole,
    Streamed(&'c mut dyn FnMut(&[u8], Option<f64>)),
}

impl<T: Transport, S: ReplyStore> ReplyCache<T, S> {
    /// Answers `request` from the store, from an identical request in flight, or by sending
    /// it. The response always carries its whole body (the store and the followers need it);
    /// the flag says whether a streamed leader handed the body to the listener already.
    ///
    /// A streamed request with no reply of its own may be answered with the reply stored for
    /// its `whole` twin (one a provider batch or a run that did not stream paid for): the body
    /// goes to the listener in one piece, which the client reads as a whole reply.
    async fn answer(
        &self,
        request: &HttpRequest,
        timeout_ms: u64,
        cancel: &CancelToken,
        how: Delivery<'_>,
        whole: Option<WholeTwin<'_>>,
    ) -> (Result<HttpResponse, TransportError>, bool) {
        let addressed = self.address(request);
        let twin = whole.map(|whole| self.address_nth(&whole(), Some(addressed.nth)));
        if let Some(token) = &self.scope.replay {
            return (self.replay(&addressed, twin.as_ref(), token).await, false);
        }
        let hash = addressed.hash.clone();
        if addressed.reusable {
            // A store that cannot be read is a miss: the request is paid rather than failed.
            for used in std::iter::once(&addressed).chain(twin.as_ref()) {
                if let Some(stored) = self.stored_for(used).await {
                    self.count(&addressed);
                    self.note(used, Some(&stored.paid_by), None);
                    return (Ok(stored.response), false);
                }
            }
            loop {
                if self.in_rounds {
                    break;
                }
                let flight = self.hub.flights.borrow().get(&hash).cloned();
                let Some(flight) = flight else { break };
                let result = flight.wait().await;
                if is_success(&result) {
                    self.count(&addressed);
                    self.note(&addressed, Some(&flight.payer), None);
                    return (result, false);
                }
                if cancel.is_cancelled() {
                    self.note_failure(&addressed, false);
                    return (Err(TransportError::Cancelled), false);
                }
                // The leader failed or was cancelled, not this request: its failure is its
                // own (its retry policy, its budget), so this request is sent again. The
                // first follower to get here leads the next flight and the others await it.
                let mut flights = self.hub.flights.borrow_mut();
                if flights.get(&hash).is_some_and(|f| Rc::ptr_eq(f, &flight)) {
                    flights.remove(&hash);
                }
            }
        }
        let flight = Rc::new(Flight {
            payer: self.scope.run_id.clone(),
            result: RefCell::default(),
            waiters: RefCell::default(),
        });
        if addressed.reusable && !self.in_rounds {
            self.hub
                .flights
                .borrow_mut()
                .insert(hash.clone(), flight.clone());
        }
        let guard = LandOnDrop(flight.clone());
        self.sent.set(self.sent.get() + 1);
        let (result, streamed) = match how {
            Delivery::Whole => (self.inner.send(request, timeout_ms, cancel).await, false),
            Delivery::Streamed(on_chunk) => {
                // The listener sees each piece as it comes; the store and the followers get
                // the whole body once it is in.
                let mut body = Vec::new();
                let mut forward = |chunk: &[u8], arrived_ms: Option<f64>| {
                    body.extend_from_slice(chunk);
                    on_chunk(chunk, arrived_ms);
                };
                let result = self
                    .inner
                    .send_streaming(request, timeout_ms, cancel, &mut forward)
                    .await;
                let result = result.map(|mut response| {
                    if (200..300).contains(&response.status) {
                        response.body = String::from_utf8_lossy(&body).into_owned();
                    }
                    response
                });
                (result, true)
            }
        };
        flight.land(result.clone());
        drop(guard);
        if is_success(&result) {
            self.count(&addressed);
            self.note(&addressed, None, result.clone().ok());
        } else {
            self.hub.settle(&hash);
            self.note_failure(&addressed, true);
        }
        (result, streamed)
    }
}

impl<T: Transport, S: ReplyStore> Transport for ReplyCache<T, S> {
    async fn send(
        &self,
        request: &HttpRequest,
        timeout_ms: u64,
        cancel: &CancelToken,
    ) -> Result<HttpResponse, TransportError> {
        self.answer(request, timeout_ms, cancel, Delivery::Whole, None)
            .await
            .0
    }

    /// A stored or shared reply is handed over whole, in one chunk, as a buffering proxy would;
    /// a paid one streams as it comes.
    async fn send_streaming(
        &self,
        request: &HttpRequest,
        timeout_ms: u64,
        cancel: &CancelToken,
        on_chunk: &mut dyn FnMut(&[u8], Option<f64>),
    ) -> Result<HttpResponse, TransportError> {
        self.stream(request, None, timeout_ms, cancel, on_chunk)
            .await
    }

    /// As [`Self::send_streaming`], and a request with no stored reply of its own is answered
    /// with its whole twin's, if one is stored.
    async fn send_streaming_with_twin(
        &self,
        request: &HttpRequest,
        whole: WholeTwin<'_>,
        timeout_ms: u64,
        cancel: &CancelToken,
        on_chunk: &mut dyn FnMut(&[u8], Option<f64>),
    ) -> Result<HttpResponse, TransportError> {
        self.stream(request, Some(whole), timeout_ms, cancel, on_chunk)
            .await
    }
}

impl<T: Transport, S: ReplyStore> ReplyCache<T, S> {
    async fn stream(
        &self,
        request: &HttpRequest,
        whole: Option<WholeTwin<'_>>,
        timeout_ms: u64,
        cancel: &CancelToken,
        on_chunk: &mut dyn FnMut(&[u8], Option<f64>),
    ) -> Result<HttpResponse, TransportError> {
        let (result, streamed) = self
            .answer(
                request,
                timeout_ms,
                cancel,
                Delivery::Streamed(&mut *on_chunk),
                whole,
            )
            .await;
        let mut response = result?;
        if (200..300).contains(&response.status) {
            let body = std::mem::take(&mut response.body);
            if !streamed {
                on_chunk(body.as_bytes(), None);
            }
        }
        Ok(response)
    }
}
