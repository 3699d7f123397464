//! How much the renderer reads before it gives up and shows the text as written.
//!
//! Model text comes from outside: a reply can be a megabyte of `$`, ten thousand `{`, or a
//! thousand nested quotes. Every parser here counts its steps, the elements it makes and how
//! deep it is, against one [`Budget`]; going past a limit ends the whole render with a
//! [`LimitError`], and the page shows the raw text with the error as a note. Depth is what keeps
//! the parsers' recursion (and the page's, which follows the tree) off the end of the stack.

/// The limits of one render.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The longest text read, in bytes.
    pub max_bytes: usize,
    /// How deep blocks, brackets and formulas may nest.
    pub max_depth: usize,
    /// How many elements the result may have.
    pub max_nodes: usize,
    /// How many steps the parsers may take, per byte of input: every parser step is linear in
    /// what it reads, so this bounds the time of a render by its length.
    pub work_per_byte: usize,
}

impl Default for Limits {
    /// Room for the longest replies models give (a long chain of reasoning is tens of kilobytes)
    /// and for the deepest formulas people write, with far less depth than the browser's stack
    /// allows.
    fn default() -> Self {
        Limits {
            max_bytes: 256 * 1024,
            max_depth: 40,
            max_nodes: 60_000,
            work_per_byte: 64,
        }
    }
}

/// Why a text is shown as written instead of rendered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LimitError {
    /// Longer than [`Limits::max_bytes`].
    #[error("the text is {bytes} bytes long, and only texts up to {limit} bytes are formatted")]
    TooLong {
        /// The text's length.
        bytes: usize,
        /// The limit.
        limit: usize,
    },
    /// Nested deeper than [`Limits::max_depth`].
    #[error("it nests brackets, lists or quotes more than {limit} levels deep, deeper than the formatter follows")]
    TooDeep {
        /// The limit.
        limit: usize,
    },
    /// Would make more than [`Limits::max_nodes`] elements.
    #[error("formatted, it would need more than {limit} page elements")]
    TooManyNodes {
        /// The limit.
        limit: usize,
    },
    /// Took more than [`Limits::work_per_byte`] steps per byte.
    #[error("formatting it took more than {limit} steps, more than a text of its length should")]
    TooMuchWork {
        /// The number of steps allowed for this text.
        limit: usize,
    },
}

/// What one render has used of its [`Limits`].
#[derive(Debug)]
pub struct Budget {
    limits: Limits,
    max_work: usize,
    work: usize,
    nodes: usize,
}

impl Budget {
    /// The budget of a render of `bytes` bytes.
    pub fn new(limits: Limits, bytes: usize) -> Result<Self, LimitError> {
        if bytes > limits.max_bytes {
            return Err(LimitError::TooLong {
                bytes,
                limit: limits.max_bytes,
            });
        }
        // A fixed allowance on top, so short texts are not held to a per-byte count.
        let max_work = limits
            .work_per_byte
            .saturating_mul(bytes)
            .saturating_add(4096);
        Ok(Budget {
            limits,
            max_work,
            work: 0,
            nodes: 0,
        })
    }

    /// Counts `steps` steps of work.
    pub fn work(&mut self, steps: usize) -> Result<(), LimitError> {
        self.work = self.work.saturating_add(steps);
        if self.work > self.max_work {
            return Err(LimitError::TooMuchWork {
                limit: self.max_work,
            });
        }
        Ok(())
    }

    /// Counts one element of the result.
    pub fn node(&mut self) -> Result<(), LimitError> {
        self.nodes += 1;
        if self.nodes > self.limits.max_nodes {
            return Err(LimitError::TooManyNodes {
                limit: self.limits.max_nodes,
            });
        }
        Ok(())
    }

    /// Checks that nesting `depth` levels deep is allowed.
    pub fn depth(&self, depth: usize) -> Result<(), LimitError> {
        if depth > self.limits.max_depth {
            return Err(LimitError::TooDeep {
                limit: self.limits.max_depth,
            });
        }
        Ok(())
    }

    /// The steps taken so far.
    pub fn steps(&self) -> usize {
        self.work
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_text_over_the_length_limit_has_no_budget() {
        let limits = Limits {
            max_bytes: 10,
            ..Limits::default()
        };
        assert!(Budget::new(limits, 10).is_ok());
        assert_eq!(
            Budget::new(limits, 11).unwrap_err(),
            LimitError::TooLong {
                bytes: 11,
                limit: 10
            }
        );
    }

    #[test]
    fn work_nodes_and_depth_stop_at_their_limits() {
        let limits = Limits {
            max_depth: 2,
            max_nodes: 3,
            work_per_byte: 1,
            ..Limits::default()
        };
        let mut budget = Budget::new(limits, 4).unwrap();
        assert!(budget.depth(2).is_ok());
        assert_eq!(budget.depth(3), Err(LimitError::TooDeep { limit: 2 }));
        for _ in 0..3 {
            budget.node().unwrap();
        }
        assert_eq!(budget.node(), Err(LimitError::TooManyNodes { limit: 3 }));
        budget.work(4100).unwrap();
        assert_eq!(budget.work(1), Err(LimitError::TooMuchWork { limit: 4100 }));
    }
}
