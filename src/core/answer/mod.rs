//! Final-answer checking for math problems: find the answer a solution gives, read it and the
//! ground truth as mathematics, and decide whether they are the same answer.
//!
//! - [`extract`] finds the answer in the text (boxes, "The final answer is …", a bare line).
//! - [`lexer`] and [`parse`] read LaTeX or plain text into an [`structure::Answer`]: values
//!   ([`expr::Expr`]) inside tuples, intervals, sets, lists, matrices and relations.
//! - [`compare`] decides equivalence: exact rational arithmetic ([`rational`]) where possible,
//!   otherwise a seeded randomized identity test ([`eval`]), and structural rules around it.
//!
//! Everything is bounded for hostile text: answers longer than [`MAX_ANSWER_BYTES`] are not
//! read, nesting stops at [`MAX_DEPTH`], exponents and factorials too large to compute give no
//! value instead of work, so a check stays cheap enough for the page's main thread.

mod compare;
mod eval;
mod expr;
mod extract;
mod lexer;
mod parse;
mod rational;
mod structure;

pub use extract::SHORT_ANSWER_CHARS;

use extract::{final_answers, Unmarked};
use structure::Answer;

/// Answers longer than this (in bytes) are not read: no real final answer is this long, and
/// the limit keeps hostile model output from costing time.
pub const MAX_ANSWER_BYTES: usize = 2_000;

/// Deepest nesting the parser follows: brackets, groups, signs and exponents each count one
/// level (real answers use a handful).
pub const MAX_DEPTH: usize = 64;

/// Why an answer could not be read as mathematics.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReadError {
    /// Nothing to read.
    #[error("the answer is empty")]
    Empty,
    /// Over [`MAX_ANSWER_BYTES`].
    #[error("the answer is {len} bytes long; only answers up to {max} bytes are compared")]
    TooLong {
        /// Its length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// Over [`MAX_DEPTH`] levels of nesting.
    #[error("the answer nests brackets or operators more than {max} levels deep")]
    TooDeep {
        /// The limit.
        max: usize,
    },
    /// A character or token that does not belong where it is.
    #[error("unexpected `{found}` at byte {at} of the answer")]
    Unexpected {
        /// What was found.
        found: String,
        /// Its byte offset in the answer.
        at: usize,
    },
    /// A bracket, group or environment that is not closed.
    #[error("the answer ends inside {what}")]
    Unclosed {
        /// What is open.
        what: &'static str,
    },
    /// Notation the checker does not compare.
    #[error("{what} is not supported in answers")]
    Unsupported {
        /// What it is.
        what: String,
    },
}

/// The outcome of checking a solution against a ground truth.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnswerCheck {
    /// The answer found in the solution, if any (several boxed answers joined by ", ").
    pub extracted: Option<String>,
    /// Whether it matches the ground truth.
    pub correct: bool,
    /// Set when the answer or the ground truth could not be read as mathematics, and why;
    /// they were then compared as text.
    pub unreadable: Option<ReadError>,
}

/// Extracts the final answer from `solution` and compares it with `ground_truth` (a bare
/// answer, or a text with a `\boxed{}` or "The final answer is …").
pub fn check_solution(solution: &str, ground_truth: &str) -> AnswerCheck {
    let answers = final_answers(solution, Unmarked::ShortLine);
    if answers.is_empty() {
        return AnswerCheck {
            extracted: None,
            correct: false,
            unreadable: None,
        };
    }
    let truths = final_answers(ground_truth, Unmarked::WholeText);
    let (correct, unreadable) = compare_texts(&truths, &answers);
    AnswerCheck {
        extracted: Some(answers.join(", ")),
        correct,
        unreadable,
    }
}

/// The final answer in a solution text: the last group of `\boxed{…}`/`\fbox{…}` (joined by
/// ", " when there are several), unless a later "final answer" statement gives another; else
/// an "answer is"/"answer:" statement; else the text itself when it is one short line. `None`
/// when the solution states no answer.
pub fn extract_answer(solution: &str) -> Option<String> {
    let answers = final_answers(solution, Unmarked::ShortLine);
    (!answers.is_empty()).then(|| answers.join(", "))
}

/// Whether `candidate` (an answer, not a whole solution) is the same answer as `ground_truth`.
pub fn answers_match(ground_truth: &str, candidate: &str) -> bool {
    let truths = final_answers(ground_truth, Unmarked::WholeText);
    let answers = final_answers(candidate, Unmarked::WholeText);
    compare_texts(&truths, &answers).0
}

/// The canonical LaTeX form of an answer, as the checker reads it (`\dfrac12` is
/// `\frac{1}{2}`, `\left( 3, \pi/2 \right)` is `(3,\frac{\pi}{2})`); the text without spaces
/// when it cannot be read. Idempotent.
pub fn normalize_answer(answer: &str) -> String {
    let texts = final_answers(answer, Unmarked::WholeText);
    match read_all(&texts) {
        Ok(parsed) => parsed.to_string(),
        Err(_) => plain(&texts.join(",")),
    }
}

fn read(text: &str) -> Result<Answer, ReadError> {
    if text.len() > MAX_ANSWER_BYTES {
        return Err(ReadError::TooLong {
            len: text.len(),
            max: MAX_ANSWER_BYTES,
        });
    }
    let tokens = lexer::tokenize(text)?;
    parse::parse(&tokens)
}

/// Several answers (a group of boxes) are one list.
fn read_all(texts: &[String]) -> Result<Answer, ReadError> {
    let mut items = Vec::with_capacity(texts.len());
    for text in texts {
        match read(text)? {
            Answer::List(inner) if texts.len() > 1 => items.extend(inner),
            other => items.push(other),
        }
    }
    match items.len() {
        0 => Err(ReadError::Empty),
        1 => Ok(items.pop().unwrap_or(Answer::EmptySet)),
        _ => Ok(Answer::List(items)),
    }
}

fn plain(text: &str) -> String {
    text.chars()
        .filter(|c| !c.is_whitespace() && *c != '$')
        .collect()
}

fn compare_texts(truths: &[String], answers: &[String]) -> (bool, Option<ReadError>) {
    if truths.is_empty() || answers.is_empty() {
        return (false, None);
    }
    match (read_all(truths), read_all(answers)) {
        (Ok(truth), Ok(answer)) => (compare::equivalent(&truth, &answer), None),
        (Err(e), _) | (_, Err(e)) => {
            let (t, a) = (plain(&truths.join(",")), plain(&answers.join(",")));
            let readable_length = t.len() <= MAX_ANSWER_BYTES && a.len() <= MAX_ANSWER_BYTES;
            (readable_length && !t.is_empty() && t == a, Some(e))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalization_is_idempotent_on_typical_answers() {
        for a in [
            r"\left( 3, \frac{\pi}{2} \right)",
            r"5 \text{ cm}",
            r"1,\!000",
            r"x = \dfrac12",
            r"\text{(C)}",
            r"2.50",
            r"\$18.90",
            r"30^\circ",
            r"\begin{pmatrix} 1 & 2 \\ 3 & 4 \end{pmatrix}",
            r"(-\infty, 3] \cup (4, \infty)",
            r"\{1, 2\}",
            r"x \le 5",
            r"2\sin b\cos a",
            r"10111_2",
            r"\text{Evelyn}",
            r"a_{37} = 19",
        ] {
            let once = normalize_answer(a);
            assert_eq!(normalize_answer(&once), once, "{a}");
        }
        assert_eq!(normalize_answer(r"x = \dfrac12"), r"x=\frac{1}{2}");
        assert_eq!(normalize_answer(r"\text{(C)}"), "C");
        assert_eq!(normalize_answer(r"1,\!000"), "1000");
        assert_eq!(normalize_answer(r"5 \text{ cm}"), "5");
    }

    #[test]
    fn unreadable_answers_say_why_and_compare_as_text() {
        let check = check_solution(r"\boxed{[1,2] \cap [2,3]}", r"[1, 2] \cap [2, 3]");
        assert!(check.correct);
        assert_eq!(
            check.unreadable,
            Some(ReadError::Unsupported {
                what: "set intersection and difference".into()
            })
        );
        assert!(!check_solution(r"\boxed{[1,2] \cap [2,3]}", r"[1,2] \cap [2,4]").correct);
    }
}
