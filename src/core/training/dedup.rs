//! Duplicate rows: the same prompt with the same answer(s) is written once.

use std::collections::HashSet;

use sha2::{Digest, Sha256};

/// The SHA-256 digests of the rows written so far (32 bytes per row, not the rows).
#[derive(Debug, Default)]
pub struct Dedup {
    seen: HashSet<[u8; 32]>,
}

impl Dedup {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether a row made of `parts` (the prompt's messages, then the answer or answers) is new;
    /// it is remembered either way. Each part is length-prefixed, so moving text from one part
    /// to the next never makes two rows look alike.
    pub fn is_new<'a>(&mut self, parts: impl IntoIterator<Item = &'a str>) -> bool {
        let mut hasher = Sha256::new();
        for part in parts {
            hasher.update((part.len() as u64).to_le_bytes());
            hasher.update(part.as_bytes());
        }
        self.seen.insert(hasher.finalize().into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_parts_are_a_duplicate_and_shifted_boundaries_are_not() {
        let mut d = Dedup::new();
        assert!(d.is_new(["sys", "user", "answer"]));
        assert!(!d.is_new(["sys", "user", "answer"]));
        assert!(d.is_new(["sysu", "ser", "answer"]));
        assert!(d.is_new(["sys", "user", "other"]));
    }
}
