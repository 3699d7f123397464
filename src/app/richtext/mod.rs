//! Model text as rich text: Markdown with LaTeX math, parsed into a small tree of whitelisted
//! node kinds ([`tree`]) that the page turns into DOM nodes one by one.
//!
//! Pure Rust and no HTML: the parsers emit no markup, only the tree, so nothing a model writes
//! (`<script>`, `<img onerror>`, `javascript:` links, `\href`) can become live content. Limits
//! on length, depth, size and steps ([`Limits`]) bound every render; past one the caller shows
//! the text as written, with the [`LimitError`] as the reason.
//!
//! Written here rather than taken from crates: pulldown-cmark (without default features) and
//! pulldown-latex each add several times this module's size to the page's code, and neither
//! bounds nesting for us; latex2mathml emits an HTML string, not a tree.

mod latex;
pub mod limits;
mod markdown;
pub mod tree;

pub use limits::{LimitError, Limits};
pub use tree::{
    Block, ColumnAlign, DelimiterSize, Document, HeadingLevel, Inline, Math, MathNode, MathSpan,
    Operator, Space, Table, TableKind, WebUrl,
};

use limits::Budget;

/// `text` as rich text, within the default [`Limits`].
pub fn render(text: &str) -> Result<Document, LimitError> {
    render_with(text, Limits::default())
}

/// `text` as rich text, within `limits`.
pub fn render_with(text: &str, limits: Limits) -> Result<Document, LimitError> {
    render_counted(text, limits).0
}

/// `text` as rich text, within `limits`, and the steps the parsers took: what the limit on
/// work counts, shown so tests can check that a render's work grows with its text's length and
/// no faster.
pub fn render_counted(text: &str, limits: Limits) -> (Result<Document, LimitError>, usize) {
    let mut budget = match Budget::new(limits, text.len()) {
        Ok(budget) => budget,
        Err(error) => return (Err(error), 0),
    };
    let result = lines(text, &mut budget)
        .and_then(|lines| markdown::parse_blocks(&lines, 0, &mut budget))
        .map(|blocks| Document { blocks });
    (result, budget.steps())
}

/// The lines of `text`, with tabs in their indentation made spaces to the next multiple of 4.
fn lines(text: &str, budget: &mut Budget) -> Result<Vec<String>, LimitError> {
    budget.work(text.len())?;
    Ok(text
        .lines()
        .map(|line| {
            let body = line.trim_start_matches([' ', '\t']);
            let lead = &line[..line.len() - body.len()];
            if !lead.contains('\t') {
                return line.to_string();
            }
            let mut out = String::with_capacity(line.len() + 8);
            for c in lead.chars() {
                if c == '\t' {
                    let stop = (out.len() / 4 + 1) * 4;
                    while out.len() < stop {
                        out.push(' ');
                    }
                } else {
                    out.push(c);
                }
            }
            out.push_str(body);
            out
        })
        .collect())
}
