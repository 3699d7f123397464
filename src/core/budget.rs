//! Spending caps: a [`Budget`] that reserves each call's worst case before the call and settles
//! the actual cost after it, and [`BudgetGate`], the loop's [`CallGate`] over one or more shared
//! budgets (a run's, and a batch's that several runs share).
//!
//! Reservations are held until settled, so calls in flight at the same time (runs of a batch,
//! interleaved on the browser's one thread) can never together overshoot the limit: each call
//! only starts when its worst case fits beside everything spent and everything still held.

use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::hash::{Hash, Hasher};
use std::rc::Rc;

use crate::core::cost::{cost_of, format_usd, UsdSum};
use crate::core::llm::client::ClientOptions;
use crate::core::llm::{AgentCall, Usage};
use crate::core::pipeline::{CallGate, GateRefusal};
use crate::core::pricing::{ModelRates, Price, Pricer};

/// The share of the limit spent from which [`Budget::warn_level`] warns.
pub const WARN_FRACTION: f64 = 0.8;

/// A budget's state, for the UI.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BudgetLevel {
    /// Less than 80 % spent.
    Normal,
    /// 80 % or more spent.
    Warning,
    /// The limit is reached: only free calls can still start.
    Exhausted,
}

/// A budget limit that cannot be used.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("the {label} budget must be a number of US dollars ≥ 0, not {limit_usd}")]
pub struct InvalidLimit {
    /// Which budget (`run`, `batch`).
    pub label: String,
    /// The limit given.
    pub limit_usd: f64,
}

/// A new limit for a budget in use that is not a raise.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error(
    "the {label} budget can only be raised: it is {current} now, so give a larger amount than \
     that (not {limit_usd})",
    current = format_usd(*current_usd)
)]
pub struct NotARaise {
    /// Which budget (`run`, `batch`).
    pub label: String,
    /// The limit given.
    pub limit_usd: f64,
    /// The limit now.
    pub current_usd: f64,
}

/// A call's worst case does not fit in what is left of a budget.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error(
    "the {label} budget of {limit} cannot cover this call: {spent} spent, {held} held by calls in \
     flight, and this call may cost up to {requested}",
    limit = format_usd(*limit_usd),
    spent = format_usd(*spent_usd),
    held = format_usd(*reserved_usd),
    requested = format_usd(*requested_usd)
)]
pub struct BudgetExceeded {
    /// Which budget (`run`, `batch`).
    pub label: String,
    /// Its limit in USD.
    pub limit_usd: f64,
    /// Spent so far in USD, possibly billed requests included.
    pub spent_usd: f64,
    /// Held by calls in flight in USD.
    pub reserved_usd: f64,
    /// The refused call's worst case in USD.
    pub requested_usd: f64,
}

/// Money set aside for one call until it is settled. Not `Clone`: it is settled exactly once.
#[derive(Debug, PartialEq)]
#[must_use = "a reservation holds budget until it is settled"]
pub struct Reservation {
    id: u64,
    amount_usd: f64,
}

impl Reservation {
    /// The amount held, in USD.
    pub fn amount_usd(&self) -> f64 {
        self.amount_usd
    }
}

/// A spending cap in USD with reservations for calls in flight.
#[derive(Debug, Clone, PartialEq)]
pub struct Budget {
    label: String,
    limit_usd: f64,
    spent: UsdSum,
    held: BTreeMap<u64, f64>,
    possibly_billed: UsdSum,
    next_id: u64,
    unpriced_calls: u64,
}

impl Budget {
    /// A budget named `label` (`run`, `batch`; used in messages) of `limit_usd` dollars.
    pub fn new(label: &str, limit_usd: f64) -> Result<Self, InvalidLimit> {
        if !(limit_usd.is_finite() && limit_usd >= 0.0) {
            return Err(InvalidLimit {
                label: label.to_string(),
                limit_usd,
            });
        }
        Ok(Budget {
            label: label.to_string(),
            limit_usd,
            spent: UsdSum::default(),
            held: BTreeMap::new(),
            possibly_billed: UsdSum::default(),
            next_id: 0,
            unpriced_calls: 0,
        })
    }

    /// A shared handle, for gates of several runs.
    pub fn shared(self) -> Rc<RefCell<Budget>> {
        Rc::new(RefCell::new(self))
    }

    /// The budget's name.
    pub fn label(&self) -> &str {
        &self.label
    }

    /// The limit in USD.
    pub fn limit_usd(&self) -> f64 {
        self.limit_usd
    }

    /// Raises the limit to `limit_usd`, keeping what is spent and held; a limit below the
    /// current one is refused, since calls may hold reservations made under it.
    pub fn raise_limit(&mut self, limit_usd: f64) -> Result<(), NotARaise> {
        self.check_raise(limit_usd)?;
        self.limit_usd = limit_usd;
        Ok(())
    }

    fn check_raise(&self, limit_usd: f64) -> Result<(), NotARaise> {
        if limit_usd.is_finite() && limit_usd >= self.limit_usd {
            Ok(())
        } else {
            Err(NotARaise {
                label: self.label.clone(),
                limit_usd,
                current_usd: self.limit_usd,
            })
        }
    }

    /// Spent by settled calls, in USD.
    pub fn spent_usd(&self) -> f64 {
        self.spent.value()
    }

    /// Held by calls in flight, in USD.
    pub fn reserved_usd(&self) -> f64 {
        UsdSum::of(self.held.values().copied()).value()
    }

    /// How many calls are in flight.
    pub fn reservations(&self) -> usize {
        self.held.len()
    }

    /// The worst case of requests that went out and got no reply saying what they cost (a
    /// timeout, a dropped connection, a tab closed mid-call), in USD: the provider may still
    /// bill them, so the budget counts them as if spent.
    pub fn possibly_billed_usd(&self) -> f64 {
        self.possibly_billed.value()
    }

    /// Counts `worst_case_usd` as possibly billed (see [`Budget::possibly_billed_usd`]).
    pub fn record_possibly_billed(&mut self, worst_case_usd: f64) {
        if worst_case_usd.is_finite() && worst_case_usd > 0.0 {
            self.possibly_billed.add(worst_case_usd);
        }
    }

    /// What is neither spent, possibly billed nor held, in USD (0 when overspent).
    pub fn available_usd(&self) -> f64 {
        (self.limit_usd - self.spent_usd() - self.possibly_billed_usd() - self.reserved_usd())
            .max(0.0)
    }

    /// Calls that used tokens at an unknown price (allowed by the user): not in `spent`.
    pub fn unpriced_calls(&self) -> u64 {
        self.unpriced_calls
    }

    /// Spent as a share of the limit (1.0 for a zero limit).
    pub fn fraction_spent(&self) -> f64 {
        if self.limit_usd > 0.0 {
            self.spent_usd() / self.limit_usd
        } else {
            1.0
        }
    }

    /// Normal below 80 % spent, Warning from 80 %, Exhausted once the limit is spent
    /// (possibly billed requests count as spent).
    pub fn warn_level(&self) -> BudgetLevel {
        let spent = self.spent_usd() + self.possibly_billed_usd();
        if spent >= self.limit_usd {
            BudgetLevel::Exhausted
        } else if spent >= WARN_FRACTION * self.limit_usd {
            BudgetLevel::Warning
        } else {
            BudgetLevel::Normal
        }
    }

    /// Holds `worst_case_usd` for a call, or refuses it when spent + held + this would pass the
    /// limit. A free call (worst case 0) always fits; a worst case that is not a number never
    /// does.
    pub fn reserve(&mut self, worst_case_usd: f64) -> Result<Reservation, BudgetExceeded> {
        let amount = if worst_case_usd.is_nan() {
            f64::INFINITY
        } else {
            worst_case_usd.max(0.0)
        };
        let spent = self.spent_usd() + self.possibly_billed_usd();
        let reserved = self.reserved_usd();
        if amount > 0.0 && spent + reserved + amount > self.limit_usd {
            return Err(BudgetExceeded {
                label: self.label.clone(),
                limit_usd: self.limit_usd,
                spent_usd: spent,
                reserved_usd: reserved,
                requested_usd: amount,
            });
        }
        let id = self.next_id;
        self.next_id += 1;
        self.held.insert(id, amount);
        Ok(Reservation {
            id,
            amount_usd: amount,
        })
    }

    /// Ends a reservation: frees what it held and counts `actual_usd` as spent. An actual cost
    /// that is not a number counts as the amount held.
    pub fn settle(&mut self, reservation: Reservation, actual_usd: f64) {
        self.held.remove(&reservation.id);
        let actual = if actual_usd.is_nan() {
            reservation.amount_usd
        } else {
            actual_usd.max(0.0)
        };
        self.spent.add(actual);
    }

    /// Ends a reservation for a call that was never made.
    pub fn release(&mut self, reservation: Reservation) {
        self.settle(reservation, 0.0);
    }

    /// Counts a call that used tokens at an unknown price.
    pub fn record_unpriced(&mut self) {
        self.unpriced_calls += 1;
    }
}

/// How the worst case of a call is bounded before it is made.
///
/// A call can make `1 + max_reasks` billed requests (each re-ask sends the invalid reply and
/// the problems back). For request `k` (from 0) the bound is:
/// - prompt tokens ≤ `P + k × (max_tokens + reask_tokens)`. `P` is the exact prompt count a
///   provider reported for an earlier identical first request, when there was one; otherwise
///   the UTF-8 byte length of the system and user prompts and of the role's schema (pretty
///   printed, as prompt-only mode appends it) plus `overhead_tokens`. Bytes bound tokens
///   because every token of a BPE or SentencePiece tokenizer (byte fallback included) stands
///   for at least one byte of text; the overhead covers chat-template tokens and the words
///   around the schema. For English text the byte bound over-estimates about fourfold, on
///   purpose: a cap must hold whatever the text.
/// - output tokens ≤ `max_tokens` (providers stop there, reasoning included), billed at the
///   higher of the output and reasoning rates.
///
/// Each request is priced on its own, tiers included, and the requests summed. Transport
/// retries are not reserved: a request that got an HTTP error was not billed, and one that got
/// no reply at all (timeout, dropped connection) is counted as *possibly billed* at its
/// request's worst case once the call ends ([`CallEstimate::possibly_billed_usd`]), so it
/// counts against the budget before the next call is let in.
// NOTE: reasoning counts against the output cap on every provider we call: OpenAI's
// `max_completion_tokens` (https://platform.openai.com/docs/guides/reasoning#controlling-costs),
// Anthropic's `max_tokens` includes the thinking budget
// (https://docs.anthropic.com/en/docs/build-with-claude/extended-thinking), and Gemini 2.5
// bills thoughts against `maxOutputTokens` (https://github.com/googleapis/python-genai/issues/782).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CallEstimate {
    /// Re-asks after an invalid reply (default: the client's default, 2).
    pub max_reasks: u32,
    /// Tokens added to a first request's byte bound for chat-template framing and the
    /// instructions around the schema (default 256).
    pub overhead_tokens: u64,
    /// Tokens each re-ask adds beside the invalid reply it sends back: the problems found and
    /// the instruction to answer again (default 1 000).
    pub reask_tokens: u64,
    /// Whether the role's schema counts in the first prompt's bound (default: yes; it is sent
    /// with every request, as the structured-output format or in the prompt).
    pub count_schema: bool,
}

impl Default for CallEstimate {
    fn default() -> Self {
        CallEstimate {
            max_reasks: ClientOptions::default().max_reasks,
            overhead_tokens: 256,
            reask_tokens: 1_000,
            count_schema: true,
        }
    }
}

/// The bytes of `role`'s schema as prompt-only mode appends it (pretty printed: the longest
/// form any mode sends).
fn schema_bytes(role: crate::core::role::AgentRole) -> u64 {
    let spec = crate::core::llm::structured::spec_for(
        role,
        crate::core::llm::chat::StructuredMode::PromptOnly,
    );
    crate::core::llm::structured::prompt_only_instructions(&spec).len() as u64
}

impl CallEstimate {
    /// An upper bound on the prompt tokens of `call`'s first request, from its length.
    pub fn prompt_bound(&self, call: &AgentCall) -> u64 {
        let schema = if self.count_schema {
            schema_bytes(call.role)
        } else {
            0
        };
        ((call.system_prompt.len() + call.user_prompt.len()) as u64)
            .saturating_add(schema)
            .saturating_add(self.overhead_tokens)
    }

    /// The worst-case usage of request `k` of the call (0: the first, then each re-ask), with
    /// the first request's prompt counted as `prompt_tokens`.
    fn request_usage(&self, call: &AgentCall, prompt_tokens: u64, k: u64) -> Usage {
        let max_tokens = u64::from(call.max_tokens);
        let input = prompt_tokens
            .saturating_add(k.saturating_mul(max_tokens.saturating_add(self.reask_tokens)));
        Usage {
            input_tokens: input,
            output_tokens: max_tokens,
            total_tokens: input.saturating_add(max_tokens),
            ..Usage::default()
        }
    }

    /// The worst-case usage of each request the call may make, its first prompt bounded by
    /// its length.
    pub fn worst_case_usage(&self, call: &AgentCall) -> Vec<Usage> {
        self.worst_case_usage_known(call, None)
    }

    /// As [`CallEstimate::worst_case_usage`], with the first request's exact prompt count when
    /// a provider reported it for an identical request (tokenizing the same text gives the
    /// same count, so it replaces the bound from its length).
    pub fn worst_case_usage_known(
        &self,
        call: &AgentCall,
        known_prompt_tokens: Option<u64>,
    ) -> Vec<Usage> {
        let prompt = known_prompt_tokens.unwrap_or_else(|| self.prompt_bound(call));
        (0..=u64::from(self.max_reasks))
            .map(|k| self.request_usage(call, prompt, k))
            .collect()
    }

    /// The worst-case cost of the call at `rates`, in USD.
    pub fn worst_case_usd(&self, call: &AgentCall, rates: &ModelRates) -> f64 {
        self.worst_case_usd_known(call, None, rates)
    }

    /// As [`CallEstimate::worst_case_usd`], with the first request's exact prompt count when
    /// known.
    pub fn worst_case_usd_known(
        &self,
        call: &AgentCall,
        known_prompt_tokens: Option<u64>,
        rates: &ModelRates,
    ) -> f64 {
        let price = |u: &Usage| Some(cost_of(u, rates).total_usd);
        let costs = self
            .worst_case_usage_known(call, known_prompt_tokens)
            .into_iter()
            .map(|u| priced_worst_case(&u, price).unwrap_or(f64::INFINITY));
        UsdSum::of(costs).value()
    }

    /// The worst-case cost of request `k` of the call alone (0: the first, then each re-ask)
    /// at `rates`, with the first request's exact prompt count when known.
    pub fn request_usd(
        &self,
        call: &AgentCall,
        k: u64,
        known_prompt_tokens: Option<u64>,
        rates: &ModelRates,
    ) -> f64 {
        let prompt = known_prompt_tokens.unwrap_or_else(|| self.prompt_bound(call));
        let usage = self.request_usage(call, prompt, k);
        priced_worst_case(&usage, |u| Some(cost_of(u, rates).total_usd)).unwrap_or(f64::INFINITY)
    }

    /// What the requests of a finished call that got no reply may have cost: each such
    /// attempt ([`AttemptRecord::unsettled`](crate::core::llm::AttemptRecord)) at the worst
    /// case of its request (the first, or the re-ask it was a try of), priced by `price`
    /// (`None`: the price is unknown). Zero when every request got a reply.
    pub fn possibly_billed_usd(
        &self,
        call: &AgentCall,
        attempts: &[crate::core::llm::AttemptRecord],
        price: impl Fn(&Usage) -> Option<f64>,
    ) -> Option<f64> {
        use crate::core::llm::AttemptKind;
        let prompt = self.prompt_bound(call);
        let mut request = 0u64;
        let mut total = UsdSum::default();
        for attempt in attempts {
            if attempt.kind == AttemptKind::Reask {
                request += 1;
            }
            if attempt.unsettled {
                let usage = self.request_usage(call, prompt, request);
                total.add(priced_worst_case(&usage, &price)?);
            }
        }
        Some(total.value())
    }
}

/// The cost of `usage` at the higher of its output and reasoning rates (a worst case does not
/// know how much of the output will be reasoning).
pub fn priced_worst_case(usage: &Usage, price: impl Fn(&Usage) -> Option<f64>) -> Option<f64> {
    let as_output = price(usage)?;
    let as_reasoning = price(&Usage {
        reasoning_tokens: usage.output_tokens,
        ..*usage
    })?;
    Some(as_output.max(as_reasoning))
}

/// What one gate holds for a call in flight.
#[derive(Debug)]
struct Held {
    /// What the worst case depends on; two calls with equal keys hold equal amounts, so
    /// settling one for the other (runs of a batch sharing a gate) changes nothing.
    key: CallKey,
    /// One reservation per budget, in the gate's budget order.
    reservations: Vec<Reservation>,
    /// Reservations for requests reserved one by one after the first (re-asks, retries of
    /// requests that got no reply), with the index of their budget.
    extra: Vec<(usize, Reservation)>,
}

/// The model, prompt size and output cap of a call: everything its worst case depends on.
#[derive(Debug, Clone, PartialEq, Eq)]
struct CallKey {
    model: String,
    prompt_bytes: usize,
    max_tokens: u32,
}

impl CallKey {
    fn of(call: &AgentCall) -> Self {
        CallKey {
            model: call.model.clone(),
            prompt_bytes: call.system_prompt.len() + call.user_prompt.len(),
            max_tokens: call.max_tokens,
        }
    }
}

/// The loop's [`CallGate`] over shared budgets: before each call, reserves its worst case in
/// every budget (all or none); after it, settles the actual cost. One gate may serve several
/// runs at once (a batch's shared budget): each call's reservation is settled by its own
/// `after_call`, in whatever order the calls finish.
///
/// With a budget set, a call whose price is unknown is refused, since the cap could not be
/// guaranteed, unless [`BudgetGate::allow_unpriced`] is on; such calls are then counted in
/// [`Budget::unpriced_calls`] and add nothing to `spent`.
#[derive(Debug)]
pub struct BudgetGate {
    pricer: Rc<Pricer>,
    budgets: Vec<Rc<RefCell<Budget>>>,
    estimate: CallEstimate,
    allow_unpriced: bool,
    in_flight: RefCell<VecDeque<Held>>,
    /// Exact prompt counts providers reported for first requests, by [`prompt_key`].
    known_prompts: RefCell<HashMap<u64, u64>>,
    /// What the latest call let in reserved, for the page to show beside the budget.
    last_reserved: Cell<Option<f64>>,
}

/// What makes two first requests' prompts the same: the model and the rendered prompts.
fn prompt_key(call: &AgentCall) -> u64 {
    let mut hasher = std::hash::DefaultHasher::new();
    (
        &call.model,
        call.role.as_str(),
        &call.system_prompt,
        &call.user_prompt,
    )
        .hash(&mut hasher);
    hasher.finish()
}

impl BudgetGate {
    /// A gate pricing calls with `pricer`, with no budget yet (every call passes).
    pub fn new(pricer: Rc<Pricer>) -> Self {
        BudgetGate {
            pricer,
            budgets: Vec::new(),
            estimate: CallEstimate::default(),
            allow_unpriced: false,
            in_flight: RefCell::new(VecDeque::new()),
            known_prompts: RefCell::new(HashMap::new()),
            last_reserved: Cell::new(None),
        }
    }

    /// A gate for a config's cap: calls priced by `pricer` and bounded as the client re-asks up
    /// to `max_reasks` times, held to `limit_usd` (none: every call passes) of which
    /// `already_spent_usd` is spent (a resumed run's or batch's earlier sessions).
    pub fn capped(
        pricer: Rc<Pricer>,
        label: &str,
        limit_usd: Option<f64>,
        already_spent_usd: f64,
        max_reasks: u32,
    ) -> Result<Self, InvalidLimit> {
        let estimate = CallEstimate {
            max_reasks,
            ..CallEstimate::default()
        };
        let mut gate = BudgetGate::new(pricer).with_estimate(estimate);
        if let Some(limit) = limit_usd {
            let mut budget = Budget::new(label, limit)?;
            if already_spent_usd > 0.0 {
                // Nothing is held yet, so a zero reservation always fits; settling it counts
                // what the earlier sessions spent.
                if let Ok(held) = budget.reserve(0.0) {
                    budget.settle(held, already_spent_usd);
                }
            }
            gate = gate.with_budget(budget.shared());
        }
        Ok(gate)
    }

    /// Adds a budget every call must fit in (the run's; a batch's shared with other gates).
    pub fn with_budget(mut self, budget: Rc<RefCell<Budget>>) -> Self {
        self.budgets.push(budget);
        self
    }

    /// Lets calls at an unknown price through (default: refused while a budget is set).
    pub fn allow_unpriced(mut self, allow: bool) -> Self {
        self.allow_unpriced = allow;
        self
    }

    /// Uses another worst-case bound (e.g. the client's own `max_reasks`).
    pub fn with_estimate(mut self, estimate: CallEstimate) -> Self {
        self.estimate = estimate;
        self
    }

    /// The call's worst case in USD (what [`CallGate::before_call`] reserves for it), or
    /// `None` when its price is unknown.
    pub fn worst_case_usd(&self, call: &AgentCall) -> Option<f64> {
        let known = self.known_prompts.borrow().get(&prompt_key(call)).copied();
        match self.pricer.price_of("", &call.model) {
            Price::Known(quote) => Some(self.estimate.worst_case_usd_known(
                call,
                known,
                &quote.rates,
            )),
            Price::Unknown => None,
        }
    }

    /// What [`CallGate::before_first_request`] reserves for `call`: its first request's worst
    /// case (each later request is reserved when it is about to be sent); `None` when the
    /// price is unknown.
    pub fn first_request_usd(&self, call: &AgentCall) -> Option<f64> {
        self.request_usd(call, 0)
    }

    fn request_usd(&self, call: &AgentCall, k: u64) -> Option<f64> {
        // A re-ask's prompt holds the first one, so its exact count bounds that part too.
        let known = self.known_prompts.borrow().get(&prompt_key(call)).copied();
        match self.pricer.price_of("", &call.model) {
            Price::Known(quote) => Some(self.estimate.request_usd(call, k, known, &quote.rates)),
            Price::Unknown => None,
        }
    }

    /// The amount to hold for a call of worst case `worst` (`None`: unknown price), or why
    /// it is refused.
    fn amount_for(&self, call: &AgentCall, worst: Option<f64>) -> Result<f64, GateRefusal> {
        match worst {
            Some(worst) => Ok(worst),
            None if self.allow_unpriced => Ok(0.0),
            None => {
                let limits: Vec<String> = self
                    .budgets
                    .iter()
                    .map(|b| {
                        let b = b.borrow();
                        format!("the {} budget of {}", b.label, format_usd(b.limit_usd))
                    })
                    .collect();
                Err(GateRefusal::new(format!(
                    "no price is known for `{}`, so {} cannot be guaranteed; add your own price \
                     for this model in the price settings, or allow calls at unknown prices",
                    call.model,
                    limits.join(" and ")
                )))
            }
        }
    }

    /// Holds `amount` in every budget (all or none).
    fn reserve_all(&self, call: &AgentCall, amount: f64) -> Result<Vec<Reservation>, GateRefusal> {
        let mut reservations = Vec::with_capacity(self.budgets.len());
        for budget in &self.budgets {
            match budget.borrow_mut().reserve(amount) {
                Ok(r) => reservations.push(r),
                Err(exceeded) => {
                    for (b, r) in self.budgets.iter().zip(reservations) {
                        b.borrow_mut().release(r);
                    }
                    return Err(GateRefusal::new(format!(
                        "{exceeded} ({}, max_tokens {}); raise the budget, lower max_tokens or \
                         pick a cheaper model",
                        call.model, call.max_tokens
                    )));
                }
            }
        }
        Ok(reservations)
    }

    /// Reserves `worst` for a new call in flight.
    fn admit(&self, call: &AgentCall, worst: Option<f64>) -> Result<(), GateRefusal> {
        if self.budgets.is_empty() {
            return Ok(());
        }
        let amount = self.amount_for(call, worst)?;
        let reservations = self.reserve_all(call, amount)?;
        self.last_reserved.set(Some(amount));
        self.in_flight.borrow_mut().push_back(Held {
            key: CallKey::of(call),
            reservations,
            extra: Vec::new(),
        });
        Ok(())
    }

    /// What the latest call this gate let in reserved before it was sent, in USD (`None`
    /// before the first, or without a budget).
    pub fn last_reserved_usd(&self) -> Option<f64> {
        self.last_reserved.get()
    }

    /// The budgets this gate holds calls to.
    pub fn budgets(&self) -> &[Rc<RefCell<Budget>>] {
        &self.budgets
    }

    /// Raises every budget of this gate to `limit_usd` (a batch paused by its budget, given
    /// more); refused, with nothing changed, below any current limit.
    pub fn raise_limit(&self, limit_usd: f64) -> Result<(), NotARaise> {
        for budget in &self.budgets {
            budget.borrow().check_raise(limit_usd)?;
        }
        for budget in &self.budgets {
            budget.borrow_mut().raise_limit(limit_usd)?;
        }
        Ok(())
    }

    /// Calls in flight through this gate.
    pub fn calls_in_flight(&self) -> usize {
        self.in_flight.borrow().len()
    }
}

impl CallGate for BudgetGate {
    fn before_call(&self, call: &AgentCall) -> Result<(), GateRefusal> {
        self.admit(call, self.worst_case_usd(call))
    }

    fn before_first_request(&self, call: &AgentCall) -> Result<(), GateRefusal> {
        self.admit(call, self.first_request_usd(call))
    }

    fn before_request(&self, call: &AgentCall, request: u64) -> Result<(), GateRefusal> {
        if self.budgets.is_empty() {
            return Ok(());
        }
        let amount = self.amount_for(call, self.request_usd(call, request))?;
        let reservations = self.reserve_all(call, amount)?;
        let mut in_flight = self.in_flight.borrow_mut();
        let key = CallKey::of(call);
        match in_flight.iter_mut().find(|h| h.key == key) {
            Some(held) => held.extra.extend(reservations.into_iter().enumerate()),
            None => in_flight.push_back(Held {
                key,
                reservations,
                extra: Vec::new(),
            }),
        }
        Ok(())
    }

    fn possibly_billed(&self, _call: &AgentCall, worst_case_usd: f64) {
        for budget in &self.budgets {
            budget.borrow_mut().record_possibly_billed(worst_case_usd);
        }
    }

    fn prompt_tokens_reported(&self, call: &AgentCall, input_tokens: u64) {
        if input_tokens > 0 {
            self.known_prompts
                .borrow_mut()
                .insert(prompt_key(call), input_tokens);
        }
    }

    fn after_call(&self, call: &AgentCall, usage: &Usage, cost_usd: Option<f64>) {
        let held = {
            let mut in_flight = self.in_flight.borrow_mut();
            let key = CallKey::of(call);
            let index = in_flight.iter().position(|h| h.key == key).unwrap_or(0);
            in_flight.remove(index)
        };
        let Some(held) = held else { return };
        // The cost settles against the first reservation; the later requests' are freed (the
        // cost counts them), or, with no price now, counted at their worst case.
        for (index, extra) in held.extra {
            let worst = extra.amount_usd;
            let counted = if cost_usd.is_some() { 0.0 } else { worst };
            self.budgets[index].borrow_mut().settle(extra, counted);
        }
        for (budget, reservation) in self.budgets.iter().zip(held.reservations) {
            let mut budget = budget.borrow_mut();
            match cost_usd {
                Some(cost) => budget.settle(reservation, cost),
                // Priced when reserved but not now: count the worst case, to stay under the cap.
                None if reservation.amount_usd > 0.0 => {
                    let worst = reservation.amount_usd;
                    budget.settle(reservation, worst)
                }
                None => {
                    if usage.total_tokens > 0 {
                        budget.record_unpriced();
                    }
                    budget.release(reservation);
                }
            }
        }
    }
}

impl Drop for BudgetGate {
    /// A gate dropped with calls in flight (a run's future dropped mid-request) counts their
    /// worst case as possibly billed: the requests may have been billed, and the cap must hold.
    fn drop(&mut self) {
        for held in self.in_flight.get_mut().drain(..) {
            let extra = held.extra.into_iter();
            let all = held.reservations.into_iter().enumerate().chain(extra);
            for (index, reservation) in all {
                if let Ok(mut budget) = self.budgets[index].try_borrow_mut() {
                    let worst = reservation.amount_usd;
                    budget.release(reservation);
                    budget.record_possibly_billed(worst);
                }
            }
        }
    }
}

/// Two gates every call must pass: a batch run's own budget, then the batch's shared one. A
/// call the second refuses hands back what the first reserved for it. Remembers whether the
/// first refused, so a run stopped by its own budget can be told from a batch that ran out.
pub struct GatePair<'a> {
    first: &'a dyn CallGate,
    second: &'a dyn CallGate,
    first_refused: Cell<bool>,
}

impl<'a> GatePair<'a> {
    /// `first` is asked first.
    pub fn new(first: &'a dyn CallGate, second: &'a dyn CallGate) -> Self {
        GatePair {
            first,
            second,
            first_refused: Cell::new(false),
        }
    }

    /// Whether the first gate refused a call.
    pub fn first_refused(&self) -> bool {
        self.first_refused.get()
    }
}

impl CallGate for GatePair<'_> {
    fn before_call(&self, call: &AgentCall) -> Result<(), GateRefusal> {
        if let Err(refusal) = self.first.before_call(call) {
            self.first_refused.set(true);
            return Err(refusal);
        }
        if let Err(refusal) = self.second.before_call(call) {
            // Nothing was called: settle the first gate's reservation at nothing spent.
            self.first.after_call(call, &Usage::default(), Some(0.0));
            return Err(refusal);
        }
        Ok(())
    }

    fn before_first_request(&self, call: &AgentCall) -> Result<(), GateRefusal> {
        if let Err(refusal) = self.first.before_first_request(call) {
            self.first_refused.set(true);
            return Err(refusal);
        }
        if let Err(refusal) = self.second.before_first_request(call) {
            self.first.after_call(call, &Usage::default(), Some(0.0));
            return Err(refusal);
        }
        Ok(())
    }

    fn before_request(&self, call: &AgentCall, request: u64) -> Result<(), GateRefusal> {
        // A refusal by the second leaves the first's extra held until the call settles.
        self.first.before_request(call, request)?;
        self.second.before_request(call, request)
    }

    fn possibly_billed(&self, call: &AgentCall, worst_case_usd: f64) {
        self.first.possibly_billed(call, worst_case_usd);
        self.second.possibly_billed(call, worst_case_usd);
    }

    fn prompt_tokens_reported(&self, call: &AgentCall, input_tokens: u64) {
        self.first.prompt_tokens_reported(call, input_tokens);
        self.second.prompt_tokens_reported(call, input_tokens);
    }

    fn after_call(&self, call: &AgentCall, usage: &Usage, cost_usd: Option<f64>) {
        self.first.after_call(call, usage, cost_usd);
        self.second.after_call(call, usage, cost_usd);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_must_be_non_negative_numbers() {
        assert!(Budget::new("run", 0.0).is_ok());
        let err = Budget::new("run", -1.0).unwrap_err();
        assert_eq!(
            err.to_string(),
            "the run budget must be a number of US dollars ≥ 0, not -1"
        );
        assert!(Budget::new("batch", f64::NAN).is_err());
    }

    /// $1 per million input and output tokens for `openai/m`.
    fn dollar_pricer() -> Rc<Pricer> {
        use crate::core::pricing::{PriceOverrides, RateOverride};
        let mut overrides = PriceOverrides::new();
        overrides
            .insert("openai/m", RateOverride::new(1.0, 1.0))
            .unwrap();
        Rc::new(Pricer::new(None, overrides))
    }

    /// A call to `openai/m` whose worst case with no re-asks is (1 byte + 1000 overhead +
    /// 999,000 output) tokens at $1/M: about $1.000001.
    fn big_call() -> AgentCall {
        AgentCall {
            role: crate::core::role::AgentRole::Solver,
            model: "openai/m".into(),
            system_prompt: String::new(),
            user_prompt: "x".into(),
            temperature: 0.0,
            max_tokens: 999_000,
            reasoning: Default::default(),
        }
    }

    #[test]
    fn a_capped_gate_counts_earlier_spend_and_no_cap_lets_calls_through() {
        use crate::core::pipeline::CallGate;
        let pricer = dollar_pricer();
        // About $1.000001 (see big_call): a $1.50 cap with $0.60 already spent refuses it, and
        // $2.00 does not.
        let call = big_call();
        let tight = BudgetGate::capped(pricer.clone(), "run", Some(1.5), 0.6, 0).unwrap();
        assert!(tight.before_call(&call).is_err());
        let roomy = BudgetGate::capped(pricer.clone(), "run", Some(2.0), 0.6, 0).unwrap();
        assert!(roomy.before_call(&call).is_ok());
        let uncapped = BudgetGate::capped(pricer.clone(), "run", None, 100.0, 0).unwrap();
        assert!(uncapped.before_call(&call).is_ok());
        assert!(BudgetGate::capped(pricer, "batch", Some(-1.0), 0.0, 0).is_err());
    }

    #[test]
    fn a_gate_pair_hands_back_the_first_reservation_when_the_second_refuses() {
        use crate::core::pipeline::CallGate;
        let pricer = dollar_pricer();
        // About $1.000001 (see big_call): a $1.50 run budget fits one call, not two.
        let call = big_call();
        let run = BudgetGate::capped(pricer.clone(), "run", Some(1.5), 0.0, 0).unwrap();
        let empty_batch = BudgetGate::capped(pricer.clone(), "batch", Some(0.5), 0.0, 0).unwrap();
        let pair = GatePair::new(&run, &empty_batch);
        let refusal = pair.before_call(&call).unwrap_err();
        assert!(
            refusal.reason.contains("batch budget"),
            "{}",
            refusal.reason
        );
        assert!(!pair.first_refused());
        // The run budget holds nothing for the refused call: one call still fits in it.
        assert_eq!(run.calls_in_flight(), 0);
        assert!(run.before_call(&call).is_ok());

        let roomy_batch = BudgetGate::capped(pricer, "batch", Some(100.0), 0.0, 0).unwrap();
        let pair = GatePair::new(&run, &roomy_batch);
        let refusal = pair.before_call(&call).unwrap_err();
        assert!(refusal.reason.contains("run budget"), "{}", refusal.reason);
        assert!(pair.first_refused());
        assert_eq!(roomy_batch.calls_in_flight(), 0, "the batch was not asked");
    }

    #[test]
    fn a_raised_gate_lets_in_the_call_its_old_limit_refused_and_a_lower_limit_is_refused() {
        let gate = BudgetGate::capped(dollar_pricer(), "batch", Some(0.5), 0.5, 0).unwrap();
        assert!(gate.before_call(&big_call()).is_err(), "the $0.50 is spent");
        let refused = gate.raise_limit(0.25).unwrap_err();
        assert_eq!(refused.current_usd, 0.5);
        assert!(
            refused.to_string().contains("can only be raised"),
            "{refused}"
        );
        assert!(gate.raise_limit(f64::NAN).is_err());
        // A refused raise leaves the limit as it was.
        assert_eq!(gate.budgets[0].borrow().limit_usd(), 0.5);
        assert!(gate.before_call(&big_call()).is_err());

        gate.raise_limit(1_000.0).unwrap();
        assert_eq!(gate.budgets[0].borrow().limit_usd(), 1_000.0);
        gate.before_call(&big_call()).unwrap();
        // What was spent still counts against the raised limit.
        let budget = &gate.budgets[0];
        assert_eq!(budget.borrow().spent_usd(), 0.5);
        assert!(budget.borrow().reserved_usd() > 0.0);
        // A gate without a budget has nothing to raise.
        let open = BudgetGate::capped(dollar_pricer(), "batch", None, 0.0, 0).unwrap();
        open.raise_limit(5.0).unwrap();
        assert!(open.budgets.is_empty());
    }

    #[test]
    fn free_calls_fit_even_an_exhausted_budget_and_nan_never_fits() {
        let mut b = Budget::new("run", 0.0).unwrap();
        assert_eq!(b.warn_level(), BudgetLevel::Exhausted);
        let r = b.reserve(0.0).unwrap();
        b.settle(r, 0.0);
        assert!(b.reserve(f64::NAN).is_err());
    }

    #[test]
    fn worst_case_counts_bytes_and_every_reask() {
        let call = AgentCall {
            role: crate::core::role::AgentRole::Solver,
            model: "m".into(),
            system_prompt: "ab".into(),
            user_prompt: "é".into(), // 2 bytes in UTF-8
            temperature: 0.0,
            max_tokens: 10,
            reasoning: Default::default(),
        };
        let est = CallEstimate {
            max_reasks: 2,
            overhead_tokens: 100,
            reask_tokens: 100,
            count_schema: false,
        };
        let inputs: Vec<u64> = est
            .worst_case_usage(&call)
            .iter()
            .map(|u| u.input_tokens)
            .collect();
        // P = 4 bytes + 100 = 104; each re-ask adds 10 + 100.
        assert_eq!(inputs, vec![104, 214, 324]);
        // The schema counts by default; an exact count reported earlier replaces the bound,
        // never above it.
        let with_schema = CallEstimate {
            count_schema: true,
            ..est
        };
        let schema = schema_bytes(call.role);
        assert!(schema > 100, "{schema}");
        assert_eq!(with_schema.prompt_bound(&call), 104 + schema);
        let known = |n| with_schema.worst_case_usage_known(&call, Some(n))[0].input_tokens;
        assert_eq!(known(30), 30);
        assert_eq!(known(1_000_000), 1_000_000);
    }
}
