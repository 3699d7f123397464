//! LaTeX (or plain-text) answers to tokens, normalising on the way what carries no meaning for
//! the value while keeping every piece of structure: sizing (`\left(`), spacing, styles
//! (`\mathbf`), units of measure in `\text{}`, degree and percent signs, `\$`, thousands
//! separators (`1,000`, `1{,}000`, `1,\!000`, `1\,000`, never `32, 349`), Unicode symbols, and
//! command spellings (`\dfrac`, `\tfrac` and `\cfrac` are `\frac`). The row separator `\\` of a
//! matrix stays a token of its own, so no spacing rule can swallow it.

use super::ReadError;

/// How deep `\text{…}`-like groups may nest inside each other.
const MAX_TEXT_NESTING: usize = 16;

/// One token and where it starts in the answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Token {
    /// What it is.
    pub kind: Tok,
    /// Byte offset in the answer.
    pub at: usize,
    /// Whether whitespace (or a spacing command) came before it.
    pub spaced: bool,
}

/// Token kinds.
#[derive(Debug, Clone, PartialEq)]
pub enum Tok {
    /// A numeral: integer digits (thousands separators removed) and the digits after the
    /// decimal point, if it has one.
    Number {
        /// Digits before the point (may be empty: `.5`).
        int: String,
        /// Digits after the point.
        frac: Option<String>,
    },
    /// One ASCII letter.
    Letter(char),
    /// Two or more ASCII letters in a row: a word of text, a unit, a function name, or letters
    /// multiplied together (`xy`).
    Word {
        /// The letters.
        text: String,
        /// Whether it came from `\text{…}` and the like (then it is never a product).
        from_text: bool,
    },
    /// A command by its canonical name (`frac`, `sqrt`, `pi`, `le`, `theta`, …).
    Command(String),
    /// A one-character operator or bracket: `+ - * / ^ _ ( ) [ ] , ; : = < > ! | ' &`.
    Op(char),
    /// `{`.
    Open,
    /// `}`.
    Close,
    /// `\{`.
    SetOpen,
    /// `\}`.
    SetClose,
    /// `\\`.
    RowSep,
    /// `\begin{name}`.
    Begin(String),
    /// `\end{name}`.
    End(String),
}

/// The index of the `}` that closes the `{` at `open` (escaped braces `\{`, `\}` skipped).
pub fn matching_brace(text: &str, open: usize) -> Option<usize> {
    let bytes = text.as_bytes();
    if bytes.get(open) != Some(&b'{') {
        return None;
    }
    let mut depth = 0usize;
    let mut i = open;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 1,
            b'{' => depth += 1,
            b'}' => {
                depth -= 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// Splits an answer into tokens.
pub fn tokenize(answer: &str) -> Result<Vec<Token>, ReadError> {
    let mut lexer = Lexer {
        src: answer,
        tokens: Vec::new(),
        spaced: false,
        waiting: Vec::new(),
        braces: 0,
        brackets: 0,
    };
    lexer.run(0, answer.len(), Mode::Math, 0)?;
    Ok(lexer.tokens)
}

#[derive(Clone, Copy)]
struct Waiting {
    arguments: u8,
    braces: i32,
    brackets: i32,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Math,
    /// Inside `\text{…}`: letters are words, braces are nothing.
    Text,
}

struct Lexer<'a> {
    src: &'a str,
    tokens: Vec<Token>,
    spaced: bool,
    /// Commands still waiting for arguments (`\frac` two, `\sqrt` one), with the brace and
    /// bracket depths they were written at: there a numeral argument is one digit, as TeX
    /// reads `\frac12` and `\sqrt2`.
    waiting: Vec<Waiting>,
    braces: i32,
    /// Open round/square brackets so far: a plain comma between digit groups is a thousands
    /// separator only outside brackets, where `(1,234)` is a pair.
    brackets: i32,
}

/// Commands that only size or space what follows.
const DROPPED: &[&str] = &[
    "left",
    "right",
    "big",
    "Big",
    "bigg",
    "Bigg",
    "bigl",
    "bigr",
    "Bigl",
    "Bigr",
    "biggl",
    "biggr",
    "Biggl",
    "Biggr",
    "middle",
    "displaystyle",
    "textstyle",
    "scriptstyle",
    "scriptscriptstyle",
    "limits",
    "nolimits",
    "quad",
    "qquad",
    "enspace",
    "thinspace",
    "medspace",
    "thickspace",
    "negthinspace",
    "negmedspace",
    "noindent",
    "nonumber",
    "notag",
    "hfill",
    "circ",
    "degree",
    "textdegree",
    "dollar",
    "displaylimits",
    "allowbreak",
    "cr",
];

/// Commands whose `{…}` argument is text: its letters are words.
const TEXT_COMMANDS: &[&str] = &[
    "text",
    "textbf",
    "textit",
    "textrm",
    "textnormal",
    "textsf",
    "texttt",
    "textup",
    "textmd",
    "textsc",
    "mbox",
    "hbox",
    "mathrm",
    "operatorname",
    "emph",
    "textsl",
];

/// Commands whose argument is kept as mathematics, without the styling.
const STYLE_COMMANDS: &[&str] = &[
    "mathbf",
    "mathit",
    "boldsymbol",
    "bm",
    "mathcal",
    "mathscr",
    "mathfrak",
    "mathsf",
    "mathtt",
    "pmb",
    "overline",
    "underline",
    "widehat",
    "hat",
    "bar",
    "vec",
    "tilde",
    "overrightarrow",
    "overleftarrow",
    "widetilde",
    "boxed",
    "fbox",
    "framebox",
    "cancel",
    "mathnormal",
    "bf",
    "it",
    "rm",
    "cal",
];

/// Commands dropped together with their one `{…}` argument.
const DROPPED_WITH_ARGUMENT: &[&str] = &[
    "hspace", "vspace", "phantom", "hphantom", "vphantom", "label", "tag", "color", "pmod",
];

/// Whether a doubled backslash before `name` is an escaped command (`\\le` in an answer that
/// was escaped twice) rather than a line break: in real LaTeX `\\` never precedes a command
/// name written without a space in an answer.
fn is_known_command(name: &str) -> bool {
    name.len() > 1
        && (DROPPED.contains(&name)
            || TEXT_COMMANDS.contains(&name)
            || STYLE_COMMANDS.contains(&name)
            || DROPPED_WITH_ARGUMENT.contains(&name)
            || canonical(name).is_some()
            || super::expr::Function::named(name).is_some()
            || matches!(
                name,
                "sqrt"
                    | "pi"
                    | "pm"
                    | "mp"
                    | "in"
                    | "cup"
                    | "cap"
                    | "infty"
                    | "begin"
                    | "end"
                    | "mathbb"
                    | "langle"
                    | "rangle"
                    | "lfloor"
                    | "rfloor"
                    | "lceil"
                    | "rceil"
            ))
}

/// Canonical spellings: several commands for one thing become one token.
fn canonical(name: &str) -> Option<Tok> {
    let command = |s: &str| Some(Tok::Command(s.to_string()));
    match name {
        "dfrac" | "tfrac" | "cfrac" | "frac" => command("frac"),
        "dbinom" | "tbinom" | "binom" => command("binom"),
        "le" | "leq" | "leqslant" | "leqq" => command("le"),
        "ge" | "geq" | "geqslant" | "geqq" => command("ge"),
        "ne" | "neq" => command("ne"),
        "approx" | "simeq" | "thickapprox" | "approxeq" => command("approx"),
        "lt" => Some(Tok::Op('<')),
        "gt" => Some(Tok::Op('>')),
        "cdot" | "times" | "ast" | "bullet" => Some(Tok::Op('*')),
        "div" => Some(Tok::Op('/')),
        "colon" => Some(Tok::Op(':')),
        "lvert" | "rvert" | "vert" | "lVert" | "rVert" | "Vert" | "mid" => Some(Tok::Op('|')),
        "lbrace" => Some(Tok::SetOpen),
        "rbrace" => Some(Tok::SetClose),
        "lbrack" => Some(Tok::Op('[')),
        "rbrack" => Some(Tok::Op(']')),
        "infin" | "infty" => command("infty"),
        "varnothing" | "emptyset" => command("emptyset"),
        "dots" | "ldots" | "cdots" | "dotsc" | "dotsb" => command("dots"),
        "land" | "wedge" => Some(Tok::Word {
            text: "and".into(),
            from_text: true,
        }),
        "lor" | "vee" => Some(Tok::Word {
            text: "or".into(),
            from_text: true,
        }),
        "varepsilon" => command("epsilon"),
        "vartheta" => command("theta"),
        "varphi" => command("phi"),
        _ => None,
    }
}

/// A Unicode character as the token its LaTeX command gives.
fn unicode(c: char) -> Option<Option<Tok>> {
    let command = |s: &str| Some(Some(Tok::Command(s.to_string())));
    match c {
        '−' | '–' | '—' => Some(Some(Tok::Op('-'))),
        '×' | '·' | '⋅' | '∙' => Some(Some(Tok::Op('*'))),
        '÷' => Some(Some(Tok::Op('/'))),
        '′' => Some(Some(Tok::Op('\''))),
        '≤' | '⩽' => command("le"),
        '≥' | '⩾' => command("ge"),
        '≠' => command("ne"),
        '≈' => command("approx"),
        'π' => command("pi"),
        '∞' => command("infty"),
        '√' => command("sqrt"),
        '∪' => command("cup"),
        '∩' => command("cap"),
        '∈' => command("in"),
        '±' => command("pm"),
        '∓' => command("mp"),
        '∅' => command("emptyset"),
        '⟨' => command("langle"),
        '⟩' => command("rangle"),
        '…' => command("dots"),
        'θ' => command("theta"),
        'α' => command("alpha"),
        'β' => command("beta"),
        'γ' => command("gamma"),
        'λ' => command("lambda"),
        'μ' => command("mu"),
        'φ' => command("phi"),
        'ω' => command("omega"),
        // The degree sign, currency signs and no-break spaces carry no value.
        '°' | '€' | '£' | '¥' | '\u{a0}' | '\u{2009}' | '\u{202f}' => Some(None),
        _ => None,
    }
}

fn is_digit(b: Option<&u8>) -> bool {
    b.is_some_and(u8::is_ascii_digit)
}

impl<'a> Lexer<'a> {
    fn push(&mut self, kind: Tok, at: usize) {
        match kind {
            Tok::Open => self.braces += 1,
            Tok::Close => {
                self.braces -= 1;
                self.argument_done();
            }
            Tok::Op(_) => {}
            _ => self.argument_done(),
        }
        if let Tok::Command(name) = &kind {
            let arguments = match name.as_str() {
                "frac" | "binom" => 2,
                "sqrt" => 1,
                _ => 0,
            };
            if arguments > 0 {
                self.waiting.push(Waiting {
                    arguments,
                    braces: self.braces,
                    brackets: self.brackets,
                });
            }
        }
        self.tokens.push(Token {
            kind,
            at,
            spaced: std::mem::take(&mut self.spaced),
        });
    }

    /// Lexes `src[start..end]`.
    fn run(
        &mut self,
        start: usize,
        end: usize,
        mode: Mode,
        nesting: usize,
    ) -> Result<(), ReadError> {
        if nesting > MAX_TEXT_NESTING {
            return Err(ReadError::TooDeep {
                max: MAX_TEXT_NESTING,
            });
        }
        let bytes = self.src.as_bytes();
        let mut i = start;
        while i < end {
            let b = bytes[i];
            match b {
                b' ' | b'\t' | b'\n' | b'\r' | b'~' | b'$' | b'"' => {
                    self.spaced = true;
                    i += 1;
                }
                b'%' => i += 1,
                b'0'..=b'9' => i = self.number(i, end),
                b'.' if is_digit(bytes.get(i + 1)) && i + 1 < end => i = self.number(i, end),
                b'a'..=b'z' | b'A'..=b'Z' => {
                    let run_end = (i..end)
                        .find(|&j| !bytes[j].is_ascii_alphabetic())
                        .unwrap_or(end);
                    let word = &self.src[i..run_end];
                    if word.len() == 1 {
                        self.push(Tok::Letter(b as char), i);
                    } else {
                        let from_text = mode == Mode::Text;
                        self.push(
                            Tok::Word {
                                text: word.to_string(),
                                from_text,
                            },
                            i,
                        );
                    }
                    i = run_end;
                }
                b'\\' => i = self.command(i, end, mode, nesting)?,
                b'{' if mode == Mode::Text => i += 1,
                b'}' if mode == Mode::Text => i += 1,
                b'{' => {
                    self.push(Tok::Open, i);
                    i += 1;
                }
                b'}' => {
                    self.push(Tok::Close, i);
                    i += 1;
                }
                b'^' if self.degree_sign(i + 1).is_some() => {
                    i = self.degree_sign(i + 1).unwrap_or(i + 1);
                }
                b'<' | b'>' | b'!' if bytes.get(i + 1) == Some(&b'=') => {
                    let name = match b {
                        b'<' => "le",
                        b'>' => "ge",
                        _ => "ne",
                    };
                    self.push(Tok::Command(name.into()), i);
                    i += 2;
                }
                b'(' | b'[' => {
                    self.brackets += 1;
                    self.push(Tok::Op(b as char), i);
                    i += 1;
                }
                b')' | b']' => {
                    self.brackets -= 1;
                    self.push(Tok::Op(b as char), i);
                    i += 1;
                }
                b'+' | b'-' | b'*' | b'/' | b'^' | b'_' | b',' | b';' | b':' | b'=' | b'<'
                | b'>' | b'!' | b'|' | b'\'' | b'&' | b'.' | b'?' => {
                    self.push(Tok::Op(b as char), i);
                    i += 1;
                }
                _ => {
                    let c = self.src[i..].chars().next().unwrap_or(' ');
                    match unicode(c) {
                        Some(Some(Tok::Command(name))) if name == "sqrt" => {
                            self.push(Tok::Command(name), i);
                        }
                        Some(Some(kind)) => self.push(kind, i),
                        Some(None) => self.spaced = true,
                        None if c == '²' || c == '³' => {
                            self.push(Tok::Op('^'), i);
                            let digit = if c == '²' { "2" } else { "3" };
                            self.push(
                                Tok::Number {
                                    int: digit.into(),
                                    frac: None,
                                },
                                i,
                            );
                        }
                        None if c.is_whitespace() => self.spaced = true,
                        None => {
                            return Err(ReadError::Unexpected {
                                found: c.to_string(),
                                at: i,
                            })
                        }
                    }
                    i += c.len_utf8();
                }
            }
        }
        Ok(())
    }

    /// A token at the depth of the innermost waiting command completes one of its arguments:
    /// a single token at that depth, or a `{…}` group closing back to it.
    fn argument_done(&mut self) {
        let Some(top) = self.waiting.last_mut() else {
            return;
        };
        if top.braces != self.braces || top.brackets != self.brackets {
            return;
        }
        top.arguments -= 1;
        if top.arguments == 0 {
            self.waiting.pop();
        }
    }

    /// Whether a numeral here is a one-digit argument of a waiting command.
    fn digit_argument(&self) -> bool {
        self.waiting
            .last()
            .is_some_and(|w| w.braces == self.braces && w.brackets == self.brackets)
    }

    /// After a `^`: the end of a degree sign (`\circ`, `{\circ}`, `\degree`), if there is one.
    fn degree_sign(&self, at: usize) -> Option<usize> {
        let rest = &self.src[at..];
        let trimmed = rest.trim_start();
        let skipped = rest.len() - trimmed.len();
        for sign in ["\\circ", "\\degree"] {
            if let Some(after) = trimmed.strip_prefix(sign) {
                if !after.starts_with(|c: char| c.is_ascii_alphabetic()) {
                    return Some(at + skipped + sign.len());
                }
            }
        }
        if trimmed.starts_with('{') {
            let close = matching_brace(self.src, at + skipped)?;
            let inner = self.src[at + skipped + 1..close].trim();
            if inner == "\\circ" || inner == "\\degree" || inner == "°" {
                return Some(close + 1);
            }
        }
        trimmed
            .strip_prefix('°')
            .map(|_| at + skipped + '°'.len_utf8())
    }

    /// A numeral at `start`, with its thousands separators; returns where it ends.
    fn number(&mut self, start: usize, end: usize) -> usize {
        let bytes = self.src.as_bytes();
        if self.digit_argument() && bytes[start].is_ascii_digit() {
            let digit = self.src[start..start + 1].to_string();
            self.push(
                Tok::Number {
                    int: digit,
                    frac: None,
                },
                start,
            );
            return start + 1;
        }
        let digits_from = |from: usize| {
            (from..end)
                .find(|&j| !bytes[j].is_ascii_digit())
                .unwrap_or(end)
        };
        let mut i = digits_from(start);
        let mut int = self.src[start..i].to_string();
        // Thousands groups: exactly three digits after each separator, and the first group
        // one to three digits not starting with 0.
        let first_group_ok = (1..=3).contains(&int.len()) && !int.starts_with('0');
        if first_group_ok {
            while let Some(group_start) = self.thousands_separator(i, end) {
                let group_end = digits_from(group_start);
                if group_end - group_start != 3 {
                    break;
                }
                int.push_str(&self.src[group_start..group_end]);
                i = group_end;
            }
        }
        let mut frac = None;
        if bytes.get(i) == Some(&b'.') && i + 1 < end && is_digit(bytes.get(i + 1)) {
            let frac_end = digits_from(i + 1);
            frac = Some(self.src[i + 1..frac_end].to_string());
            i = frac_end;
        }
        self.push(Tok::Number { int, frac }, start);
        i
    }

    /// If a thousands separator starts at `at` (followed by a digit), where the next group starts.
    fn thousands_separator(&self, at: usize, end: usize) -> Option<usize> {
        let rest = &self.src[at..end];
        let after = if let Some(r) = rest.strip_prefix(",\\!") {
            r.trim_start_matches(' ')
        } else if let Some(r) = rest.strip_prefix("\\,") {
            r
        } else if let Some(r) = rest.trim_start().strip_prefix('{') {
            // `{,}` with any spaces inside or before it.
            r.trim_start()
                .strip_prefix(',')?
                .trim_start()
                .strip_prefix('}')?
        } else if let Some(r) = rest.strip_prefix(',') {
            if self.brackets > 0 {
                return None;
            }
            r
        } else if let Some(r) = rest.strip_prefix(' ') {
            // `1 000`: a single space between groups of three, outside brackets.
            if self.brackets > 0 || r.len() > 3 && r.as_bytes()[3].is_ascii_digit() {
                return None;
            }
            r
        } else {
            return None;
        };
        after
            .starts_with(|c: char| c.is_ascii_digit())
            .then_some(end - after.len())
    }

    /// A command at `start` (a backslash); returns where it ends.
    fn command(
        &mut self,
        start: usize,
        end: usize,
        mode: Mode,
        nesting: usize,
    ) -> Result<usize, ReadError> {
        let bytes = self.src.as_bytes();
        let Some(&next) = bytes.get(start + 1).filter(|_| start + 1 < end) else {
            return Ok(start + 1);
        };
        if next == b'\\' {
            let name_end = (start + 2..end)
                .find(|&j| !bytes[j].is_ascii_alphabetic())
                .unwrap_or(end);
            let name = &self.src[start + 2..name_end];
            if is_known_command(name) {
                return self.command(start + 1, end, mode, nesting);
            }
            self.push(Tok::RowSep, start);
            return Ok(start + 2);
        }
        if !next.is_ascii_alphabetic() {
            match next {
                b'{' => self.push(Tok::SetOpen, start),
                b'}' => self.push(Tok::SetClose, start),
                b'|' => self.push(Tok::Op('|'), start),
                b'%' | b'$' | b'&' | b'#' | b'!' => {}
                _ => self.spaced = true,
            }
            let width = self.src[start + 1..]
                .chars()
                .next()
                .map_or(1, char::len_utf8);
            return Ok(start + 1 + width);
        }
        let name_end = (start + 1..end)
            .find(|&j| !bytes[j].is_ascii_alphabetic())
            .unwrap_or(end);
        let name = &self.src[start + 1..name_end];
        let mut i = name_end;
        if DROPPED.contains(&name) {
            self.spaced = true;
            // `\left.` and `\right.` are invisible delimiters.
            if matches!(name, "left" | "right") && bytes.get(i) == Some(&b'.') {
                i += 1;
            }
            return Ok(i);
        }
        if DROPPED_WITH_ARGUMENT.contains(&name) {
            return Ok(self.skip_argument(i, end));
        }
        if name == "textcolor" {
            let first = self.skip_argument(i, end);
            return Ok(first);
        }
        if name == "begin" || name == "end" {
            let Some((env, after)) = self.group_text(i, end) else {
                return Ok(i);
            };
            let env = env.trim().trim_end_matches('*').to_string();
            let mut after = after;
            if name == "begin" {
                // A column specification (`{cc}` of array) or an option (`[r]`) is layout.
                let rest = &self.src[after..end];
                let trimmed = rest.trim_start();
                let skipped = rest.len() - trimmed.len();
                if env == "array" && trimmed.starts_with('{') {
                    after = self.skip_argument(after + skipped, end);
                } else if trimmed.starts_with('[') {
                    if let Some(close) = trimmed.find(']') {
                        after += skipped + close + 1;
                    }
                }
                self.push(Tok::Begin(env), start);
            } else {
                self.push(Tok::End(env), start);
            }
            return Ok(after);
        }
        if name == "mathbb" {
            if let Some((inner, after)) = self.group_text(i, end) {
                let set = if inner.trim() == "R" {
                    "reals"
                } else {
                    "mathbb"
                };
                self.push(Tok::Command(set.into()), start);
                return Ok(after);
            }
        }
        let text_like = TEXT_COMMANDS.contains(&name);
        if text_like || STYLE_COMMANDS.contains(&name) {
            let rest = &self.src[i..end];
            let trimmed = rest.trim_start();
            if trimmed.starts_with('{') {
                let open = i + rest.len() - trimmed.len();
                let close = matching_brace(self.src, open).filter(|&c| c < end).ok_or(
                    ReadError::Unclosed {
                        what: "a {…} group",
                    },
                )?;
                let inner_mode = if text_like { Mode::Text } else { mode };
                self.spaced = self.spaced || text_like;
                self.run(open + 1, close, inner_mode, nesting + 1)?;
                self.spaced = self.spaced || text_like;
                return Ok(close + 1);
            }
            // `\bf x`: a declaration without an argument.
            return Ok(i);
        }
        let kind = canonical(name).unwrap_or_else(|| Tok::Command(name.to_string()));
        match &kind {
            Tok::Op('(') | Tok::Op('[') => self.brackets += 1,
            Tok::Op(')') | Tok::Op(']') => self.brackets -= 1,
            _ => {}
        }
        self.push(kind, start);
        // The space that ends a command name is part of the command.
        while i < end && bytes[i] == b' ' {
            i += 1;
        }
        Ok(i)
    }

    /// The text of the `{…}` group at `at` (after spaces) and where the group ends.
    fn group_text(&self, at: usize, end: usize) -> Option<(&'a str, usize)> {
        let rest = &self.src[at..end];
        let trimmed = rest.trim_start();
        let open = at + rest.len() - trimmed.len();
        let close = matching_brace(self.src, open).filter(|&c| c < end)?;
        Some((&self.src[open + 1..close], close + 1))
    }

    /// Skips one argument: a `{…}` group, or one character.
    fn skip_argument(&self, at: usize, end: usize) -> usize {
        match self.group_text(at, end) {
            Some((_, after)) => after,
            None => {
                let rest = &self.src[at..end];
                let trimmed = rest.trim_start();
                let skipped = rest.len() - trimmed.len();
                at + skipped + trimmed.chars().next().map_or(0, char::len_utf8)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(s: &str) -> Vec<Tok> {
        tokenize(s).unwrap().into_iter().map(|t| t.kind).collect()
    }

    fn num(int: &str) -> Tok {
        Tok::Number {
            int: int.into(),
            frac: None,
        }
    }

    #[test]
    fn thousands_separators_join_but_a_comma_and_space_separates() {
        for s in [
            "14{,}916",
            "14 {, }916",
            "14,916",
            "14,\\!916",
            "14,\\! 916",
            "14\\,916",
            "14 916",
        ] {
            assert_eq!(kinds(s), vec![num("14916")], "{s}");
        }
        assert_eq!(kinds("32, 349"), vec![num("32"), Tok::Op(','), num("349")]);
        // Inside brackets a plain comma separates the entries of a pair.
        assert_eq!(
            kinds("(1,234)"),
            vec![
                Tok::Op('('),
                num("1"),
                Tok::Op(','),
                num("234"),
                Tok::Op(')')
            ]
        );
        assert_eq!(kinds("0,111"), vec![num("0"), Tok::Op(','), num("111")]);
        assert_eq!(kinds("1,22"), vec![num("1"), Tok::Op(','), num("22")]);
    }

    #[test]
    fn the_row_separator_survives_spacing_commands() {
        let k = kinds(r"\begin{pmatrix} 1 & 2 \\ 3\ & 4 \end{pmatrix}");
        assert_eq!(k.iter().filter(|t| **t == Tok::RowSep).count(), 1);
        assert_eq!(k.first(), Some(&Tok::Begin("pmatrix".into())));
    }

    #[test]
    fn units_degrees_percent_and_dollars_leave_only_the_number_and_words() {
        assert_eq!(kinds(r"60\degree"), vec![num("60")]);
        assert_eq!(kinds("15°"), vec![num("15")]);
        assert_eq!(kinds(r"30^{\circ}"), vec![num("30")]);
        assert_eq!(
            kinds(r"12.5\%"),
            vec![Tok::Number {
                int: "12".into(),
                frac: Some("5".into())
            }]
        );
        assert_eq!(kinds(r"\$18"), vec![num("18")]);
        assert_eq!(
            kinds(r"125\textnormal{ miles}"),
            vec![
                num("125"),
                Tok::Word {
                    text: "miles".into(),
                    from_text: true
                }
            ]
        );
    }

    #[test]
    fn command_spellings_are_canonical() {
        assert_eq!(kinds(r"\cfrac"), kinds(r"\frac"));
        assert_eq!(kinds(r"\dfrac"), kinds(r"\frac"));
        assert_eq!(kinds(r"\leq"), kinds("<="));
        assert_eq!(kinds("−2"), kinds("-2"));
        assert_eq!(kinds(r"\left( x \right)"), kinds("(x)"));
        assert_eq!(kinds(r"\\le"), kinds(r"\le"));
    }
}
