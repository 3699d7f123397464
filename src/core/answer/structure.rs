//! The shape of an answer around its values: tuples, intervals, sets, lists, unions, matrices,
//! relations, ratios and words.

use std::fmt;

use super::expr::Expr;

/// A relation between two sides of a [`Answer::Relation`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RelOp {
    /// `=`.
    Eq,
    /// `\approx`.
    Approx,
    /// `<`.
    Lt,
    /// `\le`.
    Le,
    /// `>`.
    Gt,
    /// `\ge`.
    Ge,
    /// `\ne`.
    Ne,
    /// `\in`.
    In,
}

impl RelOp {
    fn latex(self) -> &'static str {
        match self {
            RelOp::Eq => "=",
            RelOp::Approx => "\\approx ",
            RelOp::Lt => "<",
            RelOp::Le => "\\le ",
            RelOp::Gt => ">",
            RelOp::Ge => "\\ge ",
            RelOp::Ne => "\\ne ",
            RelOp::In => "\\in ",
        }
    }
}

/// A parsed answer.
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    /// One value.
    Expr(Expr),
    /// Items between brackets: a tuple `(a, b)`, an interval `[a, b)`, a vector `⟨a, b⟩`.
    Bracketed {
        /// `(`, `[` or `⟨`.
        open: char,
        /// `)`, `]` or `⟩`.
        close: char,
        /// The items, in order.
        items: Vec<Answer>,
    },
    /// Values in order without brackets: `p = 5, q = 2` read as the values of `(p, q)`.
    Tuple(Vec<Answer>),
    /// `\{a, b\}`: unordered.
    Set(Vec<Answer>),
    /// Answers separated by commas, semicolons, "and" or "or", or given in several boxes:
    /// unordered, like the solutions of an equation.
    List(Vec<Answer>),
    /// `A \cup B`.
    Union(Vec<Answer>),
    /// Rows of entries.
    Matrix(Vec<Vec<Answer>>),
    /// `a = b`, `x \le 5`, `-1 < x < 3`, `x \in [2, 5]`: sides and the relations between them.
    Relation {
        /// The sides, one more than the relations.
        sides: Vec<Answer>,
        /// The relations between consecutive sides.
        ops: Vec<RelOp>,
    },
    /// `a : b`.
    Ratio(Vec<Answer>),
    /// Words (a name, a day, "odd"), lower case, single-spaced, without punctuation.
    Text(String),
    /// `\emptyset`.
    EmptySet,
    /// `\mathbb{R}`.
    Reals,
}

fn join(f: &mut fmt::Formatter<'_>, items: &[Answer], separator: &str) -> fmt::Result {
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            write!(f, "{separator}")?;
        }
        write!(f, "{item}")?;
    }
    Ok(())
}

fn bracket(c: char) -> &'static str {
    match c {
        '(' => "(",
        ')' => ")",
        '[' => "[",
        ']' => "]",
        '⟨' => "\\langle ",
        _ => "\\rangle ",
    }
}

impl fmt::Display for Answer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Answer::Expr(e) => write!(f, "{e}"),
            Answer::Bracketed { open, close, items } => {
                write!(f, "{}", bracket(*open))?;
                join(f, items, ",")?;
                write!(f, "{}", bracket(*close))
            }
            Answer::Tuple(items) | Answer::List(items) => join(f, items, ","),
            Answer::Set(items) => {
                write!(f, "\\{{")?;
                join(f, items, ",")?;
                write!(f, "\\}}")
            }
            Answer::Union(items) => join(f, items, "\\cup "),
            Answer::Matrix(rows) => {
                write!(f, "\\begin{{pmatrix}}")?;
                for (i, row) in rows.iter().enumerate() {
                    if i > 0 {
                        write!(f, "\\\\")?;
                    }
                    join(f, row, "&")?;
                }
                write!(f, "\\end{{pmatrix}}")
            }
            Answer::Relation { sides, ops } => {
                for (i, side) in sides.iter().enumerate() {
                    if i > 0 {
                        write!(f, "{}", ops[i - 1].latex())?;
                    }
                    write!(f, "{side}")?;
                }
                Ok(())
            }
            Answer::Ratio(parts) => join(f, parts, ":"),
            Answer::Text(words) => write!(f, "\\text{{{words}}}"),
            Answer::EmptySet => write!(f, "\\emptyset"),
            Answer::Reals => write!(f, "\\mathbb{{R}}"),
        }
    }
}
