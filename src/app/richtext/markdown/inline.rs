//! Markdown inside a block: emphasis, code, links, math and line breaks.
//!
//! Emphasis follows CommonMark's delimiter-run rules (its "process emphasis" procedure, with the
//! per-kind lower bounds that keep it linear). Math delimiters follow the conventions models
//! write in: `$…$` as Pandoc reads it (no space inside the dollars, no digit after the closing
//! one, so "$5 and $10" stays text), `$$…$$`, `\(…\)` and `\[…\]`. Every search ahead for a
//! closing delimiter either consumes what it passed or remembers that there is none, so the
//! whole pass is linear in the text.

use std::collections::BTreeMap;

use super::super::latex::parse_math;
use super::super::limits::{Budget, LimitError};
use super::super::tree::{Inline, MathSpan, WebUrl};

/// The inline content of `text`, `depth` levels into the document.
pub fn parse_inline(
    text: &str,
    depth: usize,
    budget: &mut Budget,
) -> Result<Vec<Inline>, LimitError> {
    let mut scanner = Scanner::new(text, depth, budget);
    scanner.scan()?;
    let Scanner {
        mut pieces,
        mut delimiters,
        budget,
        ..
    } = scanner;
    delimiters.process(&mut pieces, None, budget)?;
    build(pieces, depth, budget)
}

/// One piece of the text before emphasis is resolved.
#[derive(Debug)]
enum Piece {
    /// Finished content.
    Node(Inline),
    /// Text.
    Text(String),
    /// A run of `*` or `_`.
    Run(Run),
    /// A `[` that may open a link.
    Bracket,
    /// A `[` that opened a link to this address.
    LinkStart(WebUrl),
    /// The `](…)` that closed a link.
    LinkEnd,
}

/// A run of `*` or `_`, and what emphasis it opens and closes once resolved.
#[derive(Debug)]
struct Run {
    char: char,
    /// Characters not used by emphasis: shown as text.
    left: usize,
    /// Emphasis this run closes, innermost first.
    closes: Vec<Strength>,
    /// Emphasis this run opens, in the order they were matched (innermost first).
    opens: Vec<Strength>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Strength {
    /// One character: emphasis.
    Emphasis,
    /// Two: strong.
    Strong,
}

struct Scanner<'t, 'b> {
    text: &'t str,
    pos: usize,
    depth: usize,
    budget: &'b mut Budget,
    pieces: Vec<Piece>,
    delimiters: Delimiters,
    /// Open `[`: the piece, and the delimiter that was on top when it came.
    brackets: Vec<(usize, Option<usize>)>,
    /// Brackets below this index can no longer open a link (a link was closed above them).
    active_brackets: usize,
    /// The byte offsets of every `$` not escaped by a backslash.
    dollars: Vec<usize>,
    /// The starts of backtick runs, by run length.
    backticks: BTreeMap<usize, Vec<usize>>,
    /// For `$$`, `\)` and `\]`: a search found no closer from this offset on, so later ones
    /// need not look.
    no_closer_after: [Option<usize>; 3],
}

impl<'t, 'b> Scanner<'t, 'b> {
    fn new(text: &'t str, depth: usize, budget: &'b mut Budget) -> Self {
        let bytes = text.as_bytes();
        let mut dollars = Vec::new();
        let mut backticks: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
        let mut backslashes = 0usize;
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'$' if backslashes.is_multiple_of(2) => dollars.push(i),
                b'`' => {
                    let len = bytes[i..].iter().take_while(|&&b| b == b'`').count();
                    backticks.entry(len).or_default().push(i);
                    i += len;
                    backslashes = 0;
                    continue;
                }
                _ => {}
            }
            backslashes = if bytes[i] == b'\\' {
                backslashes + 1
            } else {
                0
            };
            i += 1;
        }
        Scanner {
            text,
            pos: 0,
            depth,
            budget,
            pieces: Vec::new(),
            delimiters: Delimiters::default(),
            brackets: Vec::new(),
            active_brackets: 0,
            dollars,
            backticks,
            no_closer_after: [None; 3],
        }
    }

    fn scan(&mut self) -> Result<(), LimitError> {
        let bytes = self.text.as_bytes();
        self.budget.work(bytes.len())?;
        while self.pos < bytes.len() {
            self.budget.work(1)?;
            let at = self.pos;
            match bytes[at] {
                b'\\' => self.backslash()?,
                b'`' => self.code()?,
                b'$' => self.dollar()?,
                b'*' | b'_' => self.run()?,
                b'[' => {
                    self.pieces.push(Piece::Bracket);
                    self.brackets
                        .push((self.pieces.len() - 1, self.delimiters.top));
                    self.pos += 1;
                }
                b']' => self.close_bracket()?,
                b'<' => self.autolink()?,
                b'\n' => {
                    // No spaces to drop before it: the paragraph's reader trims its lines.
                    self.budget.node()?;
                    self.pieces.push(Piece::Node(Inline::LineBreak));
                    self.pos += 1;
                }
                _ => {
                    let end = bytes[at..]
                        .iter()
                        .position(|b| is_special(*b))
                        .map_or(bytes.len(), |n| at + n);
                    self.text_piece(&self.text[at..end]);
                    self.pos = end;
                }
            }
        }
        Ok(())
    }

    fn text_piece(&mut self, text: &str) {
        match self.pieces.last_mut() {
            Some(Piece::Text(buffer)) => buffer.push_str(text),
            _ => self.pieces.push(Piece::Text(text.to_string())),
        }
    }

    fn math(&mut self, source: &str, display: bool) -> Result<(), LimitError> {
        self.budget.node()?;
        let span: MathSpan = parse_math(source, display, self.depth + 1, self.budget)?;
        self.pieces.push(Piece::Node(Inline::Math(span)));
        Ok(())
    }

    /// The first `closer` after byte `from`, remembering when there is none.
    fn find_closer(
        &mut self,
        closer: &'static str,
        from: usize,
    ) -> Result<Option<usize>, LimitError> {
        let memo = match closer {
            "$$" => 0,
            "\\)" => 1,
            _ => 2,
        };
        if self.no_closer_after[memo].is_some_and(|none| none <= from) {
            return Ok(None);
        }
        match self.text[from..].find(closer) {
            Some(n) => {
                self.budget.work(n)?;
                Ok(Some(from + n))
            }
            None => {
                self.budget.work(self.text.len() - from)?;
                self.no_closer_after[memo] = Some(from);
                Ok(None)
            }
        }
    }

    /// `\(…\)`, `\[…\]`, an escaped character, a line break, or a backslash.
    fn backslash(&mut self) -> Result<(), LimitError> {
        let at = self.pos;
        let next = self.text[at + 1..].chars().next();
        let delimited = match next {
            Some('(') => Some(("\\)", false)),
            Some('[') => Some(("\\]", true)),
            _ => None,
        };
        if let Some((closer, display)) = delimited {
            if let Some(end) = self.find_closer(closer, at + 2)? {
                let source = &self.text[at + 2..end];
                if !source.trim().is_empty() {
                    self.math(source, display)?;
                    self.pos = end + 2;
                    return Ok(());
                }
            }
        }
        match next {
            Some(c) if c.is_ascii_punctuation() => {
                self.text_piece(&self.text[at + 1..at + 2]);
                self.pos = at + 2;
            }
            Some('\n') => {
                self.budget.node()?;
                self.pieces.push(Piece::Node(Inline::LineBreak));
                self.pos = at + 2;
            }
            _ => {
                self.text_piece("\\");
                self.pos = at + 1;
            }
        }
        Ok(())
    }

    /// A code span, or the backticks as text when no run of the same length closes it.
    fn code(&mut self) -> Result<(), LimitError> {
        let at = self.pos;
        let len = self.text.as_bytes()[at..]
            .iter()
            .take_while(|&&b| b == b'`')
            .count();
        let closer = self.backticks.get(&len).and_then(|starts| {
            let i = starts.partition_point(|&s| s < at + len);
            starts.get(i).copied()
        });
        match closer {
            Some(end) => {
                let raw = &self.text[at + len..end];
                self.budget.work(raw.len())?;
                let content = raw.replace('\n', " ");
                // One space on each side is padding, unless the code is all spaces.
                let content = match content.strip_prefix(' ').and_then(|c| c.strip_suffix(' ')) {
                    Some(inner) if !content.trim().is_empty() => inner.to_string(),
                    _ => content,
                };
                self.budget.node()?;
                self.pieces.push(Piece::Node(Inline::Code(content)));
                self.pos = end + len;
            }
            None => {
                self.text_piece(&self.text[at..at + len]);
                self.pos = at + len;
            }
        }
        Ok(())
    }

    /// `$$…$$`, `$…$`, or a dollar sign.
    fn dollar(&mut self) -> Result<(), LimitError> {
        let at = self.pos;
        let bytes = self.text.as_bytes();
        if bytes.get(at + 1) == Some(&b'$') {
            if let Some(end) = self.find_closer("$$", at + 2)? {
                let source = &self.text[at + 2..end];
                if !source.trim().is_empty() {
                    self.math(source, true)?;
                    self.pos = end + 2;
                    return Ok(());
                }
            }
            self.text_piece("$$");
            self.pos = at + 2;
            return Ok(());
        }
        // Pandoc's rule: `$` opens when a non-space follows it; the next `$` closes when a
        // non-space precedes it and no digit follows it.
        let opens = self.text[at + 1..]
            .chars()
            .next()
            .is_some_and(|c| !c.is_whitespace());
        let next = self.dollars.partition_point(|&d| d <= at);
        if let (true, Some(&end)) = (opens, self.dollars.get(next)) {
            let source = &self.text[at + 1..end];
            let closes = source
                .chars()
                .next_back()
                .is_some_and(|c| !c.is_whitespace())
                && !self.text[end + 1..].starts_with(|c: char| c.is_ascii_digit());
            if closes && !source.is_empty() {
                self.budget.work(source.len())?;
                self.math(source, false)?;
                self.pos = end + 1;
                return Ok(());
            }
        }
        self.text_piece("$");
        self.pos = at + 1;
        Ok(())
    }

    /// A run of `*` or `_`: a delimiter if it can open or close emphasis, text otherwise.
    fn run(&mut self) -> Result<(), LimitError> {
        let at = self.pos;
        let char = char::from(self.text.as_bytes()[at]);
        let len = self.text[at..]
            .bytes()
            .take_while(|&b| b == char as u8)
            .count();
        let before = self.text[..at].chars().next_back();
        let after = self.text[at + len..].chars().next();
        let space = |c: Option<char>| c.is_none_or(char::is_whitespace);
        let punct = |c: Option<char>| c.is_some_and(|c| !c.is_alphanumeric() && !c.is_whitespace());
        let left = !space(after) && (!punct(after) || space(before) || punct(before));
        let right = !space(before) && (!punct(before) || space(after) || punct(after));
        let (can_open, can_close) = match char {
            '*' => (left, right),
            _ => (
                left && (!right || punct(before)),
                right && (!left || punct(after)),
            ),
        };
        self.pos = at + len;
        if !can_open && !can_close {
            self.text_piece(&self.text[at..at + len]);
            return Ok(());
        }
        self.pieces.push(Piece::Run(Run {
            char,
            left: len,
            closes: Vec::new(),
            opens: Vec::new(),
        }));
        self.delimiters.push(Delimiter {
            piece: self.pieces.len() - 1,
            char,
            count: len,
            length: len,
            can_open,
            can_close,
            below: None,
            above: None,
        });
        Ok(())
    }

    /// `]`: closes a link when an open `[` and an `http(s)` destination go with it.
    fn close_bracket(&mut self) -> Result<(), LimitError> {
        let at = self.pos;
        self.pos = at + 1;
        let Some((opener, bottom)) = self.brackets.pop() else {
            self.text_piece("]");
            return Ok(());
        };
        let active = self.brackets.len() >= self.active_brackets;
        let target = if active {
            let (target, scanned) = link_target(self.text, at + 1);
            self.budget.work(scanned)?;
            target
        } else {
            None
        };
        let Some((url, end)) = target else {
            // Not a link we draw (no destination, or not a web address): the brackets and
            // what follows them stay text, so `[x](javascript:…)` reads as written.
            self.text_piece("]");
            return Ok(());
        };
        self.delimiters
            .process(&mut self.pieces, bottom, self.budget)?;
        self.pieces[opener] = Piece::LinkStart(url);
        self.pieces.push(Piece::LinkEnd);
        // No link inside a link: every `[` before this one is now text.
        self.active_brackets = self.brackets.len() + 1;
        self.pos = end;
        Ok(())
    }

    /// `<https://…>`, or a `<` as text.
    fn autolink(&mut self) -> Result<(), LimitError> {
        let at = self.pos;
        let rest = &self.text[at + 1..];
        let end = rest
            .bytes()
            .take(2048)
            .position(|b| b == b'>' || b == b'<' || b.is_ascii_whitespace());
        self.budget.work(end.unwrap_or(rest.len().min(2048)))?;
        if let Some(end) = end.filter(|&n| rest.as_bytes()[n] == b'>') {
            if let Some(url) = WebUrl::parse(&rest[..end]) {
                self.budget.node()?;
                let content = vec![Inline::Text(rest[..end].to_string())];
                self.pieces.push(Piece::Node(Inline::Link { content, url }));
                self.pos = at + end + 2;
                return Ok(());
            }
        }
        self.text_piece("<");
        self.pos = at + 1;
        Ok(())
    }
}

fn is_special(b: u8) -> bool {
    matches!(
        b,
        b'\\' | b'`' | b'$' | b'*' | b'_' | b'[' | b']' | b'<' | b'\n'
    )
}

/// The web address of the link destination `(…)` at byte `at`, and the byte after it; and how
/// many bytes were looked at to find out, which the caller counts as work either way.
fn link_target(text: &str, at: usize) -> (Option<(WebUrl, usize)>, usize) {
    const MAX_DESTINATION: usize = 2048;
    const MAX_TITLE: usize = 512;
    let mut i = at;
    let found = (|| {
        if !text.get(at..)?.starts_with('(') {
            return None;
        }
        let skip = |from: usize| {
            let rest = &text[from..];
            from + rest.len() - rest.trim_start_matches([' ', '\t', '\n']).len()
        };
        i = skip(at + 1);
        let destination;
        if text[i..].starts_with('<') {
            let len = text[i + 1..]
                .bytes()
                .take(MAX_DESTINATION)
                .position(|b| b == b'>' || b == b'<' || b == b'\n');
            let Some(len) = len.filter(|&len| text.as_bytes()[i + 1 + len] == b'>') else {
                i += MAX_DESTINATION.min(text.len() - i);
                return None;
            };
            destination = &text[i + 1..i + 1 + len];
            i += len + 2;
        } else {
            let begin = i;
            let mut depth = 0usize;
            let mut ended = false;
            for b in text[begin..].bytes().take(MAX_DESTINATION) {
                match b {
                    // CommonMark's reference parser allows 32 levels of parentheses here;
                    // more is not a destination.
                    b'(' if depth == 32 => return None,
                    b'(' => depth += 1,
                    b')' if depth == 0 => ended = true,
                    b')' => depth -= 1,
                    b if b.is_ascii_whitespace() || b.is_ascii_control() => ended = true,
                    _ => {}
                }
                if ended {
                    break;
                }
                i += 1;
            }
            // The text's end ends a destination too; one longer than the limit is none (and
            // cutting it at the limit could split a character).
            if depth > 0 || !(ended || i == text.len()) {
                return None;
            }
            destination = &text[begin..i];
        }
        i = skip(i);
        // An optional title, which the page does not show.
        if let Some(quote) = text[i..]
            .chars()
            .next()
            .filter(|c| matches!(c, '"' | '\'' | '('))
        {
            let closing = if quote == '(' { ')' } else { quote };
            let Some((len, _)) = text[i + 1..]
                .char_indices()
                .take(MAX_TITLE)
                .find(|&(_, c)| c == closing)
            else {
                i += MAX_TITLE.min(text.len() - i);
                return None;
            };
            i = skip(i + 1 + len + 1);
        }
        if !text[i..].starts_with(')') {
            return None;
        }
        Some((WebUrl::parse(destination)?, i + 1))
    })();
    (found, i.saturating_sub(at) + 1)
}

// ── Emphasis ────────────────────────────────────────────────────────────────────────────────

/// A run on the delimiter stack.
#[derive(Debug)]
struct Delimiter {
    piece: usize,
    char: char,
    /// Characters not yet used.
    count: usize,
    /// The run's length as written (for the rule of three).
    length: usize,
    can_open: bool,
    can_close: bool,
    below: Option<usize>,
    above: Option<usize>,
}

/// CommonMark's delimiter stack, as a linked list so removals cost nothing.
#[derive(Debug, Default)]
struct Delimiters {
    all: Vec<Delimiter>,
    top: Option<usize>,
}

impl Delimiters {
    fn push(&mut self, mut delimiter: Delimiter) {
        let index = self.all.len();
        delimiter.below = self.top;
        if let Some(top) = self.top {
            self.all[top].above = Some(index);
        }
        self.all.push(delimiter);
        self.top = Some(index);
    }

    fn unlink(&mut self, index: usize) {
        let (below, above) = (self.all[index].below, self.all[index].above);
        if let Some(b) = below {
            self.all[b].above = above;
        }
        match above {
            Some(a) => self.all[a].below = below,
            None => self.top = below,
        }
    }

    /// The delimiter just above `bottom` (the lowest, when `bottom` is `None`).
    fn first_above(&self, bottom: Option<usize>) -> Option<usize> {
        match bottom {
            Some(b) => self.all[b].above,
            None => {
                let mut at = self.top?;
                while let Some(below) = self.all[at].below {
                    at = below;
                }
                Some(at)
            }
        }
    }

    /// Matches the runs above `bottom` into emphasis, records it on their pieces, and takes
    /// them off the stack.
    fn process(
        &mut self,
        pieces: &mut [Piece],
        bottom: Option<usize>,
        budget: &mut Budget,
    ) -> Result<(), LimitError> {
        // Where the search for an opener stops, by the closer's character, whether it can
        // open, and its length modulo 3.
        let mut openers_bottom = [[[bottom; 3]; 2]; 2];
        let mut closer = self.first_above(bottom);
        while let Some(c) = closer {
            budget.work(1)?;
            if !self.all[c].can_close {
                closer = self.all[c].above;
                continue;
            }
            let (char, length, can_open) =
                (self.all[c].char, self.all[c].length, self.all[c].can_open);
            let class =
                &mut openers_bottom[usize::from(char == '_')][usize::from(can_open)][length % 3];
            let mut opener = self.all[c].below;
            let mut found = None;
            while let Some(o) = opener {
                if Some(o) == bottom || Some(o) == *class {
                    break;
                }
                budget.work(1)?;
                let candidate = &self.all[o];
                let odd = (can_open || candidate.can_close)
                    && (candidate.length + length).is_multiple_of(3)
                    && !(candidate.length.is_multiple_of(3) && length.is_multiple_of(3));
                if candidate.char == char && candidate.can_open && !odd {
                    found = Some(o);
                    break;
                }
                opener = candidate.below;
            }
            let Some(o) = found else {
                *class = self.all[c].below;
                let above = self.all[c].above;
                if !can_open {
                    self.unlink(c);
                }
                closer = above;
                continue;
            };
            let strength = if self.all[o].count >= 2 && self.all[c].count >= 2 {
                Strength::Strong
            } else {
                Strength::Emphasis
            };
            let used = if strength == Strength::Strong { 2 } else { 1 };
            self.all[o].count -= used;
            self.all[c].count -= used;
            if let Piece::Run(run) = &mut pieces[self.all[o].piece] {
                run.opens.push(strength);
                run.left -= used;
            }
            if let Piece::Run(run) = &mut pieces[self.all[c].piece] {
                run.closes.push(strength);
                run.left -= used;
            }
            // The runs between them can match nothing any more.
            self.all[o].above = Some(c);
            self.all[c].below = Some(o);
            if self.all[o].count == 0 {
                self.unlink(o);
            }
            if self.all[c].count == 0 {
                let above = self.all[c].above;
                self.unlink(c);
                closer = above;
            }
        }
        // Nothing above the bottom can be matched from outside.
        match bottom {
            Some(b) => {
                self.all[b].above = None;
                self.top = Some(b);
            }
            None => self.top = None,
        }
        Ok(())
    }
}

// ── The tree ────────────────────────────────────────────────────────────────────────────────

enum Frame {
    Root,
    Emphasis(Strength),
    Link(WebUrl),
}

/// Nests the resolved pieces into inline nodes.
fn build(pieces: Vec<Piece>, depth: usize, budget: &mut Budget) -> Result<Vec<Inline>, LimitError> {
    let mut stack: Vec<(Frame, Vec<Inline>)> = vec![(Frame::Root, Vec::new())];
    for piece in pieces {
        match piece {
            Piece::Node(node) => push(&mut stack, node),
            Piece::Text(text) => push_text(&mut stack, &text),
            Piece::Bracket => push_text(&mut stack, "["),
            Piece::LinkStart(url) => {
                budget.depth(depth + stack.len())?;
                budget.node()?;
                stack.push((Frame::Link(url), Vec::new()));
            }
            Piece::LinkEnd => close(&mut stack),
            Piece::Run(run) => {
                for _ in &run.closes {
                    close(&mut stack);
                }
                let left: String = std::iter::repeat_n(run.char, run.left).collect();
                push_text(&mut stack, &left);
                // The last match at an opener is the outermost emphasis: it opens first.
                for strength in run.opens.iter().rev() {
                    budget.depth(depth + stack.len())?;
                    budget.node()?;
                    stack.push((Frame::Emphasis(*strength), Vec::new()));
                }
            }
        }
    }
    while stack.len() > 1 {
        close(&mut stack);
    }
    Ok(stack.pop().map(|(_, nodes)| nodes).unwrap_or_default())
}

fn push(stack: &mut [(Frame, Vec<Inline>)], node: Inline) {
    if let Some((_, nodes)) = stack.last_mut() {
        nodes.push(node);
    }
}

fn push_text(stack: &mut [(Frame, Vec<Inline>)], text: &str) {
    if text.is_empty() {
        return;
    }
    if let Some((_, nodes)) = stack.last_mut() {
        match nodes.last_mut() {
            Some(Inline::Text(buffer)) => buffer.push_str(text),
            _ => nodes.push(Inline::Text(text.to_string())),
        }
    }
}

/// Closes the innermost open emphasis or link into its parent.
fn close(stack: &mut Vec<(Frame, Vec<Inline>)>) {
    if stack.len() < 2 {
        return;
    }
    if let Some((frame, nodes)) = stack.pop() {
        let node = match frame {
            Frame::Emphasis(Strength::Emphasis) => Inline::Emphasis(nodes),
            Frame::Emphasis(Strength::Strong) => Inline::Strong(nodes),
            Frame::Link(url) => Inline::Link {
                content: nodes,
                url,
            },
            Frame::Root => return,
        };
        push(stack, node);
    }
}
