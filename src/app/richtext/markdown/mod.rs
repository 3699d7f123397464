//! Markdown blocks: paragraphs, headings, fenced code, lists, quotes, rules and display math.
//!
//! The subset of CommonMark that model replies use, read line by line. What differs from
//! CommonMark, on purpose:
//! - no raw HTML: `<b>` is text, so nothing a model writes can become markup;
//! - no indented code blocks (indentation in replies is layout, not code) and no setext
//!   headings (`---` under a line is a rule);
//! - no reference links, images or entity references (`&amp;` stays as written);
//! - single line breaks are kept (see [`Inline::LineBreak`]);
//! - lines that open display math (`$$`, `\[`, `\begin{aligned}` …) are a block of their own, so
//!   a formula line starting with `-` or `1.` is not taken for a list.

mod inline;

use super::latex::parse_math;
use super::limits::{Budget, LimitError};
use super::tree::{Block, HeadingLevel};

pub use inline::parse_inline;

/// The blocks of `lines`, `depth` levels into the document.
pub fn parse_blocks(
    lines: &[String],
    depth: usize,
    budget: &mut Budget,
) -> Result<Vec<Block>, LimitError> {
    budget.depth(depth)?;
    let mut reader = Reader {
        lines,
        depth,
        budget,
        blocks: Vec::new(),
        unclosed: Unclosed::default(),
    };
    let mut i = 0;
    while i < lines.len() {
        i = reader.block(i)?;
    }
    Ok(reader.blocks)
}

/// One level of blocks being read: its lines, how deep it is, and the blocks read so far.
struct Reader<'l, 'b> {
    lines: &'l [String],
    depth: usize,
    budget: &'b mut Budget,
    blocks: Vec<Block>,
    unclosed: Unclosed,
}

impl Reader<'_, '_> {
    /// Reads the block at line `i` (or skips a blank line) and returns the line after it.
    fn block(&mut self, i: usize) -> Result<usize, LimitError> {
        let line = self.lines[i].as_str();
        self.budget.work(line.len() + 1)?;
        if is_blank(line) {
            return Ok(i + 1);
        }
        self.budget.node()?;
        if let Some(fence) = fence_open(line) {
            self.code_block(i, fence)
        } else if let Some((level, title)) = heading(line) {
            let content = parse_inline(title, self.depth + 1, self.budget)?;
            self.blocks.push(Block::Heading { level, content });
            Ok(i + 1)
        } else if is_rule(line) {
            self.blocks.push(Block::Rule);
            Ok(i + 1)
        } else if quote_marker(line).is_some() {
            self.quote(i)
        } else if let Some(marker) = list_marker(line) {
            self.list(i, marker)
        } else if let Some((source, next)) = self.display_math(i)? {
            let span = parse_math(&source, true, self.depth + 1, self.budget)?;
            self.blocks.push(Block::Math(span));
            Ok(next)
        } else {
            self.paragraph(i)
        }
    }
}

fn is_blank(line: &str) -> bool {
    line.trim().is_empty()
}

fn indent(line: &str) -> usize {
    line.len() - line.trim_start_matches(' ').len()
}

/// The indentation of `line` and the text after it, when the line is indented little enough
/// to start a block (up to three spaces, as in CommonMark).
fn block_start(line: &str) -> Option<(usize, &str)> {
    let indent = indent(line);
    (indent <= 3).then(|| (indent, &line[indent..]))
}

/// Whether `line` starts a block that ends a paragraph before it.
fn interrupts_paragraph(line: &str) -> bool {
    fence_open(line).is_some()
        || heading(line).is_some()
        || is_rule(line)
        || quote_marker(line).is_some()
        || math_opener(line).is_some()
        || list_marker(line).is_some_and(|m| !m.empty && m.kind.start().is_none_or(|n| n == 1))
}

// ── Code ────────────────────────────────────────────────────────────────────────────────────

struct Fence {
    indent: usize,
    char: u8,
    len: usize,
    info: String,
}

fn fence_open(line: &str) -> Option<Fence> {
    let (indent, rest) = block_start(line)?;
    let char = *rest.as_bytes().first()?;
    if char != b'`' && char != b'~' {
        return None;
    }
    let len = rest.bytes().take_while(|&b| b == char).count();
    let info = rest[len..].trim();
    // A backtick fence's info string cannot hold a backtick (that is inline code).
    if len < 3 || (char == b'`' && info.contains('`')) {
        return None;
    }
    Some(Fence {
        indent,
        char,
        len,
        info: info.to_string(),
    })
}

impl Reader<'_, '_> {
    fn code_block(&mut self, start: usize, fence: Fence) -> Result<usize, LimitError> {
        let lines = self.lines;
        let mut code = String::new();
        let mut i = start + 1;
        while i < lines.len() {
            let line = lines[i].as_str();
            self.budget.work(line.len() + 1)?;
            let trimmed = line.trim();
            if indent(line) <= 3
                && trimmed.len() >= fence.len
                && trimmed.bytes().all(|b| b == fence.char)
            {
                i += 1;
                break;
            }
            if i > start + 1 {
                code.push('\n');
            }
            // The fence's own indentation is taken off its lines.
            code.push_str(&line[indent(line).min(fence.indent)..]);
            i += 1;
        }
        self.blocks.push(Block::CodeBlock {
            info: fence.info,
            code,
        });
        Ok(i)
    }
}

// ── Headings and rules ──────────────────────────────────────────────────────────────────────

fn heading(line: &str) -> Option<(HeadingLevel, &str)> {
    let (_, rest) = block_start(line)?;
    let hashes = rest.bytes().take_while(|&b| b == b'#').count();
    let level = HeadingLevel::of_hashes(hashes)?;
    let title = &rest[hashes..];
    if !title.is_empty() && !title.starts_with([' ', '\t']) {
        return None;
    }
    // A closing run of `#` after a space is not part of the title.
    let title = title.trim();
    let without_closing = title.trim_end_matches('#');
    let title = if without_closing.is_empty() || without_closing.ends_with(' ') {
        without_closing.trim_end()
    } else {
        title
    };
    Some((level, title))
}

fn is_rule(line: &str) -> bool {
    let Some((_, rest)) = block_start(line) else {
        return false;
    };
    let mut marks = rest.bytes().filter(|b| !b.is_ascii_whitespace());
    let Some(first @ (b'-' | b'*' | b'_')) = marks.next() else {
        return false;
    };
    let mut count = 1;
    marks.all(|b| {
        count += 1;
        b == first
    }) && count >= 3
}

// ── Quotes ──────────────────────────────────────────────────────────────────────────────────

/// The text after `>` (and one space), if `line` is a quote line.
fn quote_marker(line: &str) -> Option<&str> {
    let rest = block_start(line)?.1.strip_prefix('>')?;
    Some(rest.strip_prefix(' ').unwrap_or(rest))
}

impl Reader<'_, '_> {
    fn quote(&mut self, start: usize) -> Result<usize, LimitError> {
        let lines = self.lines;
        let mut inner = Vec::new();
        let mut i = start;
        // Whether a line without `>` still belongs to the quote's paragraph (a "lazy" line).
        let mut lazy = false;
        while i < lines.len() {
            let line = lines[i].as_str();
            if i > start {
                self.budget.work(line.len() + 1)?;
            }
            if let Some(rest) = quote_marker(line) {
                lazy = !is_blank(rest) && fence_open(rest).is_none();
                inner.push(rest.to_string());
            } else if lazy && !is_blank(line) && !interrupts_paragraph(line) {
                inner.push(line.to_string());
            } else {
                break;
            }
            i += 1;
        }
        self.blocks.push(Block::Quote(parse_blocks(
            &inner,
            self.depth + 1,
            self.budget,
        )?));
        Ok(i)
    }
}

// ── Lists ───────────────────────────────────────────────────────────────────────────────────

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ListKind {
    /// `-`, `*` or `+`.
    Bullet(u8),
    /// `1.` or `1)`: the delimiter and the first number.
    Ordered(u8, u32),
}

impl ListKind {
    fn start(self) -> Option<u32> {
        match self {
            ListKind::Bullet(_) => None,
            ListKind::Ordered(_, start) => Some(start),
        }
    }

    /// Whether an item of `other` continues a list of `self`.
    fn continues(self, other: ListKind) -> bool {
        match (self, other) {
            (ListKind::Bullet(a), ListKind::Bullet(b)) => a == b,
            (ListKind::Ordered(a, _), ListKind::Ordered(b, _)) => a == b,
            _ => false,
        }
    }
}

struct Marker {
    kind: ListKind,
    /// Where the item's text starts: its continuation lines are indented this far.
    content: usize,
    /// The marker has no text after it.
    empty: bool,
}

fn list_marker(line: &str) -> Option<Marker> {
    let (indent, rest) = block_start(line)?;
    let bytes = rest.as_bytes();
    let (kind, width) = match bytes.first()? {
        b @ (b'-' | b'*' | b'+') => (ListKind::Bullet(*b), 1),
        b'0'..=b'9' => {
            let digits = bytes.iter().take_while(|b| b.is_ascii_digit()).count();
            let delimiter = *bytes.get(digits)?;
            if digits > 9 || !matches!(delimiter, b'.' | b')') {
                return None;
            }
            let start = rest[..digits].parse().ok()?;
            (ListKind::Ordered(delimiter, start), digits + 1)
        }
        _ => return None,
    };
    let after = &rest[width..];
    if !after.is_empty() && !after.starts_with(' ') {
        return None;
    }
    let spaces = after.len() - after.trim_start_matches(' ').len();
    let empty = after.trim().is_empty();
    // One to four spaces after the marker belong to it; more, and the text is indented past
    // one space.
    let gap = if empty || spaces > 4 { 1 } else { spaces };
    Some(Marker {
        kind,
        content: indent + width + gap,
        empty,
    })
}

impl Reader<'_, '_> {
    fn list(&mut self, start: usize, first: Marker) -> Result<usize, LimitError> {
        let lines = self.lines;
        let kind = first.kind;
        let mut items = Vec::new();
        let mut i = start;
        let mut marker = Some(first);
        while let Some(current) = marker.take() {
            let line = lines[i].as_str();
            let mut item = vec![line.get(current.content..).unwrap_or("").to_string()];
            let mut lazy = !current.empty;
            i += 1;
            while i < lines.len() {
                let line = lines[i].as_str();
                self.budget.work(line.len() + 1)?;
                if is_blank(line) {
                    // Blank lines stay in the item only if the item goes on after them.
                    let next = (i..lines.len()).find(|&j| !is_blank(&lines[j]));
                    match next {
                        Some(j) if indent(&lines[j]) >= current.content => {
                            item.extend((i..j).map(|_| String::new()));
                            self.budget.work(j - i)?;
                            i = j;
                            lazy = false;
                        }
                        _ => break,
                    }
                } else if indent(line) >= current.content {
                    item.push(line[current.content..].to_string());
                    lazy = true;
                    i += 1;
                } else if lazy && !interrupts_paragraph(line) && list_marker(line).is_none() {
                    item.push(line.trim_start().to_string());
                    i += 1;
                } else {
                    break;
                }
            }
            items.push(parse_blocks(&item, self.depth + 1, self.budget)?);
            // The next item of the same list may follow after blank lines.
            let next = (i..lines.len()).find(|&j| !is_blank(&lines[j]));
            if let Some(j) = next {
                if let Some(next_marker) = list_marker(&lines[j]) {
                    if kind.continues(next_marker.kind) && !is_rule(&lines[j]) {
                        i = j;
                        marker = Some(next_marker);
                    }
                }
            }
        }
        self.blocks.push(Block::List {
            start: kind.start(),
            items,
        });
        Ok(i)
    }
}

// ── Display math ────────────────────────────────────────────────────────────────────────────

/// How a display formula that starts a line opens, and how it closes.
enum MathOpener<'a> {
    /// `$$` or `\[`: the text after it, and the closing delimiter.
    Delimited(&'a str, &'static str),
    /// `\begin{aligned}` and the other display environments: the whole line, and `\end{…}`.
    Environment(&'a str, String),
}

/// The environments that are a display formula on their own, without `$$`.
const DISPLAY_ENVIRONMENTS: &[&str] = &[
    "aligned",
    "align",
    "align*",
    "equation",
    "equation*",
    "gather",
    "gather*",
    "gathered",
    "multline",
    "multline*",
    "split",
    "cases",
    "matrix",
    "pmatrix",
    "bmatrix",
    "vmatrix",
    "eqnarray",
    "eqnarray*",
];

fn math_opener(line: &str) -> Option<MathOpener<'_>> {
    let (_, rest) = block_start(line)?;
    if let Some(after) = rest.strip_prefix("$$") {
        return Some(MathOpener::Delimited(after, "$$"));
    }
    if let Some(after) = rest.strip_prefix("\\[") {
        return Some(MathOpener::Delimited(after, "\\]"));
    }
    let name = rest.strip_prefix("\\begin{")?.split('}').next()?;
    DISPLAY_ENVIRONMENTS
        .contains(&name)
        .then(|| MathOpener::Environment(rest, format!("\\end{{{name}}}")))
}

/// Closers that a search found missing up to a line: a later search for the same closer from
/// an earlier line finds nothing either, so it need not look (a text of a thousand
/// `\begin{aligned}` lines would otherwise be read a thousand times).
#[derive(Default)]
struct Unclosed(Vec<(String, usize)>);

impl Unclosed {
    fn knows(&self, close: &str, from: usize) -> bool {
        self.0.iter().any(|(c, until)| c == close && from < *until)
    }

    fn remember(&mut self, close: &str, until: usize) {
        match self.0.iter_mut().find(|(c, _)| c == close) {
            Some(entry) => entry.1 = until,
            None => self.0.push((close.to_string(), until)),
        }
    }
}

/// A display formula that starts at line `start`: its LaTeX and the line after it. `None` when
/// the line does not open one, or the formula does not end a line before a blank line (then it
/// is running text, and the inline parser reads any math in it).
impl Reader<'_, '_> {
    fn display_math(&mut self, start: usize) -> Result<Option<(String, usize)>, LimitError> {
        let lines = self.lines;
        let Some(opener) = math_opener(&lines[start]) else {
            return Ok(None);
        };
        let (first, close, keep_delimiters) = match &opener {
            MathOpener::Delimited(after, close) => (*after, *close, false),
            MathOpener::Environment(line, close) => (*line, close.as_str(), true),
        };
        if self.unclosed.knows(close, start) {
            return Ok(None);
        }
        // Where the closer is looked for in the first line: after the opener itself.
        let skip = if keep_delimiters { "\\begin{".len() } else { 0 };
        let mut source = String::new();
        let mut i = start;
        let mut text = first;
        let mut from = skip;
        loop {
            self.budget.work(text.len() + 1)?;
            if let Some(at) = text[from..].find(close).map(|at| at + from) {
                let end = at + close.len();
                if !is_blank(&text[end..]) && !is_sentence_end(&text[end..]) {
                    return Ok(None);
                }
                source.push_str(if keep_delimiters {
                    &text[..end]
                } else {
                    &text[..at]
                });
                let after = text[end..].trim();
                if !after.is_empty() {
                    // "… \]." keeps its full stop with the formula, as a textbook would.
                    source.push_str(&format!("\\text{{{after}}}"));
                }
                break;
            }
            source.push_str(text);
            source.push('\n');
            i += 1;
            match lines.get(i) {
                Some(line) if !is_blank(line) => {
                    text = line.as_str();
                    from = 0;
                }
                _ => {
                    self.unclosed.remember(close, i);
                    return Ok(None);
                }
            }
        }
        if is_blank(&source) {
            return Ok(None);
        }
        Ok(Some((source, i + 1)))
    }
}

/// Punctuation that may follow a display formula on its line (`$$x$$.`).
fn is_sentence_end(text: &str) -> bool {
    matches!(text.trim(), "." | "," | ";" | ":")
}

// ── Paragraphs ──────────────────────────────────────────────────────────────────────────────

impl Reader<'_, '_> {
    fn paragraph(&mut self, start: usize) -> Result<usize, LimitError> {
        let lines = self.lines;
        let mut text = String::new();
        let mut i = start;
        while i < lines.len() {
            let line = lines[i].as_str();
            if is_blank(line) || (i > start && interrupts_paragraph(line)) {
                break;
            }
            if i > start {
                self.budget.work(line.len() + 1)?;
                text.push('\n');
            }
            text.push_str(line.trim());
            i += 1;
        }
        self.blocks.push(Block::Paragraph(parse_inline(
            &text,
            self.depth + 1,
            self.budget,
        )?));
        Ok(i)
    }
}
