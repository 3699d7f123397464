//! Tokens to an [`Answer`]: lists, relations, sets, intervals, matrices and, inside them,
//! arithmetic expressions with implicit multiplication, `\frac`, `\sqrt`, powers, functions,
//! factorials, absolute values, mixed numbers, base-n numerals and units of measure.

use super::expr::{Constant, Expr, Function, Number};
use super::lexer::{Tok, Token};
use super::structure::{Answer, RelOp};
use super::{ReadError, MAX_DEPTH};

/// Greek letters (and the like) that are variable names.
const GREEK: &[&str] = &[
    "alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa",
    "lambda", "mu", "nu", "xi", "rho", "sigma", "tau", "upsilon", "phi", "chi", "psi", "omega",
    "Gamma", "Delta", "Theta", "Lambda", "Xi", "Sigma", "Phi", "Psi", "Omega", "ell",
];

/// Words after a number that scale it rather than name its unit.
const MULTIPLIERS: &[(&str, i128)] = &[
    ("thousand", 1_000),
    ("million", 1_000_000),
    ("billion", 1_000_000_000),
    ("trillion", 1_000_000_000_000),
];

/// Parses the tokens of one answer.
pub fn parse(tokens: &[Token]) -> Result<Answer, ReadError> {
    if tokens.is_empty() {
        return Err(ReadError::Empty);
    }
    if let Some(text) = as_text(tokens) {
        return Ok(Answer::Text(text));
    }
    let mut parser = Parser {
        toks: tokens,
        pos: 0,
        depth: 0,
        bars: 0,
    };
    let answer = parser.list()?;
    match parser.toks.get(parser.pos) {
        None => Ok(answer),
        Some(t) => Err(parser.unexpected(t)),
    }
}

fn is_separator_word(text: &str) -> bool {
    matches!(text.to_ascii_lowercase().as_str(), "and" | "or")
}

/// Words and nothing that makes them mathematics: the answer is text ("Evelyn", "odd").
fn as_text(tokens: &[Token]) -> Option<String> {
    let mut has_word = false;
    let mut words = Vec::new();
    for token in tokens {
        match &token.kind {
            Tok::Word { text, .. } => {
                if Function::named(&text.to_ascii_lowercase()).is_some() || text == "pi" {
                    return None;
                }
                has_word |= !is_separator_word(text);
                words.push(text.to_ascii_lowercase());
            }
            Tok::Letter(c) => words.push(c.to_ascii_lowercase().to_string()),
            Tok::Op('.' | ',' | '(' | ')' | '\'' | '-' | '!' | '?' | ':' | ';') => {}
            _ => return None,
        }
    }
    has_word.then(|| words.join(" "))
}

struct Parser<'t> {
    toks: &'t [Token],
    pos: usize,
    depth: usize,
    /// Open `|…|` bars: inside one, a `|` closes it instead of starting a factor.
    bars: usize,
}

fn relation(tok: &Tok) -> Option<RelOp> {
    Some(match tok {
        Tok::Op('=') => RelOp::Eq,
        Tok::Op('<') => RelOp::Lt,
        Tok::Op('>') => RelOp::Gt,
        Tok::Command(c) => match c.as_str() {
            "le" => RelOp::Le,
            "ge" => RelOp::Ge,
            "ne" => RelOp::Ne,
            "approx" => RelOp::Approx,
            "in" => RelOp::In,
            _ => return None,
        },
        _ => return None,
    })
}

/// How a token changes the bracket depth: `+1` for an opening bracket, group or environment,
/// `-1` for a closing one.
fn depth_change(tok: &Tok) -> i32 {
    match tok {
        Tok::Op('(' | '[') | Tok::Open | Tok::SetOpen | Tok::Begin(_) => 1,
        Tok::Op(')' | ']') | Tok::Close | Tok::SetClose | Tok::End(_) => -1,
        Tok::Command(c) => match c.as_str() {
            "langle" | "lfloor" | "lceil" => 1,
            "rangle" | "rfloor" | "rceil" => -1,
            _ => 0,
        },
        _ => 0,
    }
}

fn opens_bracket(tok: &Tok) -> bool {
    matches!(tok, Tok::Op('(' | '[')) || matches!(tok, Tok::Command(c) if c == "langle")
}

fn integer_literal(e: &Expr) -> bool {
    matches!(e, Expr::Number(n) if n.decimals.is_none() && n.exact.is_some())
}

impl<'t> Parser<'t> {
    fn peek(&self) -> Option<&'t Tok> {
        self.toks.get(self.pos).map(|t| &t.kind)
    }

    fn peek_token(&self) -> Option<&'t Token> {
        self.toks.get(self.pos)
    }

    fn bump(&mut self) -> Option<&'t Tok> {
        let t = self.toks.get(self.pos).map(|t| &t.kind);
        self.pos += 1;
        t
    }

    fn eat(&mut self, tok: &Tok) -> bool {
        if self.peek() == Some(tok) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn eat_command(&mut self, name: &str) -> bool {
        if matches!(self.peek(), Some(Tok::Command(c)) if c == name) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn unexpected(&self, token: &Token) -> ReadError {
        let found = match &token.kind {
            Tok::Number { int, frac } => match frac {
                Some(f) => format!("{int}.{f}"),
                None => int.clone(),
            },
            Tok::Letter(c) | Tok::Op(c) => c.to_string(),
            Tok::Word { text, .. } => text.clone(),
            Tok::Command(c) => format!("\\{c}"),
            Tok::Open => "{".into(),
            Tok::Close => "}".into(),
            Tok::SetOpen => "\\{".into(),
            Tok::SetClose => "\\}".into(),
            Tok::RowSep => "\\\\".into(),
            Tok::Begin(e) => format!("\\begin{{{e}}}"),
            Tok::End(e) => format!("\\end{{{e}}}"),
        };
        ReadError::Unexpected {
            found,
            at: token.at,
        }
    }

    fn error_here(&self) -> ReadError {
        match self.peek_token() {
            Some(t) => self.unexpected(t),
            None => ReadError::Unclosed {
                what: "an expression",
            },
        }
    }

    /// Runs `parse` one nesting level deeper; past [`MAX_DEPTH`] levels, the answer is refused
    /// instead of recursing on.
    fn nested<T>(
        &mut self,
        parse: impl FnOnce(&mut Self) -> Result<T, ReadError>,
    ) -> Result<T, ReadError> {
        if self.depth >= MAX_DEPTH {
            return Err(ReadError::TooDeep { max: MAX_DEPTH });
        }
        self.depth += 1;
        let result = parse(self);
        self.depth -= 1;
        result
    }

    fn at_list_end(&self) -> bool {
        match self.peek() {
            None => true,
            Some(t) => depth_change(t) < 0 || matches!(t, Tok::Op(';' | '&') | Tok::RowSep),
        }
    }

    // ---- lists: `;` groups `and`/`or` lists, which group `,` lists ----

    fn list(&mut self) -> Result<Answer, ReadError> {
        let mut items = vec![self.list_words()?];
        while self.eat(&Tok::Op(';')) {
            if self.at_list_end() {
                break;
            }
            items.push(self.list_words()?);
        }
        Ok(one_or_list(items, false))
    }

    fn list_words(&mut self) -> Result<Answer, ReadError> {
        let mut items = vec![self.list_commas()?];
        while matches!(self.peek(), Some(Tok::Word { text, .. }) if is_separator_word(text)) {
            self.pos += 1;
            items.push(self.list_commas()?);
        }
        Ok(one_or_list(items, true))
    }

    fn list_commas(&mut self) -> Result<Answer, ReadError> {
        let mut items = vec![self.item()?];
        while self.eat(&Tok::Op(',')) {
            // "19, 46, and 82": the word after the comma is part of the separator.
            if matches!(self.peek(), Some(Tok::Word { text, .. }) if is_separator_word(text)) {
                self.pos += 1;
            }
            if self.at_list_end() {
                break;
            }
            items.push(self.item()?);
        }
        Ok(one_or_list(items, false))
    }

    // ---- one item: a chain of relations between sides ----

    fn item(&mut self) -> Result<Answer, ReadError> {
        let first = self.side()?;
        let mut sides = vec![first];
        let mut ops = Vec::new();
        while let Some(op) = self.peek().and_then(relation) {
            self.pos += 1;
            ops.push(op);
            sides.push(self.side()?);
        }
        Ok(if ops.is_empty() {
            sides.pop().unwrap_or(Answer::EmptySet)
        } else {
            Answer::Relation { sides, ops }
        })
    }

    fn side(&mut self) -> Result<Answer, ReadError> {
        let mut parts = vec![self.set_expr()?];
        while self.eat(&Tok::Op(':')) {
            parts.push(self.set_expr()?);
        }
        Ok(if parts.len() == 1 {
            parts.pop().unwrap_or(Answer::EmptySet)
        } else {
            Answer::Ratio(parts)
        })
    }

    fn set_expr(&mut self) -> Result<Answer, ReadError> {
        let mut parts = vec![self.set_atom()?];
        while self.eat_command("cup") {
            parts.push(self.set_atom()?);
        }
        if matches!(self.peek(), Some(Tok::Command(c)) if c == "cap" || c == "setminus") {
            return Err(ReadError::Unsupported {
                what: "set intersection and difference".into(),
            });
        }
        Ok(if parts.len() == 1 {
            parts.pop().unwrap_or(Answer::EmptySet)
        } else {
            Answer::Union(parts)
        })
    }

    /// Where the bracket group opening at the current token closes, and whether it holds a
    /// separator (`,` or `;`) at its top level.
    fn scan_group(&self) -> Option<(usize, bool)> {
        let mut depth = 0usize;
        let mut separated = false;
        for (i, token) in self.toks.iter().enumerate().skip(self.pos) {
            let change = depth_change(&token.kind);
            if change > 0 {
                depth += 1;
            } else if change < 0 {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return Some((i, separated));
                }
            } else if depth == 1 && matches!(token.kind, Tok::Op(',' | ';')) {
                separated = true;
            }
        }
        None
    }

    fn set_atom(&mut self) -> Result<Answer, ReadError> {
        self.nested(Self::set_atom_inner)
    }

    fn set_atom_inner(&mut self) -> Result<Answer, ReadError> {
        match self.peek() {
            Some(Tok::Begin(_)) => self.matrix(),
            Some(Tok::Command(c)) if c == "emptyset" => {
                self.pos += 1;
                Ok(Answer::EmptySet)
            }
            Some(Tok::Command(c)) if c == "reals" => {
                self.pos += 1;
                Ok(Answer::Reals)
            }
            Some(Tok::SetOpen) => {
                self.pos += 1;
                if self.eat(&Tok::SetClose) {
                    return Ok(Answer::EmptySet);
                }
                let items = self.items_until(|t| matches!(t, Tok::SetClose))?;
                Ok(Answer::Set(items))
            }
            Some(Tok::Open) if self.scan_group().is_some_and(|(_, sep)| sep) => {
                self.pos += 1;
                let items = self.items_until(|t| matches!(t, Tok::Close))?;
                Ok(Answer::Set(items))
            }
            Some(t) if opens_bracket(t) => self.bracketed(),
            _ => Ok(Answer::Expr(self.expr()?)),
        }
    }

    /// `(a, b)`, `[a, b)`, `\langle a, b \rangle`, a matrix in brackets, or an expression that
    /// starts with a bracket.
    fn bracketed(&mut self) -> Result<Answer, ReadError> {
        let open = match self.peek() {
            Some(Tok::Op(c)) => *c,
            _ => '⟨',
        };
        // `\left[\begin{array}…\end{array}\right]`: brackets around a matrix.
        if matches!(
            self.toks.get(self.pos + 1).map(|t| &t.kind),
            Some(Tok::Begin(_))
        ) {
            self.pos += 1;
            let matrix = self.matrix()?;
            if !matches!(self.bump(), Some(Tok::Op(')' | ']'))) {
                return Err(ReadError::Unclosed { what: "a bracket" });
            }
            return Ok(matrix);
        }
        if !self.scan_group().is_some_and(|(_, separated)| separated) {
            return Ok(Answer::Expr(self.expr()?));
        }
        self.pos += 1;
        let items = self.items_until(|t| {
            matches!(t, Tok::Op(')' | ']')) || matches!(t, Tok::Command(c) if c == "rangle")
        })?;
        let close = match &self.toks[self.pos - 1].kind {
            Tok::Op(c) => *c,
            _ => '⟩',
        };
        Ok(Answer::Bracketed { open, close, items })
    }

    /// Items separated by `,` or `;` up to a closing token (consumed).
    fn items_until(&mut self, is_close: impl Fn(&Tok) -> bool) -> Result<Vec<Answer>, ReadError> {
        let mut items = Vec::new();
        loop {
            items.push(self.item()?);
            match self.bump() {
                Some(Tok::Op(',' | ';')) => continue,
                Some(t) if is_close(t) => return Ok(items),
                _ => return Err(ReadError::Unclosed { what: "a bracket" }),
            }
        }
    }

    fn matrix(&mut self) -> Result<Answer, ReadError> {
        let Some(Tok::Begin(env)) = self.bump() else {
            return Err(self.error_here());
        };
        if !matches!(
            env.as_str(),
            "pmatrix" | "bmatrix" | "Bmatrix" | "matrix" | "smallmatrix" | "array"
        ) {
            return Err(ReadError::Unsupported {
                what: format!("the {env} environment"),
            });
        }
        let mut rows = Vec::new();
        let mut row = Vec::new();
        loop {
            match self.peek() {
                Some(Tok::End(_)) => {
                    self.pos += 1;
                    break;
                }
                Some(Tok::RowSep) => {
                    self.pos += 1;
                    rows.push(std::mem::take(&mut row));
                }
                Some(Tok::Op('&')) => {
                    self.pos += 1;
                }
                None => return Err(ReadError::Unclosed { what: "a matrix" }),
                _ => row.push(self.item()?),
            }
        }
        if !row.is_empty() {
            rows.push(row);
        }
        rows.retain(|r| !r.is_empty());
        Ok(Answer::Matrix(rows))
    }

    // ---- arithmetic ----

    fn expr(&mut self) -> Result<Expr, ReadError> {
        self.sum()
    }

    fn sum(&mut self) -> Result<Expr, ReadError> {
        let mut terms = vec![self.term()?];
        loop {
            if self.eat(&Tok::Op('+')) {
                terms.push(self.term()?);
            } else if self.eat(&Tok::Op('-')) {
                terms.push(Expr::Neg(Box::new(self.term()?)));
            } else if self.eat_command("pm") || self.eat_command("mp") {
                let left = sum_of(std::mem::take(&mut terms));
                let right = self.term()?;
                terms.push(Expr::PlusMinus(Some(Box::new(left)), Box::new(right)));
            } else {
                return Ok(sum_of(terms));
            }
        }
    }

    fn term(&mut self) -> Result<Expr, ReadError> {
        let mut factors = vec![self.unary()?];
        loop {
            if self.eat(&Tok::Op('*')) {
                factors.push(self.unary()?);
            } else if self.eat(&Tok::Op('/')) {
                let numerator = factors.pop().unwrap_or_else(|| Expr::integer(1));
                let denominator = self.unary()?;
                factors.push(Expr::Quotient(Box::new(numerator), Box::new(denominator)));
            } else if self.skip_unit(&mut factors) {
                continue;
            } else if self.starts_factor() {
                let next = self.power()?;
                let last = factors.pop().unwrap_or_else(|| Expr::integer(1));
                let alone = factors.is_empty();
                factors.push(mixed_number(last, next, alone));
            } else {
                break;
            }
        }
        Ok(if factors.len() == 1 {
            factors.pop().unwrap_or_else(|| Expr::integer(1))
        } else {
            Expr::Product(factors)
        })
    }

    /// Words after a value that name its unit (`5 \text{ cm}^2`, `12 square units`) are
    /// dropped; scaling words (`5 million`) multiply.
    fn skip_unit(&mut self, factors: &mut Vec<Expr>) -> bool {
        let Some(token) = self.peek_token() else {
            return false;
        };
        let Tok::Word { text, from_text } = &token.kind else {
            return false;
        };
        let lower = text.to_ascii_lowercase();
        if is_separator_word(&lower) || Function::named(&lower).is_some() || lower == "pi" {
            return false;
        }
        if !(*from_text || token.spaced) {
            return false;
        }
        self.pos += 1;
        if let Some((_, scale)) = MULTIPLIERS.iter().find(|(w, _)| *w == lower) {
            factors.push(Expr::integer(*scale));
            return true;
        }
        // A unit's power: `cm^2`, `\text{ m}^{3}`.
        if self.peek() == Some(&Tok::Op('^')) {
            let after = self.toks.get(self.pos + 1).map(|t| &t.kind);
            let after_brace = self.toks.get(self.pos + 2).map(|t| &t.kind);
            if matches!(after, Some(Tok::Number { .. })) {
                self.pos += 2;
            } else if after == Some(&Tok::Open)
                && matches!(after_brace, Some(Tok::Number { .. }))
                && self.toks.get(self.pos + 3).map(|t| &t.kind) == Some(&Tok::Close)
            {
                self.pos += 4;
            }
        }
        true
    }

    fn starts_factor(&self) -> bool {
        match self.peek() {
            Some(Tok::Number { .. } | Tok::Letter(_) | Tok::Open | Tok::Op('(')) => true,
            Some(Tok::Op('|')) => self.bars == 0,
            Some(Tok::Word { text, .. }) => !is_separator_word(text),
            Some(Tok::Command(c)) => {
                relation(&Tok::Command(c.clone())).is_none()
                    && !matches!(
                        c.as_str(),
                        "pm" | "mp"
                            | "cup"
                            | "cap"
                            | "setminus"
                            | "rangle"
                            | "rfloor"
                            | "rceil"
                            | "emptyset"
                            | "reals"
                            | "dots"
                            | "langle"
                    )
            }
            _ => false,
        }
    }

    fn unary(&mut self) -> Result<Expr, ReadError> {
        let sign = if self.eat(&Tok::Op('-')) {
            Some(true)
        } else if self.eat(&Tok::Op('+')) {
            Some(false)
        } else if self.eat_command("pm") || self.eat_command("mp") {
            None
        } else {
            return self.power();
        };
        // Each sign is a level: `------1` nests like brackets do.
        let inner = self.nested(Self::unary)?;
        Ok(match sign {
            Some(true) => Expr::Neg(Box::new(inner)),
            Some(false) => inner,
            None => Expr::PlusMinus(None, Box::new(inner)),
        })
    }

    fn power(&mut self) -> Result<Expr, ReadError> {
        let base = self.postfix()?;
        if self.eat(&Tok::Op('^')) {
            let exponent = self.exponent()?;
            let power = Expr::Power(Box::new(base), Box::new(exponent));
            return self.postfix_ops(power);
        }
        Ok(base)
    }

    /// The exponent after `^`: a group, or one token (a whole numeral, as models write `2^10`).
    fn exponent(&mut self) -> Result<Expr, ReadError> {
        self.nested(|p| {
            if p.eat(&Tok::Op('-')) {
                p.exponent().map(|e| Expr::Neg(Box::new(e)))
            } else if p.eat(&Tok::Op('+')) {
                p.exponent()
            } else {
                p.power()
            }
        })
    }

    fn postfix(&mut self) -> Result<Expr, ReadError> {
        let atom = self.atom()?;
        self.postfix_ops(atom)
    }

    fn postfix_ops(&mut self, mut e: Expr) -> Result<Expr, ReadError> {
        loop {
            if self.eat(&Tok::Op('!')) {
                e = Expr::Apply(Function::Factorial, vec![e]);
            } else if self.peek() == Some(&Tok::Op('\'')) {
                let Expr::Symbol(name) = &mut e else {
                    return Err(self.error_here());
                };
                name.push('\'');
                self.pos += 1;
            } else if self.peek() == Some(&Tok::Op('_')) {
                self.pos += 1;
                let subscript = self.subscript_text()?;
                e = match e {
                    Expr::Symbol(name) => Expr::Symbol(format!("{name}_{{{subscript}}}")),
                    Expr::Number(n) if n.decimals.is_none() => {
                        base_number(&n, &subscript).ok_or(ReadError::Unsupported {
                            what: format!("a numeral in base {subscript}"),
                        })?
                    }
                    _ => return Err(self.error_here()),
                };
            } else {
                return Ok(e);
            }
        }
    }

    /// The text of a subscript (`_1`, `_{37}`, `_{n+1}`) in canonical spelling.
    fn subscript_text(&mut self) -> Result<String, ReadError> {
        let tokens: Vec<&Tok> = if self.eat(&Tok::Open) {
            let mut inner = Vec::new();
            let mut depth = 1;
            loop {
                match self.bump() {
                    None => {
                        return Err(ReadError::Unclosed {
                            what: "a subscript",
                        })
                    }
                    Some(Tok::Open) => {
                        depth += 1;
                        inner.push(&Tok::Open);
                    }
                    Some(Tok::Close) => {
                        depth -= 1;
                        if depth == 0 {
                            break;
                        }
                        inner.push(&Tok::Close);
                    }
                    Some(t) => inner.push(t),
                }
            }
            inner
        } else {
            match self.bump() {
                Some(t @ (Tok::Number { .. } | Tok::Letter(_) | Tok::Command(_))) => vec![t],
                // `x_ab`: TeX subscripts one letter; models mean the word.
                Some(t @ Tok::Word { .. }) => vec![t],
                _ => return Err(self.error_here()),
            }
        };
        let mut text = String::new();
        for t in tokens {
            match t {
                Tok::Number { int, frac } => {
                    text.push_str(int);
                    if let Some(f) = frac {
                        text.push('.');
                        text.push_str(f);
                    }
                }
                Tok::Letter(c) | Tok::Op(c) => text.push(*c),
                Tok::Word { text: w, .. } => text.push_str(w),
                Tok::Command(c) => {
                    text.push('\\');
                    text.push_str(c);
                    text.push(' ');
                }
                Tok::Open => text.push('{'),
                Tok::Close => text.push('}'),
                _ => return Err(self.error_here()),
            }
        }
        Ok(text.trim().to_string())
    }

    /// One argument of `\frac`, `\sqrt`, `\binom`: a `{…}` group or a single token (the
    /// lexer already split `\frac12` into two one-digit numerals, as TeX reads it).
    fn argument(&mut self) -> Result<Expr, ReadError> {
        self.atom()
    }
}

impl Parser<'_> {
    fn atom(&mut self) -> Result<Expr, ReadError> {
        self.nested(Self::atom_inner)
    }

    fn atom_inner(&mut self) -> Result<Expr, ReadError> {
        let Some(token) = self.peek_token() else {
            return Err(ReadError::Unclosed {
                what: "an expression",
            });
        };
        match &token.kind {
            Tok::Number { int, frac } => {
                self.pos += 1;
                let number =
                    Number::parse(int, frac.as_deref()).ok_or_else(|| self.unexpected(token))?;
                if let Some(based) = self.letter_digits_in_base(int, frac.is_some())? {
                    return Ok(based);
                }
                Ok(Expr::Number(number))
            }
            Tok::Letter(c) => {
                self.pos += 1;
                Ok(match c {
                    'i' => Expr::Constant(Constant::I),
                    'e' => Expr::Constant(Constant::E),
                    other => Expr::Symbol(other.to_string()),
                })
            }
            Tok::Word { text, from_text } => {
                self.pos += 1;
                let lower = text.to_ascii_lowercase();
                if let Some(function) = Function::named(&lower) {
                    return self.application(function);
                }
                match lower.as_str() {
                    "pi" => return Ok(Expr::Constant(Constant::Pi)),
                    "sqrt" => {
                        let radicand = self.power()?;
                        return Ok(root(radicand, Expr::integer(2)));
                    }
                    "infty" | "infinity" | "inf" => return Ok(Expr::Constant(Constant::Infinity)),
                    _ => {}
                }
                if *from_text || token.spaced {
                    // A name: a label (`\text{area}`), or the text of a word answer.
                    return Ok(Expr::Symbol(format!("\\text{{{lower}}}")));
                }
                // Letters written together in mathematics multiply: `xy`.
                Ok(Expr::Product(
                    text.chars()
                        .map(|c| match c {
                            'i' => Expr::Constant(Constant::I),
                            'e' => Expr::Constant(Constant::E),
                            other => Expr::Symbol(other.to_string()),
                        })
                        .collect(),
                ))
            }
            Tok::Op('(') | Tok::Op('[') => {
                let close = if token.kind == Tok::Op('(') { ')' } else { ']' };
                self.pos += 1;
                let inner = self.expr()?;
                // `(a]` is not an expression, but brackets of either kind group one.
                if !(self.eat(&Tok::Op(close))
                    || self.eat(&Tok::Op(if close == ')' { ']' } else { ')' })))
                {
                    return Err(self.error_here());
                }
                Ok(inner)
            }
            Tok::Open => {
                self.pos += 1;
                let inner = self.expr()?;
                if !self.eat(&Tok::Close) {
                    return Err(ReadError::Unclosed {
                        what: "a {…} group",
                    });
                }
                Ok(inner)
            }
            Tok::Op('|') => {
                self.pos += 1;
                self.bars += 1;
                let inner = self.expr();
                self.bars -= 1;
                let inner = inner?;
                if !self.eat(&Tok::Op('|')) {
                    return Err(ReadError::Unclosed {
                        what: "an absolute value",
                    });
                }
                Ok(Expr::Apply(Function::Abs, vec![inner]))
            }
            Tok::Command(name) => {
                self.pos += 1;
                self.command(name)
            }
            _ => Err(self.unexpected(token)),
        }
    }

    /// `1A_{16}`: a numeral followed by letter digits and a base subscript.
    fn letter_digits_in_base(
        &mut self,
        int: &str,
        has_point: bool,
    ) -> Result<Option<Expr>, ReadError> {
        if has_point {
            return Ok(None);
        }
        let mut digits = int.to_string();
        let mut look = self.pos;
        while let Some(t) = self.toks.get(look).filter(|t| !t.spaced) {
            match &t.kind {
                Tok::Letter(c) if c.is_ascii_uppercase() => digits.push(*c),
                Tok::Word {
                    text,
                    from_text: false,
                } if text.chars().all(|c| c.is_ascii_uppercase()) => digits.push_str(text),
                Tok::Number { int, frac: None } => digits.push_str(int),
                _ => break,
            }
            look += 1;
        }
        if look == self.pos || self.toks.get(look).map(|t| &t.kind) != Some(&Tok::Op('_')) {
            return Ok(None);
        }
        self.pos = look + 1;
        let base_text = self.subscript_text()?;
        let base: u32 = base_text.parse().map_err(|_| ReadError::Unsupported {
            what: format!("a numeral in base {base_text}"),
        })?;
        let valid = (2..=36).contains(&base)
            && digits
                .chars()
                .all(|c| c.to_digit(36).is_some_and(|d| d < base));
        if !valid {
            return Err(ReadError::Unsupported {
                what: format!("the digits {digits} in base {base}"),
            });
        }
        Ok(Some(Expr::BaseNumber { digits, base }))
    }

    fn command(&mut self, name: &str) -> Result<Expr, ReadError> {
        match name {
            "frac" => {
                let numerator = self.argument()?;
                let denominator = self.argument()?;
                Ok(Expr::Quotient(Box::new(numerator), Box::new(denominator)))
            }
            "sqrt" => {
                let index = if self.eat(&Tok::Op('[')) {
                    let index = self.expr()?;
                    if !self.eat(&Tok::Op(']')) {
                        return Err(ReadError::Unclosed {
                            what: "a root index",
                        });
                    }
                    index
                } else {
                    Expr::integer(2)
                };
                let radicand = self.argument()?;
                Ok(root(radicand, index))
            }
            "binom" => {
                let n = self.argument()?;
                let k = self.argument()?;
                Ok(Expr::Apply(Function::Binomial, vec![n, k]))
            }
            "pi" => Ok(Expr::Constant(Constant::Pi)),
            "infty" => Ok(Expr::Constant(Constant::Infinity)),
            "imath" => Ok(Expr::Constant(Constant::I)),
            "exp" => self.application(Function::Exp),
            "lfloor" | "lceil" => {
                let inner = self.expr()?;
                let (close, function) = if name == "lfloor" {
                    ("rfloor", Function::Floor)
                } else {
                    ("rceil", Function::Ceil)
                };
                if !self.eat_command(close) {
                    return Err(ReadError::Unclosed {
                        what: "a floor or ceiling",
                    });
                }
                Ok(Expr::Apply(function, vec![inner]))
            }
            "angle" | "measuredangle" | "triangle" | "arc" => Ok(Expr::Symbol(format!("\\{name}"))),
            greek if GREEK.contains(&greek) => Ok(Expr::Symbol(format!("\\{greek}"))),
            other => match Function::named(other) {
                Some(function) => self.application(function),
                // A command the checker does not know names something (`\sum`, a typo like
                // `\quadx`); it compares equal only to itself.
                None => Ok(Expr::Symbol(format!("\\{other}"))),
            },
        }
    }

    /// A function's argument: `\sin(x)`, `\sin x`, `\sin 2x`, `\sin^2 x`, `\log_2 8`.
    fn application(&mut self, function: Function) -> Result<Expr, ReadError> {
        let mut base = None;
        if function == Function::Log && self.eat(&Tok::Op('_')) {
            base = Some(self.argument()?);
        }
        let mut power = None;
        if self.eat(&Tok::Op('^')) {
            power = Some(self.exponent()?);
        }
        let argument = if matches!(self.peek(), Some(Tok::Op('('))) {
            self.power()?
        } else {
            // Without brackets the argument is the product that follows, up to the next
            // function: `\sin 2x \cos y` is sin(2x)·cos(y).
            let mut factors = vec![self.power()?];
            while self.starts_factor() && !self.starts_function() {
                factors.push(self.power()?);
            }
            if factors.len() == 1 {
                factors.pop().unwrap_or_else(|| Expr::integer(0))
            } else {
                Expr::Product(factors)
            }
        };
        let applied = match base {
            Some(b) => Expr::Apply(Function::LogBase, vec![b, argument]),
            None => Expr::Apply(function, vec![argument]),
        };
        Ok(match power {
            // `\sin^{-1}` is the inverse function.
            Some(Expr::Neg(one)) if matches!(*one, Expr::Number(ref n) if n.exact == Some(super::rational::Rational::integer(1))) =>
            {
                let inverse = match function {
                    Function::Sin => Function::Arcsin,
                    Function::Cos => Function::Arccos,
                    Function::Tan => Function::Arctan,
                    _ => return Ok(Expr::Power(Box::new(applied), Box::new(Expr::Neg(one)))),
                };
                match applied {
                    Expr::Apply(_, args) => Expr::Apply(inverse, args),
                    other => other,
                }
            }
            Some(p) => Expr::Power(Box::new(applied), Box::new(p)),
            None => applied,
        })
    }

    fn starts_function(&self) -> bool {
        match self.peek() {
            Some(Tok::Command(c)) => Function::named(c).is_some() || c == "exp",
            Some(Tok::Word { text, .. }) => Function::named(&text.to_ascii_lowercase()).is_some(),
            _ => false,
        }
    }
}

/// `radicand^(1/index)`.
fn root(radicand: Expr, index: Expr) -> Expr {
    Expr::Power(
        Box::new(radicand),
        Box::new(Expr::Quotient(Box::new(Expr::integer(1)), Box::new(index))),
    )
}

fn sum_of(mut terms: Vec<Expr>) -> Expr {
    if terms.len() == 1 {
        terms.pop().unwrap_or_else(|| Expr::integer(0))
    } else {
        Expr::Sum(terms)
    }
}

/// `1\frac{1}{2}` is one and a half, not one half: an integer followed by a fraction of
/// integers is a mixed number.
fn mixed_number(last: Expr, next: Expr, alone: bool) -> Expr {
    let is_fraction =
        |e: &Expr| matches!(e, Expr::Quotient(a, b) if integer_literal(a) && integer_literal(b));
    if alone && is_fraction(&next) {
        if integer_literal(&last) {
            return Expr::Sum(vec![last, next]);
        }
        if let Expr::Neg(inner) = &last {
            if integer_literal(inner) {
                return Expr::Neg(Box::new(Expr::Sum(vec![(**inner).clone(), next])));
            }
        }
    }
    match last {
        Expr::Product(mut items) => {
            items.push(next);
            Expr::Product(items)
        }
        other => Expr::Product(vec![other, next]),
    }
}

fn base_number(n: &Number, subscript: &str) -> Option<Expr> {
    let base: u32 = subscript.parse().ok()?;
    let digits = n.exact?.numer().to_string();
    let valid = (2..=36).contains(&base) && digits.chars().all(|c| c.is_digit(base));
    valid.then_some(Expr::BaseNumber { digits, base })
}

fn one_or_list(mut items: Vec<Answer>, flatten: bool) -> Answer {
    if items.len() == 1 {
        return items.pop().unwrap_or(Answer::EmptySet);
    }
    if flatten {
        let mut flat = Vec::new();
        for item in items {
            match item {
                Answer::List(inner) => flat.extend(inner),
                other => flat.push(other),
            }
        }
        return Answer::List(flat);
    }
    Answer::List(items)
}
