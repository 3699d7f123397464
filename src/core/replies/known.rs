//! [`StoredHashes`]: which requests have a stored reply, held in memory so that a request with
//! none (every paid call) is answered without reading the store.

use std::cell::{Cell, RefCell};
use std::collections::HashSet;
use std::rc::Rc;

/// The hashes of the stored replies, read from the store once and kept up to date by the
/// writes that pass through it (and, in the browser, by what other tabs announce).
///
/// It is a hint, never the answer: a hash it holds is read from the store before it is used
/// (a reply removed meanwhile, here or in another tab, is a miss and the hash is dropped), and
/// until it is filled every request reads the store.
#[derive(Debug, Default)]
pub struct StoredHashes {
    hashes: RefCell<HashSet<String>>,
    filled: Cell<bool>,
}

/// What the index says about one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Known {
    /// Its hash is listed: the store is read to fetch the reply (and to confirm it).
    Listed,
    /// Not listed: nothing is stored under it.
    Absent,
    /// The index is not filled (not read yet, or the read failed): the store must be asked.
    Unknown,
}

impl StoredHashes {
    /// An index not filled yet.
    pub fn new() -> Rc<Self> {
        Rc::default()
    }

    /// Whether it has been filled from the store.
    pub fn is_filled(&self) -> bool {
        self.filled.get()
    }

    /// Fills it with every hash the store holds; hashes listed before are kept (a write that
    /// raced the read).
    pub fn fill(&self, stored: impl IntoIterator<Item = String>) {
        self.hashes.borrow_mut().extend(stored);
        self.filled.set(true);
    }

    /// Lists `hash`: a reply is stored, or being stored, under it.
    pub fn insert(&self, hash: &str) {
        self.hashes.borrow_mut().insert(hash.to_string());
    }

    /// Drops `hash`: the store did not hold it after all.
    pub fn remove(&self, hash: &str) {
        self.hashes.borrow_mut().remove(hash);
    }

    /// What the index says about `hash`.
    pub fn lookup(&self, hash: &str) -> Known {
        if !self.filled.get() {
            Known::Unknown
        } else if self.hashes.borrow().contains(hash) {
            Known::Listed
        } else {
            Known::Absent
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unfilled_index_knows_nothing_and_keeps_what_was_listed_meanwhile() {
        let index = StoredHashes::new();
        index.insert("a");
        assert_eq!(index.lookup("a"), Known::Unknown);
        index.fill(["b".to_string()]);
        assert_eq!(
            index.lookup("a"),
            Known::Listed,
            "announced during the read"
        );
        assert_eq!(index.lookup("b"), Known::Listed);
        assert_eq!(index.lookup("c"), Known::Absent);
        index.remove("b");
        assert_eq!(index.lookup("b"), Known::Absent);
    }
}
