//! Which tab drives a run or a batch: the driver holds a lock named after the work for as long
//! as it drives it, so another tab (or this one) neither resumes it meanwhile nor takes it for
//! work a closed page left behind. The browser's Web Locks implement [`TabLocks`] in
//! `web::locks`; [`MemoryLocks`] stands in for them in tests.

use std::cell::RefCell;
use std::collections::HashSet;
use std::rc::Rc;

use super::error::Work;

/// What asking for a lock found.
#[derive(Debug)]
pub enum Claim<G> {
    /// This tab holds it now, until the guard is dropped.
    Held(G),
    /// Another holder has it: the work is live elsewhere.
    Taken,
    /// Nothing can be known (no lock service, or it refused): callers act as a lone tab would.
    Unlocked,
}

impl<G> Claim<G> {
    /// Whether no other holder has the lock.
    pub fn is_free(&self) -> bool {
        !matches!(self, Claim::Taken)
    }
}

/// The exclusive locks a tab takes on the work it drives.
// Futures are not `Send` in the browser, by design.
#[allow(async_fn_in_trait)]
pub trait TabLocks {
    /// What holding a lock is; dropping it hands the lock back.
    type Guard;
    /// Asks for `work`'s lock without waiting for another holder to give it up.
    async fn claim(&self, work: &Work) -> Claim<Self::Guard>;
}

/// No locks: every claim is [`Claim::Unlocked`]. For work whose caller already holds the lock
/// that covers it (a batch's runs are driven under the batch's lock).
#[derive(Debug, Clone, Copy, Default)]
pub struct NoLocks;

impl TabLocks for NoLocks {
    type Guard = ();

    async fn claim(&self, _work: &Work) -> Claim<()> {
        Claim::Unlocked
    }
}

/// Locks kept in memory, shared by clones: what two tabs of one browser see, in tests.
#[derive(Debug, Clone, Default)]
pub struct MemoryLocks {
    held: Rc<RefCell<HashSet<Work>>>,
}

impl MemoryLocks {
    /// No lock held.
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether `work`'s lock is held.
    pub fn is_held(&self, work: &Work) -> bool {
        self.held.borrow().contains(work)
    }

    fn take(&self, work: &Work) -> Claim<MemoryGuard> {
        if self.held.borrow_mut().insert(work.clone()) {
            Claim::Held(MemoryGuard {
                locks: self.clone(),
                work: work.clone(),
            })
        } else {
            Claim::Taken
        }
    }

    /// Takes `work`'s lock as another tab would, or `None` when it is held.
    pub fn hold(&self, work: &Work) -> Option<MemoryGuard> {
        match self.take(work) {
            Claim::Held(guard) => Some(guard),
            Claim::Taken | Claim::Unlocked => None,
        }
    }
}

/// A lock of [`MemoryLocks`], given back when dropped.
#[derive(Debug)]
pub struct MemoryGuard {
    locks: MemoryLocks,
    work: Work,
}

impl Drop for MemoryGuard {
    fn drop(&mut self) {
        self.locks.held.borrow_mut().remove(&self.work);
    }
}

impl TabLocks for MemoryLocks {
    type Guard = MemoryGuard;

    async fn claim(&self, work: &Work) -> Claim<MemoryGuard> {
        self.take(work)
    }
}

/// Why a stored run may not be deleted now: something is driving it, and its next write would
/// bring back an empty record under the same id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DrivenElsewhere {
    /// The run's own lock is held: the Run page of a tab (this one or another) is running it.
    #[error("run {run_id} is going in an open tab of the app; cancel it there (or close that tab) before deleting it")]
    Run {
        /// The run.
        run_id: String,
    },
    /// The lock of the batch the run belongs to is held: that batch is running in an open tab.
    #[error("run {run_id} belongs to batch {batch_id}, which is running in an open tab of the app; cancel the batch there (or close that tab) before deleting its runs")]
    Batch {
        /// The run.
        run_id: String,
        /// Its batch.
        batch_id: String,
    },
}

/// The locks a delete holds so that nothing starts driving the run while it is deleted.
#[derive(Debug)]
pub struct DeleteHold<G> {
    _claims: Vec<Claim<G>>,
}

/// Takes the locks of run `run_id` (and of its batch `batch_id`, for a batch's run) for as long
/// as the returned hold lives, or says who drives it. A lock this tab holds counts as held:
/// deleting a run this tab drives is refused the same way.
pub async fn hold_for_delete<K: TabLocks>(
    locks: &K,
    run_id: &str,
    batch_id: Option<&str>,
) -> Result<DeleteHold<K::Guard>, DrivenElsewhere> {
    let mut claims = Vec::with_capacity(2);
    if let Some(batch_id) = batch_id {
        match locks.claim(&Work::Batch(batch_id.to_string())).await {
            Claim::Taken => {
                return Err(DrivenElsewhere::Batch {
                    run_id: run_id.to_string(),
                    batch_id: batch_id.to_string(),
                })
            }
            claim => claims.push(claim),
        }
    }
    match locks.claim(&Work::Run(run_id.to_string())).await {
        Claim::Taken => Err(DrivenElsewhere::Run {
            run_id: run_id.to_string(),
        }),
        claim => {
            claims.push(claim);
            Ok(DeleteHold { _claims: claims })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lock_is_exclusive_until_its_guard_is_dropped() {
        let locks = MemoryLocks::new();
        let run = Work::Run("run_a".into());
        let guard = locks.hold(&run).expect("free at first");
        assert!(locks.is_held(&run));
        assert!(locks.hold(&run).is_none());
        // Another run's lock is another lock.
        assert!(locks.hold(&Work::Batch("run_a".into())).is_some());
        drop(guard);
        assert!(!locks.is_held(&run));
        assert!(locks.hold(&run).is_some());
    }
}
