//! LaTeX math to a MathML tree.
//!
//! The subset models write in solutions: fractions, roots, scripts, Greek and operators,
//! `\left … \right`, `\boxed`, fonts, accents, `\text`, and the matrix, `cases` and `aligned`
//! families of environments. A command the parser does not know becomes
//! [`MathNode::Unknown`] (shown as written, the rest still drawn); a formula whose structure is
//! broken (an unclosed brace or environment, `&` outside a table) is kept as written with the
//! reason. Nothing here can produce a link, a style or an attribute from the text: `\href`,
//! `\url`, `\class`, `\htmlId`, `\color` are unknown commands like any other.

mod fonts;
mod symbols;

use fonts::{styled, Font};
use symbols::Symbol;

use super::limits::{Budget, LimitError};
use super::tree::{
    ColumnAlign, DelimiterSize, Math, MathNode, MathSpan, Operator, Space, Table, TableKind,
};

/// Parses the LaTeX `source` of one formula, `depth` levels into the text around it.
///
/// A formula that is not LaTeX the parser reads comes back as [`MathSpan::Failed`]; only a
/// limit of the budget is an error.
pub fn parse_math(
    source: &str,
    display: bool,
    depth: usize,
    budget: &mut Budget,
) -> Result<MathSpan, LimitError> {
    let mut parser = Parser {
        src: source,
        pos: 0,
        depth,
        budget,
        font: None,
    };
    match parser.list(Stop::End) {
        Ok(content) => Ok(MathSpan::Rendered(Math { display, content })),
        Err(Failure::Limit(limit)) => Err(limit),
        Err(Failure::Syntax(error)) => Ok(MathSpan::Failed {
            source: source.to_string(),
            display,
            error,
        }),
    }
}

/// Why a formula could not be read.
#[derive(Debug)]
enum Failure {
    /// A limit of the render was reached: the whole text is shown as written.
    Limit(LimitError),
    /// The formula is not well formed: it is shown as written.
    Syntax(String),
}

impl From<LimitError> for Failure {
    fn from(limit: LimitError) -> Self {
        Failure::Limit(limit)
    }
}

type Parsed<T> = Result<T, Failure>;

fn syntax<T>(message: impl Into<String>) -> Parsed<T> {
    Err(Failure::Syntax(message.into()))
}

/// A token of LaTeX's math mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Token<'s> {
    /// `\name` (letters) or `\c` (one other character), without the backslash.
    Command(&'s str),
    /// `{`.
    Open,
    /// `}`.
    Close,
    /// `^`.
    Sup,
    /// `_`.
    Sub,
    /// `&`.
    Amp,
    /// `'`.
    Prime,
    /// Any other character.
    Char(char),
    /// The end of the formula.
    End,
}

/// What ends a list of atoms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stop {
    /// The end of the formula.
    End,
    /// `}`, consumed.
    Close,
    /// `]` of an optional argument, consumed.
    Bracket,
    /// `\right`, left for the caller.
    Right,
    /// `&`, `\\` or `\end` of a table cell, left for the caller.
    Cell,
}

/// An atom of a list, with how its scripts attach.
struct Item {
    node: MathNode,
    /// Scripts go below and above (`\sum`, `\lim`, `\overbrace`) rather than to the right.
    limits: bool,
}

impl Item {
    fn new(node: MathNode) -> Self {
        Item {
            node,
            limits: false,
        }
    }
}

struct Parser<'s, 'b> {
    src: &'s str,
    pos: usize,
    depth: usize,
    budget: &'b mut Budget,
    /// The math alphabet of the enclosing `\mathbb{…}` and friends.
    font: Option<Font>,
}

impl<'s> Parser<'s, '_> {
    // ── Tokens ──────────────────────────────────────────────────────────────────────────────

    fn peek_char(&self) -> Option<char> {
        self.src[self.pos..].chars().next()
    }

    /// Skips spaces and `%` comments (to the end of the line, as in TeX).
    fn skip_blank(&mut self) -> Parsed<()> {
        let start = self.pos;
        let bytes = self.src.as_bytes();
        while self.pos < bytes.len() {
            match bytes[self.pos] {
                b' ' | b'\t' | b'\n' | b'\r' => self.pos += 1,
                b'%' => {
                    self.pos = self.src[self.pos..]
                        .find('\n')
                        .map_or(self.src.len(), |n| self.pos + n);
                }
                _ => break,
            }
        }
        self.budget.work(self.pos - start)?;
        Ok(())
    }

    fn next(&mut self) -> Parsed<Token<'s>> {
        self.skip_blank()?;
        self.budget.work(1)?;
        let Some(c) = self.peek_char() else {
            return Ok(Token::End);
        };
        self.pos += c.len_utf8();
        Ok(match c {
            '\\' => {
                let rest = &self.src[self.pos..];
                let letters = rest.bytes().take_while(u8::is_ascii_alphabetic).count();
                let len = match letters {
                    0 => rest.chars().next().map_or(0, char::len_utf8),
                    n => n,
                };
                self.budget.work(len)?;
                let name = &rest[..len];
                self.pos += len;
                if len == 0 {
                    // A lone backslash at the very end.
                    return syntax("the formula ends with a lone backslash");
                }
                Token::Command(name)
            }
            '{' => Token::Open,
            '}' => Token::Close,
            '^' => Token::Sup,
            '_' => Token::Sub,
            '&' => Token::Amp,
            '\'' => Token::Prime,
            c => Token::Char(c),
        })
    }

    fn peek(&mut self) -> Parsed<Token<'s>> {
        let at = self.pos;
        let token = self.next();
        self.pos = at;
        token
    }

    /// Counts one element of the result.
    fn made(&mut self, node: MathNode) -> Parsed<MathNode> {
        self.budget.node()?;
        Ok(node)
    }

    /// Runs `f` one level deeper.
    fn nested<T>(&mut self, f: impl FnOnce(&mut Self) -> Parsed<T>) -> Parsed<T> {
        self.depth += 1;
        self.budget.depth(self.depth)?;
        let result = f(self);
        self.depth -= 1;
        result
    }

    // ── Lists and atoms ─────────────────────────────────────────────────────────────────────

    /// Atoms up to `stop`.
    fn list(&mut self, stop: Stop) -> Parsed<Vec<MathNode>> {
        let mut items: Vec<Item> = Vec::new();
        loop {
            let at = self.pos;
            let token = self.next()?;
            match token {
                Token::End if stop == Stop::End => break,
                Token::End => return syntax(unclosed(stop)),
                Token::Close if stop == Stop::Close => break,
                Token::Close => return syntax("a `}` closes a group that was never opened"),
                Token::Char(']') if stop == Stop::Bracket => break,
                Token::Command("right") if stop == Stop::Right => {
                    self.pos = at;
                    break;
                }
                Token::Amp | Token::Command("\\" | "cr" | "end") if stop == Stop::Cell => {
                    self.pos = at;
                    break;
                }
                Token::Amp => {
                    return syntax("`&` is only allowed in a table (aligned, matrix, cases …)")
                }
                Token::Command("\\" | "cr" | "newline") => {
                    // A line break outside a table: running math has no lines to break.
                    self.optional_dimension()?;
                }
                Token::Command("end") => return syntax("`\\end` without a `\\begin`"),
                Token::Command("right") => return syntax("`\\right` without a `\\left`"),
                Token::Command("middle") if stop == Stop::Right => {
                    if let Some(fence) = self.delimiter("\\middle")? {
                        items.push(Item::new(self.fence(fence, Some(true), None)?));
                    }
                }
                Token::Sup | Token::Sub | Token::Prime => self.attach(&mut items, token)?,
                Token::Command("limits") | Token::Command("nolimits") => {
                    if let Some(last) = items.last_mut() {
                        last.limits = token == Token::Command("limits");
                    }
                }
                Token::Command(name @ ("displaystyle" | "textstyle")) => {
                    // Applies to the rest of the group.
                    let content = self.nested(|p| p.list(stop))?;
                    let node = self.made(MathNode::Style {
                        display: name == "displaystyle",
                        content,
                    })?;
                    items.push(Item::new(node));
                    return Ok(items.into_iter().map(|i| i.node).collect());
                }
                _ => {
                    self.pos = at;
                    if let Some(item) = self.atom()? {
                        items.push(item);
                    }
                }
            }
        }
        Ok(items.into_iter().map(|i| i.node).collect())
    }

    /// A script (`^`, `_`) or a prime attached to the last atom.
    fn attach(&mut self, items: &mut Vec<Item>, token: Token<'s>) -> Parsed<()> {
        let last = match items.pop() {
            Some(item) => item,
            // `^2` with nothing before: the script sits on an empty base.
            None => Item::new(self.made(MathNode::Row(Vec::new()))?),
        };
        let (base, mut sub, mut sup, limits, accent) = match last.node {
            MathNode::Scripts { base, sub, sup } if !last.limits => (base, sub, sup, false, false),
            MathNode::Limits {
                base,
                under,
                over,
                accent: false,
            } if last.limits => (base, under, over, true, false),
            node => (Box::new(node), None, None, last.limits, false),
        };
        match token {
            Token::Prime => {
                sup = Some(Box::new(match sup.map(|b| *b) {
                    None => self.made(MathNode::Operator(Operator::plain("′")))?,
                    Some(MathNode::Operator(op)) if op.text == "′" => {
                        MathNode::Operator(Operator::plain("″"))
                    }
                    Some(MathNode::Operator(op)) if op.text == "″" => {
                        MathNode::Operator(Operator::plain("‴"))
                    }
                    Some(_) => return syntax("a prime after a superscript: write `^{\\prime …}`"),
                }));
            }
            Token::Sup => {
                let script = self.argument("^")?;
                sup = Some(Box::new(match sup.map(|b| *b) {
                    None => script,
                    // f'^2: the prime and the power share the superscript.
                    Some(MathNode::Operator(prime)) if is_prime(&prime.text) => {
                        self.made(MathNode::Row(vec![MathNode::Operator(prime), script]))?
                    }
                    Some(_) => return syntax("a double superscript: group it as `^{…}`"),
                }));
            }
            _ => {
                if sub.is_some() {
                    return syntax("a double subscript: group it as `_{…}`");
                }
                sub = Some(Box::new(self.argument("_")?));
            }
        }
        let node = if limits {
            MathNode::Limits {
                base,
                under: sub,
                over: sup,
                accent,
            }
        } else {
            MathNode::Scripts { base, sub, sup }
        };
        let node = self.made(node)?;
        items.push(Item { node, limits });
        Ok(())
    }

    /// The argument of a command or a script: a group or a single token.
    fn argument(&mut self, of: &str) -> Parsed<MathNode> {
        let at = self.pos;
        match self.next()? {
            Token::Open => {
                let content = self.nested(|p| p.list(Stop::Close))?;
                self.row(content)
            }
            Token::Char(c) => self.character(c, false),
            Token::Command(name) => {
                self.pos = at;
                let item = self.nested(|p| p.atom())?;
                match item {
                    Some(item) => Ok(item.node),
                    None => syntax(format!("`{of}` needs an argument, not `\\{name}`")),
                }
            }
            _ => syntax(format!("`{of}` needs an argument")),
        }
    }

    /// `nodes` as one node: itself when there is one, an `<mrow>` otherwise.
    fn row(&mut self, mut nodes: Vec<MathNode>) -> Parsed<MathNode> {
        if nodes.len() == 1 {
            if let Some(node) = nodes.pop() {
                return Ok(node);
            }
        }
        self.made(MathNode::Row(nodes))
    }

    /// One atom; `None` for commands that draw nothing (`\label`, `\hline`).
    fn atom(&mut self) -> Parsed<Option<Item>> {
        match self.next()? {
            Token::Open => {
                let content = self.nested(|p| p.list(Stop::Close))?;
                // `{x^2}^3` is a power of a group: a group with scripts stays a row, so the
                // outer script is not read as a second one of the inner atom.
                let node = match content.as_slice() {
                    [MathNode::Scripts { .. } | MathNode::Limits { .. }] => {
                        self.made(MathNode::Row(content))?
                    }
                    _ => self.row(content)?,
                };
                Ok(Some(Item::new(node)))
            }
            Token::Char(c) => Ok(Some(Item::new(self.character(c, true)?))),
            Token::Command(name) => self.nested(|p| p.command(name)),
            Token::Prime => Ok(Some(Item::new(
                self.made(MathNode::Operator(Operator::plain("′")))?,
            ))),
            token => syntax(format!("unexpected {token:?}")),
        }
    }

    /// A character: a number (with the digits after it when `run`), a letter, or an operator.
    fn character(&mut self, c: char, run: bool) -> Parsed<MathNode> {
        if c.is_ascii_digit()
            || (c == '.' && run && self.peek_char().is_some_and(|n| n.is_ascii_digit()))
        {
            let mut number = String::from(c);
            if run {
                let rest = &self.src[self.pos..];
                let len = rest
                    .char_indices()
                    .take_while(|&(i, ch)| {
                        ch.is_ascii_digit()
                            || (ch == '.'
                                && rest[i + 1..].starts_with(|d: char| d.is_ascii_digit()))
                    })
                    .count();
                number.push_str(&rest[..len]);
                self.pos += len;
                self.budget.work(len)?;
            }
            let number = match self.font {
                Some(font) => number.chars().map(|d| styled(d, font)).collect(),
                None => number,
            };
            return self.made(MathNode::Number(number));
        }
        if c.is_alphabetic() {
            return self.letter(c);
        }
        let node = match c {
            '~' => MathNode::Space(Space::Word),
            '-' => MathNode::Operator(Operator::plain("−")),
            '*' => MathNode::Operator(Operator::plain("∗")),
            '(' | ')' | '[' | ']' | '|' => MathNode::Operator(Operator {
                stretchy: Some(false),
                ..Operator::plain(c)
            }),
            '#' => return syntax("`#` is a macro parameter, which formulas here cannot define"),
            c => MathNode::Operator(Operator::plain(c)),
        };
        self.made(node)
    }

    /// A letter in the current font; under `\mathrm` a run of letters is one upright name.
    fn letter(&mut self, c: char) -> Parsed<MathNode> {
        match self.font {
            Some(Font::Upright) => {
                let mut name = String::from(c);
                let rest = &self.src[self.pos..];
                let len: usize = rest
                    .chars()
                    .take_while(|ch| ch.is_alphabetic())
                    .map(char::len_utf8)
                    .sum();
                name.push_str(&rest[..len]);
                self.pos += len;
                self.budget.work(len)?;
                self.made(MathNode::Ident {
                    text: name,
                    upright: true,
                })
            }
            Some(font) => self.made(MathNode::Ident {
                text: styled(c, font).to_string(),
                upright: false,
            }),
            None => self.made(MathNode::Ident {
                text: c.to_string(),
                upright: false,
            }),
        }
    }

    // ── Commands ────────────────────────────────────────────────────────────────────────────

    fn command(&mut self, name: &'s str) -> Parsed<Option<Item>> {
        if let Some(symbol) = symbols::lookup(name) {
            return self.symbol(symbol).map(Some);
        }
        if let Some(font) = Font::of_command(name) {
            let outer = self.font.replace(font);
            let node = self.argument(name);
            self.font = outer;
            return Ok(Some(Item::new(node?)));
        }
        let node = match name {
            "frac" | "dfrac" | "tfrac" | "cfrac" => {
                let numerator = Box::new(self.argument(name)?);
                let denominator = Box::new(self.argument(name)?);
                MathNode::Fraction {
                    numerator,
                    denominator,
                    bar: true,
                    display: match name {
                        "dfrac" | "cfrac" => Some(true),
                        "tfrac" => Some(false),
                        _ => None,
                    },
                }
            }
            "binom" | "dbinom" | "tbinom" => {
                let numerator = Box::new(self.argument(name)?);
                let denominator = Box::new(self.argument(name)?);
                let fraction = self.made(MathNode::Fraction {
                    numerator,
                    denominator,
                    bar: false,
                    display: match name {
                        "dbinom" => Some(true),
                        "tbinom" => Some(false),
                        _ => None,
                    },
                })?;
                let open = self.made(MathNode::Operator(Operator::plain("(")))?;
                let close = self.made(MathNode::Operator(Operator::plain(")")))?;
                MathNode::Row(vec![open, fraction, close])
            }
            "sqrt" => {
                let index = if self.peek()? == Token::Char('[') {
                    self.next()?;
                    let index = self.list(Stop::Bracket)?;
                    Some(self.row(index)?)
                } else {
                    None
                };
                let base = Box::new(self.argument(name)?);
                match index {
                    Some(index) => MathNode::Root {
                        base,
                        index: Box::new(index),
                    },
                    None => MathNode::Sqrt(base),
                }
            }
            "boxed" => MathNode::Boxed(Box::new(self.argument(name)?)),
            "fbox" | "framebox" => {
                let text = self.text_argument(name)?;
                let text = self.made(MathNode::Text(text))?;
                MathNode::Boxed(Box::new(text))
            }
            "text" | "textrm" | "textnormal" | "textup" | "textit" | "textbf" | "textsf"
            | "texttt" | "textmd" | "mbox" | "hbox" | "emph" => {
                MathNode::Text(self.text_argument(name)?)
            }
            "operatorname" => {
                let limits = self.peek_char() == Some('*');
                if limits {
                    self.pos += 1;
                }
                let text = self.text_argument(name)?;
                let node = self.made(MathNode::Ident {
                    text,
                    upright: true,
                })?;
                return Ok(Some(Item { node, limits }));
            }
            "left" => return self.fenced().map(|node| Some(Item::new(node))),
            "big" | "bigl" | "bigr" | "bigm" => return self.sized(name, DelimiterSize::Big),
            "Big" | "Bigl" | "Bigr" | "Bigm" => return self.sized(name, DelimiterSize::BigBig),
            "bigg" | "biggl" | "biggr" | "biggm" => return self.sized(name, DelimiterSize::Bigg),
            "Bigg" | "Biggl" | "Biggr" | "Biggm" => {
                return self.sized(name, DelimiterSize::BigBigg)
            }
            "begin" => return self.environment().map(|node| Some(Item::new(node))),
            "hat" => self.accent(name, "^", false)?,
            "widehat" => self.accent(name, "^", true)?,
            "check" => self.accent(name, "ˇ", false)?,
            "tilde" => self.accent(name, "~", false)?,
            "widetilde" => self.accent(name, "~", true)?,
            "bar" => self.accent(name, "¯", false)?,
            "overline" => self.accent(name, "‾", true)?,
            "vec" => self.accent(name, "→", false)?,
            "overrightarrow" => self.accent(name, "→", true)?,
            "overleftarrow" => self.accent(name, "←", true)?,
            "dot" => self.accent(name, "˙", false)?,
            "ddot" => self.accent(name, "¨", false)?,
            "acute" => self.accent(name, "´", false)?,
            "grave" => self.accent(name, "`", false)?,
            "breve" => self.accent(name, "˘", false)?,
            "mathring" => self.accent(name, "˚", false)?,
            "underline" => {
                let base = Box::new(self.argument(name)?);
                let line = self.fence("_", Some(true), None)?;
                MathNode::Limits {
                    base,
                    under: Some(Box::new(line)),
                    over: None,
                    accent: false,
                }
            }
            "overbrace" | "underbrace" => {
                let base = Box::new(self.argument(name)?);
                let over = name == "overbrace";
                let brace = Box::new(self.fence(if over { "⏞" } else { "⏟" }, Some(true), None)?);
                let braced = self.made(MathNode::Limits {
                    base,
                    under: (!over).then(|| brace.clone()),
                    over: over.then_some(brace),
                    accent: false,
                })?;
                // Its label (`^{…}` or `_{…}`) goes above or below the brace: a row keeps the
                // label from being taken for a second script of the brace itself.
                let node = self.made(MathNode::Row(vec![braced]))?;
                return Ok(Some(Item { node, limits: true }));
            }
            "overset" | "stackrel" | "underset" => {
                let script = Box::new(self.argument(name)?);
                let base = Box::new(self.argument(name)?);
                let under = name == "underset";
                MathNode::Limits {
                    base,
                    under: under.then(|| script.clone()),
                    over: (!under).then_some(script),
                    accent: false,
                }
            }
            "not" => return self.negation().map(|node| Some(Item::new(node))),
            "pmod" => {
                let argument = self.argument(name)?;
                let space = self.made(MathNode::Space(Space::Quad))?;
                let open = self.made(MathNode::Operator(Operator::plain("(")))?;
                let word = self.made(MathNode::Ident {
                    text: "mod".into(),
                    upright: true,
                })?;
                let gap = self.made(MathNode::Space(Space::Medium))?;
                let close = self.made(MathNode::Operator(Operator::plain(")")))?;
                MathNode::Row(vec![space, open, word, gap, argument, close])
            }
            "bmod" | "mod" => MathNode::Operator(Operator::plain("mod")),
            "tag" | "tag*" => {
                let tag = self.text_argument(name)?;
                let space = self.made(MathNode::Space(Space::QQuad))?;
                let text = self.made(MathNode::Text(format!("({tag})")))?;
                MathNode::Row(vec![space, text])
            }
            "label" => {
                self.text_argument(name)?;
                return Ok(None);
            }
            "nonumber" | "notag" | "hline" | "hdashline" | "limits" | "nolimits"
            | "displaystyle" | "textstyle" => return Ok(None),
            "," | "thinspace" => MathNode::Space(Space::Thin),
            ":" | ">" | "medspace" => MathNode::Space(Space::Medium),
            ";" | "thickspace" => MathNode::Space(Space::Thick),
            "!" | "negthinspace" => MathNode::Space(Space::NegativeThin),
            " " => MathNode::Space(Space::Word),
            "quad" => MathNode::Space(Space::Quad),
            "qquad" => MathNode::Space(Space::QQuad),
            name => MathNode::Unknown(format!("\\{name}")),
        };
        Ok(Some(Item::new(self.made(node)?)))
    }

    fn symbol(&mut self, symbol: Symbol) -> Parsed<Item> {
        let (node, limits) = match symbol {
            Symbol::Letter(text) => {
                let text = match self.font {
                    Some(font) => text.chars().map(|c| styled(c, font)).collect(),
                    None => text.to_string(),
                };
                let upright = self.font == Some(Font::Upright);
                (MathNode::Ident { text, upright }, false)
            }
            Symbol::Upright(text) => {
                let text = match self.font {
                    Some(font) => text.chars().map(|c| styled(c, font)).collect(),
                    None => text.to_string(),
                };
                (
                    MathNode::Ident {
                        text,
                        upright: true,
                    },
                    false,
                )
            }
            Symbol::Operator(text) => (MathNode::Operator(Operator::plain(text)), false),
            Symbol::Fence(text) => (
                MathNode::Operator(Operator {
                    stretchy: Some(false),
                    ..Operator::plain(text)
                }),
                false,
            ),
            Symbol::Large(text, limits) => (MathNode::Operator(Operator::plain(text)), limits),
            Symbol::Function(text, false) => (
                MathNode::Ident {
                    text: text.into(),
                    upright: true,
                },
                false,
            ),
            Symbol::Function(text, true) => (
                MathNode::Operator(Operator {
                    movable_limits: true,
                    ..Operator::plain(text)
                }),
                true,
            ),
        };
        Ok(Item {
            node: self.made(node)?,
            limits,
        })
    }

    fn accent(&mut self, name: &str, mark: &str, stretchy: bool) -> Parsed<MathNode> {
        let base = Box::new(self.argument(name)?);
        let mark = self.fence(mark, Some(stretchy), None)?;
        Ok(MathNode::Limits {
            base,
            under: None,
            over: Some(Box::new(mark)),
            accent: true,
        })
    }

    /// `\not` and the relation after it.
    fn negation(&mut self) -> Parsed<MathNode> {
        let next = match self.atom()? {
            Some(item) => item.node,
            None => return syntax("`\\not` needs a relation after it"),
        };
        let node = match next {
            MathNode::Operator(op) => {
                let text = match symbols::negated(&op.text) {
                    Some(negated) => negated.to_string(),
                    // U+0338 COMBINING LONG SOLIDUS OVERLAY strikes through what has no
                    // negated character of its own.
                    None => format!("{}\u{338}", op.text),
                };
                MathNode::Operator(Operator { text, ..op })
            }
            MathNode::Ident { text, upright } => MathNode::Ident {
                text: format!("{text}\u{338}"),
                upright,
            },
            _ => return syntax("`\\not` needs a relation after it"),
        };
        Ok(node)
    }

    /// An `<mo>` for a bracket or mark.
    fn fence(
        &mut self,
        text: &str,
        stretchy: Option<bool>,
        size: Option<DelimiterSize>,
    ) -> Parsed<MathNode> {
        self.made(MathNode::Operator(Operator {
            stretchy,
            size,
            ..Operator::plain(text)
        }))
    }

    /// The delimiter after `\left`, `\right`, `\middle` or `\big`: `None` for `.` (no
    /// delimiter).
    fn delimiter(&mut self, of: &str) -> Parsed<Option<&'static str>> {
        match self.next()? {
            Token::Char('.') => Ok(None),
            Token::Char(c) => match symbols::fence_char(c) {
                Some(fence) => Ok(Some(fence)),
                None => syntax(format!("`{of}` needs a bracket or bar after it, not `{c}`")),
            },
            Token::Command(name) => match symbols::fence(name) {
                Some(fence) => Ok(Some(fence)),
                None => syntax(format!(
                    "`{of}` needs a bracket or bar after it, not `\\{name}`"
                )),
            },
            _ => syntax(format!("`{of}` needs a bracket or bar after it")),
        }
    }

    /// `\left( … \right)`, after `\left`.
    fn fenced(&mut self) -> Parsed<MathNode> {
        let open = self.delimiter("\\left")?;
        let inner = self.nested(|p| p.list(Stop::Right))?;
        // `list` stopped at `\right`.
        self.next()?;
        let close = self.delimiter("\\right")?;
        self.between(open, inner, close)
    }

    /// `inner` in a row between stretching fences (either may be absent).
    fn between(
        &mut self,
        open: Option<&str>,
        inner: Vec<MathNode>,
        close: Option<&str>,
    ) -> Parsed<MathNode> {
        let mut row = Vec::with_capacity(inner.len() + 2);
        if let Some(open) = open {
            row.push(self.fence(open, Some(true), None)?);
        }
        row.extend(inner);
        if let Some(close) = close {
            row.push(self.fence(close, Some(true), None)?);
        }
        Ok(MathNode::Row(row))
    }

    /// `\big(` and friends.
    fn sized(&mut self, name: &str, size: DelimiterSize) -> Parsed<Option<Item>> {
        let fence = self.delimiter(&format!("\\{name}"))?;
        match fence {
            Some(fence) => {
                let node = self.fence(fence, Some(true), Some(size))?;
                Ok(Some(Item::new(node)))
            }
            None => Ok(None),
        }
    }

    /// An optional `[…]` after `\\` (extra space between lines), skipped.
    fn optional_dimension(&mut self) -> Parsed<()> {
        if self.peek()? == Token::Char('[') {
            let rest = &self.src[self.pos..];
            match rest.find(']') {
                Some(end) if end <= 32 => {
                    self.budget.work(end)?;
                    self.pos += end + 1;
                }
                _ => return syntax("`\\\\[` opens a line spacing that is never closed by `]`"),
            }
        }
        Ok(())
    }

    /// The text of `\text{…}`: braces nest, `\{` `\}` `\$` `\%` `\&` `\#` `\_` are those
    /// characters, spaces collapse, and the commands of text fonts are read through.
    fn text_argument(&mut self, of: &str) -> Parsed<String> {
        self.skip_blank()?;
        if self.peek_char() != Some('{') {
            return match self.next()? {
                Token::Char(c) => Ok(c.to_string()),
                _ => syntax(format!("`\\{of}` needs its text in braces")),
            };
        }
        self.pos += 1;
        let mut text = String::new();
        let mut depth = 0usize;
        let mut chars = self.src[self.pos..].char_indices();
        while let Some((i, c)) = chars.next() {
            self.budget.work(1)?;
            match c {
                '{' => {
                    depth += 1;
                    self.budget.depth(self.depth + depth)?;
                }
                '}' if depth == 0 => {
                    self.pos += i + 1;
                    self.budget.node()?;
                    return Ok(text);
                }
                '}' => depth -= 1,
                '\\' => match chars.next() {
                    Some((_, e @ ('{' | '}' | '$' | '%' | '&' | '#' | '_'))) => text.push(e),
                    Some((_, ' ' | '\\')) => push_space(&mut text),
                    Some((_, e)) if e.is_ascii_alphabetic() => {
                        let start = i + 1;
                        let mut end = start + 1;
                        for (j, n) in chars.clone() {
                            if !n.is_ascii_alphabetic() {
                                break;
                            }
                            end = j + 1;
                            chars.next();
                        }
                        let name = &self.src[self.pos + start..self.pos + end];
                        if !is_text_font(name) {
                            // Other commands inside text are shown as written.
                            text.push('\\');
                            text.push_str(name);
                        }
                    }
                    Some((_, e)) => {
                        text.push('\\');
                        text.push(e);
                    }
                    None => text.push('\\'),
                },
                '~' => text.push('\u{a0}'),
                c if c.is_whitespace() => push_space(&mut text),
                c => text.push(c),
            }
        }
        syntax(format!("`\\{of}{{` is never closed by `}}`"))
    }

    // ── Environments ────────────────────────────────────────────────────────────────────────

    /// The `{name}` after `\begin` or `\end`.
    fn environment_name(&mut self) -> Parsed<&'s str> {
        if self.next()? != Token::Open {
            return syntax("`\\begin` and `\\end` need an environment name in braces");
        }
        let rest = &self.src[self.pos..];
        let len = rest
            .bytes()
            .take_while(|b| b.is_ascii_alphabetic() || *b == b'*')
            .take(24)
            .count();
        let name = &rest[..len];
        self.pos += len;
        if self.next()? != Token::Close {
            return syntax("`\\begin` and `\\end` need an environment name in braces");
        }
        Ok(name)
    }

    /// `\begin{name} … \end{name}`, after `\begin`.
    fn environment(&mut self) -> Parsed<MathNode> {
        let name = self.environment_name()?;
        let (kind, open, close) = match name {
            "matrix" | "smallmatrix" => (TableKind::Matrix, None, None),
            "pmatrix" => (TableKind::Matrix, Some("("), Some(")")),
            "bmatrix" => (TableKind::Matrix, Some("["), Some("]")),
            "Bmatrix" => (TableKind::Matrix, Some("{"), Some("}")),
            "vmatrix" => (TableKind::Matrix, Some("|"), Some("|")),
            "Vmatrix" => (TableKind::Matrix, Some("‖"), Some("‖")),
            "cases" | "dcases" => (TableKind::Cases, Some("{"), None),
            "rcases" => (TableKind::Cases, None, Some("}")),
            "aligned" | "align" | "align*" | "split" | "flalign" | "flalign*" | "eqnarray"
            | "eqnarray*" => (TableKind::Aligned, None, None),
            "alignat" | "alignat*" | "alignedat" => {
                // The number of column pairs: the cells say it already.
                self.text_argument(name)?;
                (TableKind::Aligned, None, None)
            }
            "gathered" | "gather" | "gather*" | "multline" | "multline*" | "equation"
            | "equation*" | "displaymath" => (TableKind::Gathered, None, None),
            "array" => (TableKind::Array(self.array_columns()?), None, None),
            other => return syntax(format!("the environment `{other}` is not supported")),
        };
        let rows = self.nested(|p| p.rows(name))?;
        let table = self.made(MathNode::Table(Table { kind, rows }))?;
        if open.is_none() && close.is_none() {
            return Ok(table);
        }
        self.between(open, vec![table], close)
    }

    /// The column specification of `array`: `l`, `c` and `r`, with `|` rules ignored.
    fn array_columns(&mut self) -> Parsed<Vec<ColumnAlign>> {
        let spec = self.text_argument("begin{array}")?;
        spec.chars()
            .filter(|c| !c.is_whitespace() && *c != '|')
            .map(|c| match c {
                'l' => Ok(ColumnAlign::Left),
                'c' => Ok(ColumnAlign::Center),
                'r' => Ok(ColumnAlign::Right),
                other => syntax(format!(
                    "array columns can be `l`, `c` or `r`; `{other}` is not supported"
                )),
            })
            .collect()
    }

    /// The rows of a table, up to `\end{name}`.
    fn rows(&mut self, name: &str) -> Parsed<Vec<Vec<MathNode>>> {
        let mut rows = Vec::new();
        let mut row = Vec::new();
        loop {
            let cell = self.list(Stop::Cell)?;
            row.push(self.row(cell)?);
            match self.next()? {
                Token::Amp => {}
                Token::Command("\\" | "cr") => {
                    self.optional_dimension()?;
                    rows.push(std::mem::take(&mut row));
                }
                Token::Command("end") => {
                    let end = self.environment_name()?;
                    if end != name {
                        return syntax(format!("`\\end{{{end}}}` closes `\\begin{{{name}}}`"));
                    }
                    // A `\\` before `\end` leaves one empty cell that is no row.
                    let empty =
                        matches!(row.as_slice(), [MathNode::Row(cells)] if cells.is_empty());
                    if !empty || rows.is_empty() {
                        rows.push(row);
                    }
                    return Ok(rows);
                }
                _ => {
                    return syntax(format!(
                        "`\\begin{{{name}}}` is never closed by `\\end{{{name}}}`"
                    ))
                }
            }
        }
    }
}

fn unclosed(stop: Stop) -> &'static str {
    match stop {
        Stop::Close => "a `{` is never closed by `}`",
        Stop::Bracket => "a `[` is never closed by `]`",
        Stop::Right => "a `\\left` is never closed by `\\right`",
        Stop::Cell => "an environment is never closed by `\\end`",
        Stop::End => "the formula ended early",
    }
}

fn is_text_font(name: &str) -> bool {
    matches!(
        name,
        "text"
            | "textrm"
            | "textnormal"
            | "textup"
            | "textit"
            | "textbf"
            | "textsf"
            | "texttt"
            | "textmd"
            | "emph"
            | "mbox"
    )
}

fn is_prime(text: &str) -> bool {
    matches!(text, "′" | "″" | "‴")
}

fn push_space(text: &mut String) {
    if !text.ends_with(' ') {
        text.push(' ');
    }
}
