//! [`StoredHashes`]: which requests have a stored reply, held in memory so that a request with
//! none (every paid call) is answered without reading the store.

use std::cell::{Cell, RefCell};
use std::collections::HashSet;
use std::rc::Rc;

/// A request hash as the index keeps it: the 32 bytes of the SHA-256 its 64 hex digits spell,
/// not the text (a batch lists three per problem, and the text is three times the size).
type Digest = [u8; 32];

/// The index's key for `hash`: its bytes when it is 64 hex digits (every hash the app makes),
/// else `None` (a key another build or a damaged store wrote), kept as text apart.
fn digest_of(hash: &str) -> Option<Digest> {
    let bytes = hash.as_bytes();
    if bytes.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (slot, pair) in out.iter_mut().zip(bytes.chunks_exact(2)) {
        let high = char::from(pair[0]).to_digit(16)?;
        let low = char::from(pair[1]).to_digit(16)?;
        *slot = u8::try_from(high << 4 | low).ok()?;
    }
    // Upper-case digits would name another key in the store: kept as text, as written.
    (hash.bytes().all(|b| !b.is_ascii_uppercase())).then_some(out)
}

/// The hashes of the stored replies, read from the store once and kept up to date by the
/// writes that pass through it (and, in the browser, by what other tabs announce).
///
/// It is a hint, never the answer: a hash it holds is read from the store before it is used
/// (a reply removed meanwhile, here or in another tab, is a miss and the hash is dropped), and
/// until it is filled every request reads the store.
#[derive(Debug, Default)]
pub struct StoredHashes {
    hashes: RefCell<HashSet<Digest>>,
    /// Keys that are not a lower-case SHA-256 in hex (none the app writes).
    other: RefCell<HashSet<String>>,
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
        for hash in stored {
            self.insert(&hash);
        }
        self.filled.set(true);
    }

    /// Lists `hash`: a reply is stored, or being stored, under it.
    pub fn insert(&self, hash: &str) {
        match digest_of(hash) {
            Some(digest) => {
                self.hashes.borrow_mut().insert(digest);
            }
            None => {
                self.other.borrow_mut().insert(hash.to_string());
            }
        }
    }

    /// Drops `hash`: the store did not hold it after all.
    pub fn remove(&self, hash: &str) {
        match digest_of(hash) {
            Some(digest) => self.hashes.borrow_mut().remove(&digest),
            None => self.other.borrow_mut().remove(hash),
        };
    }

    /// Hashes listed.
    pub fn len(&self) -> usize {
        self.hashes.borrow().len() + self.other.borrow().len()
    }

    /// Whether none is listed.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// What the index says about `hash`.
    pub fn lookup(&self, hash: &str) -> Known {
        if !self.filled.get() {
            Known::Unknown
        } else if match digest_of(hash) {
            Some(digest) => self.hashes.borrow().contains(&digest),
            None => self.other.borrow().contains(hash),
        } {
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

    #[test]
    fn sha256_hashes_are_kept_as_bytes_and_match_only_their_own_text() {
        let hash = crate::core::hash::sha256_hex(b"a request");
        assert_eq!(
            digest_of(&hash).map(|d| d.len()),
            Some(32),
            "a SHA-256 in hex is listed as its 32 bytes"
        );
        let index = StoredHashes::new();
        index.fill([hash.clone()]);
        assert_eq!(index.lookup(&hash), Known::Listed);
        // The same bytes spelled in capitals are another key of the store.
        assert_eq!(index.lookup(&hash.to_uppercase()), Known::Absent);
        let mut other = hash.clone();
        other.replace_range(63.., if hash.ends_with('0') { "1" } else { "0" });
        assert_eq!(index.lookup(&other), Known::Absent);
        // Keys that are not such a hash are kept, as text.
        for odd in [
            "short",
            &hash.to_uppercase(),
            &format!("{hash}0"),
            &"zz".repeat(32),
        ] {
            assert_eq!(digest_of(odd), None, "{odd}");
            index.insert(odd);
            assert_eq!(index.lookup(odd), Known::Listed, "{odd}");
            index.remove(odd);
            assert_eq!(index.lookup(odd), Known::Absent, "{odd}");
        }
        assert_eq!(index.len(), 1);
        index.remove(&hash);
        assert!(index.is_empty());
    }
}
