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
