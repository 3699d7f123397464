//! Final-answer checking for math problems: pull the answer out of a solution, normalize it,
//! and compare it with the ground truth.
//!
//! The comparison is deliberately modest: string equality after a LaTeX normalization that
//! covers what MATH-style answers vary in (`\dfrac`, `\left(`, units, `^\circ`, `\%`, `1,000`,
//! `\frac12`, `x =` …), then numeric equality (relative tolerance 1e-6) when both sides
//! evaluate to a number, then element-wise comparison of tuples, intervals and lists. It does no
//! algebra: `2(x+1)` and `2x+2` are different answers here.

/// Relative tolerance for numeric comparison.
pub const RELATIVE_TOLERANCE: f64 = 1e-6;

/// Longest solution text (in characters, one line) that counts as a bare answer when it has
/// no `\boxed{}` and no "answer:" line.
pub const SHORT_ANSWER_CHARS: usize = 80;

/// Answers longer than this (in bytes) are not compared: no real final answer is this long, and
/// the limit keeps hostile model output from costing time or stack.
pub const MAX_ANSWER_BYTES: usize = 2_000;

/// Deepest nesting of braces and parentheses the normalizer and evaluator follow.
const MAX_DEPTH: usize = 64;

/// The outcome of checking a solution against a ground truth.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnswerCheck {
    /// The answer found in the solution, if any.
    pub extracted: Option<String>,
    /// Whether it matches the ground truth.
    pub correct: bool,
}

/// Extracts the final answer from `solution`, and compares it with `ground_truth` (which may
/// itself be a bare answer or contain a `\boxed{}`).
pub fn check_solution(solution: &str, ground_truth: &str) -> AnswerCheck {
    let extracted = extract_answer(solution);
    let correct = extracted
        .as_deref()
        .is_some_and(|answer| answers_match(ground_truth, answer));
    AnswerCheck { extracted, correct }
}

/// The final answer in a solution text: the content of the last `\boxed{…}` or `\fbox{…}`
/// (nested braces allowed); else the text after the last "final answer:", "answer:" or
/// "answer is"; else the whole text when it is one short line. `None` when nothing qualifies.
pub fn extract_answer(solution: &str) -> Option<String> {
    if let Some(boxed) = last_boxed(solution) {
        return Some(boxed.trim().to_string());
    }
    if let Some(stated) = last_stated_answer(solution) {
        return Some(stated);
    }
    let text = solution.trim();
    if !text.is_empty() && !text.contains('\n') && text.chars().count() <= SHORT_ANSWER_CHARS {
        return Some(clean_tail(text));
    }
    None
}

fn last_boxed(text: &str) -> Option<String> {
    let mut best: Option<(usize, String)> = None;
    for command in ["\\boxed", "\\fbox"] {
        for (at, _) in text.match_indices(command) {
            let rest = &text[at + command.len()..];
            if rest.starts_with(|c: char| c.is_ascii_alphabetic()) {
                continue; // another command, e.g. \boxedtext
            }
            let content = if let Some(group) = rest.strip_prefix('{') {
                balanced_group(group).map(|(inside, _)| inside.to_string())
            } else if let Some(bare) = rest.strip_prefix(' ') {
                // `\boxed 5`: TeX takes the next token.
                let token: String = bare
                    .trim_start()
                    .chars()
                    .take_while(|c| !c.is_whitespace() && *c != '$')
                    .collect();
                (!token.is_empty()).then_some(token)
            } else {
                None
            };
            if let Some(content) = content {
                if best.as_ref().is_none_or(|(b, _)| at > *b) {
                    best = Some((at, content));
                }
            }
        }
    }
    best.map(|(_, content)| content)
}

/// Given the text just after an opening `{`, the inside of the group and the rest after `}`.
fn balanced_group(text: &str) -> Option<(&str, &str)> {
    let mut depth = 1usize;
    let mut escaped = false;
    for (i, c) in text.char_indices() {
        if escaped {
            escaped = false;
            continue;
        }
        match c {
            '\\' => escaped = true,
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    return Some((&text[..i], &text[i + 1..]));
                }
            }
            _ => {}
        }
    }
    None
}

fn last_stated_answer(text: &str) -> Option<String> {
    for line in text.lines().rev() {
        let lower = line.to_lowercase();
        // Lowercasing can change byte lengths outside ASCII; only trust positions when it did not.
        if lower.len() != line.len() {
            continue;
        }
        for (at, _) in lower.rmatch_indices("answer") {
            let Some(rest) = line.get(at + "answer".len()..) else {
                continue;
            };
            let rest = rest.trim_start_matches(['*', ' ']);
            let after = if let Some(r) = rest.strip_prefix(':') {
                r
            } else if let Some(r) = rest.strip_prefix("is ") {
                r
            } else {
                continue;
            };
            let answer = clean_tail(after.trim_start_matches(['*', ' ', ':']));
            if !answer.is_empty() {
                return Some(answer);
            }
        }
    }
    None
}

fn clean_tail(text: &str) -> String {
    let mut s = text.trim();
    loop {
        let before = s;
        s = s.trim_end_matches(['.', '*', ' ']);
        if let Some(inner) = s.strip_prefix('$').and_then(|x| x.strip_suffix('$')) {
            s = inner.trim();
        }
        if let Some(inner) = s.strip_prefix("**").and_then(|x| x.strip_suffix("**")) {
            s = inner.trim();
        }
        if s == before {
            break;
        }
    }
    s.to_string()
}

/// Whether `candidate` is the same answer as `ground_truth`.
pub fn answers_match(ground_truth: &str, candidate: &str) -> bool {
    if ground_truth.len() > MAX_ANSWER_BYTES || candidate.len() > MAX_ANSWER_BYTES {
        return false;
    }
    let truth = normalize_answer(ground_truth);
    let cand = normalize_answer(candidate);
    normalized_match(&truth, &cand, 0)
}

fn normalized_match(a: &str, b: &str, depth: u32) -> bool {
    if a.is_empty() || b.is_empty() || depth > 8 {
        return false;
    }
    if a == b {
        return true;
    }
    if let (Some(x), Some(y)) = (evaluate(a), evaluate(b)) {
        return numbers_close(x, y);
    }
    if let (Some(ga), Some(gb)) = (bracketed(a), bracketed(b)) {
        return ga.open == gb.open
            && ga.close == gb.close
            && ga.items.len() == gb.items.len()
            && ga
                .items
                .iter()
                .zip(&gb.items)
                .all(|(x, y)| normalized_match(x, y, depth + 1));
    }
    let (la, lb) = (split_top_level(a), split_top_level(b));
    if la.len() > 1 && la.len() == lb.len() {
        // A bare list ("all solutions, separated by commas") is compared as a multiset.
        let mut unused: Vec<&str> = lb.clone();
        for x in &la {
            match unused
                .iter()
                .position(|y| normalized_match(x, y, depth + 1))
            {
                Some(i) => {
                    unused.swap_remove(i);
                }
                None => return false,
            }
        }
        return true;
    }
    let is_word = |s: &str| s.len() > 1 && s.chars().all(|c| c.is_alphabetic());
    is_word(a) && is_word(b) && a.to_lowercase() == b.to_lowercase()
}

/// Whether two numbers agree within [`RELATIVE_TOLERANCE`].
pub fn numbers_close(a: f64, b: f64) -> bool {
    let diff = (a - b).abs();
    diff <= RELATIVE_TOLERANCE * a.abs().max(b.abs()) || diff < 1e-12
}

struct Bracketed<'a> {
    open: char,
    close: char,
    items: Vec<&'a str>,
}

/// `(a,b)`, `[a,b)`, … as one group spanning the whole string, with at least two items.
fn bracketed(s: &str) -> Option<Bracketed<'_>> {
    let open = s.chars().next()?;
    let close = s.chars().last()?;
    if !matches!(open, '(' | '[') || !matches!(close, ')' | ']') || s.len() < 2 {
        return None;
    }
    let inner = &s[1..s.len() - 1];
    // The first bracket must close at the very end, not earlier: "(1)+(2)" is no tuple.
    let mut depth = 0i32;
    for c in inner.chars() {
        match c {
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' => {
                depth -= 1;
                if depth < 0 {
                    return None;
                }
            }
            _ => {}
        }
    }
    let items = split_top_level(inner);
    (items.len() > 1).then_some(Bracketed { open, close, items })
}

fn split_top_level(s: &str) -> Vec<&str> {
    let mut items = Vec::new();
    let mut depth = 0i32;
    let mut start = 0;
    for (i, c) in s.char_indices() {
        match c {
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' => depth -= 1,
            ',' if depth == 0 => {
                items.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    items.push(&s[start..]);
    items
}

/// Normalizes an answer to a canonical LaTeX-ish string without whitespace. Idempotent.
///
/// Removes math delimiters (`$`, `\(`…`\)`), `\boxed{}`, `\left`/`\right`, spacing commands,
/// `\text{}`-style wrappers, degrees (`^\circ`), `\%`/`%`, `\$`, thousands separators, a
/// leading `x =`, trailing units after a number (`5 \text{ cm}`), and trailing zeros of
/// decimals; rewrites `\dfrac`/`\tfrac` as `\frac`, `\frac12`/`\sqrt2` with braces, and
/// `a/b` of simple operands as `\frac{a}{b}`; `(C)` becomes `C`.
pub fn normalize_answer(answer: &str) -> String {
    let mut s = answer.trim().to_string();
    if let Some(inner) = last_boxed(&s) {
        s = inner;
    }
    s = s.replace("\\$", "").replace('$', "");
    for (open, close) in [("\\(", "\\)"), ("\\[", "\\]")] {
        if let Some(inner) = s
            .trim()
            .strip_prefix(open)
            .and_then(|x| x.strip_suffix(close))
        {
            s = inner.to_string();
        }
    }
    s = strip_sizing(&s);
    for (from, to) in [
        ("\\!", ""),
        ("\\,", " "),
        ("\\;", " "),
        ("\\:", " "),
        ("\\qquad", " "),
        ("\\quad", " "),
        ("\\ ", " "),
        ("~", " "),
        ("\\dfrac", "\\frac"),
        ("\\tfrac", "\\frac"),
        ("\\displaystyle", ""),
        ("^{\\circ}", ""),
        ("^\\circ", ""),
        ("\\circ", ""),
        ("\\degree", ""),
        ("°", ""),
        ("\\%", ""),
        ("%", ""),
        ("{,}", ","),
        ("\\{", "{"),
        ("\\}", "}"),
    ] {
        s = s.replace(from, to);
    }
    for wrapper in [
        "\\text", "\\textbf", "\\textit", "\\textrm", "\\mathrm", "\\mbox",
    ] {
        s = unwrap_command(&s, wrapper);
    }
    s = strip_leading_variable(s.trim());
    s = strip_trailing_units(s.trim());
    s = brace_shorthand(&s, 0);
    s.retain(|c| !c.is_whitespace());
    s = s.trim_end_matches('.').to_string();
    if is_thousands_number(&s) {
        s.retain(|c| c != ',');
    }
    s = slash_to_frac(&s);
    s = trim_decimal_zeros(&s);
    if let Some(letter) = single_letter_choice(&s) {
        s = letter.to_string();
    }
    // A set written `{1,2}` after `\{` was dropped compares as a bare list.
    if s.starts_with('{')
        && s.ends_with('}')
        && balanced_group(&s[1..]).map(|(_, r)| r.is_empty()) == Some(true)
    {
        let inner = s[1..s.len() - 1].to_string();
        if split_top_level(&inner).len() > 1 {
            s = inner;
        }
    }
    s
}

fn strip_sizing(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(at) = rest.find('\\') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        let word: String = after
            .chars()
            .take_while(|c| c.is_ascii_alphabetic())
            .collect();
        let is_sizing = matches!(
            word.as_str(),
            "left" | "right" | "bigl" | "bigr" | "Bigl" | "Bigr" | "big" | "Big"
        );
        let next = after[word.len()..].chars().next();
        if is_sizing && next.is_some_and(|c| !c.is_ascii_alphabetic()) {
            rest = &after[word.len()..];
        } else {
            out.push('\\');
            rest = after;
        }
    }
    out.push_str(rest);
    out
}

/// Replaces `\cmd{X}` by `X` (balanced braces).
fn unwrap_command(s: &str, command: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(at) = rest.find(command) {
        let after = &rest[at + command.len()..];
        let group = after
            .trim_start()
            .strip_prefix('{')
            .and_then(balanced_group);
        match group {
            Some((inside, tail)) if !after.starts_with(|c: char| c.is_ascii_alphabetic()) => {
                out.push_str(&rest[..at]);
                out.push(' ');
                out.push_str(inside);
                out.push(' ');
                rest = tail;
            }
            _ => {
                out.push_str(&rest[..at + command.len()]);
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

fn strip_leading_variable(s: &str) -> String {
    if s.matches('=').count() != 1 {
        return s.to_string();
    }
    let Some((lhs, rhs)) = s.split_once('=') else {
        return s.to_string();
    };
    let lhs = lhs.trim();
    let single_letter = lhs.len() == 1 && lhs.chars().all(|c| c.is_ascii_alphabetic());
    let greek =
        lhs.starts_with('\\') && lhs.len() > 1 && lhs[1..].chars().all(|c| c.is_ascii_alphabetic());
    if (single_letter || greek) && !rhs.trim().is_empty() {
        rhs.trim().to_string()
    } else {
        s.to_string()
    }
}

/// `5 cm`, `12 square units`, `3 m^2`: drops trailing words when what precedes is a number.
fn strip_trailing_units(s: &str) -> String {
    let mut end = s.len();
    loop {
        let head = s[..end].trim_end();
        // An optional `^2` / `^{2}` after the unit word.
        let head_no_power = head
            .strip_suffix("^2")
            .or_else(|| head.strip_suffix("^3"))
            .or_else(|| head.strip_suffix("^{2}"))
            .or_else(|| head.strip_suffix("^{3}"))
            .unwrap_or(head)
            .trim_end();
        let word_start = head_no_power
            .char_indices()
            .rev()
            .take_while(|(_, c)| c.is_ascii_alphabetic())
            .last()
            .map(|(i, _)| i);
        let Some(start) = word_start else { break };
        let word_len = head_no_power.len() - start;
        let before = &head_no_power[..start];
        if word_len < 2 || before.ends_with('\\') || before.trim().is_empty() {
            break;
        }
        end = before.trim_end().len();
        if evaluate(&brace_shorthand(&s[..end], 0)).is_some() {
            return s[..end].trim().to_string();
        }
    }
    s.to_string()
}

/// `\frac12` → `\frac{1}{2}`, `\sqrt2` → `\sqrt{2}`: braces around one-token arguments.
fn brace_shorthand(s: &str, depth: usize) -> String {
    if depth > MAX_DEPTH {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len() + 8);
    let mut rest = s;
    while let Some(at) = rest.find('\\') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        let word: String = after
            .chars()
            .take_while(|c| c.is_ascii_alphabetic())
            .collect();
        let args = match word.as_str() {
            "frac" => 2,
            "sqrt" => 1,
            _ => 0,
        };
        out.push('\\');
        out.push_str(&word);
        rest = &after[word.len()..];
        for _ in 0..args {
            let trimmed = rest.trim_start();
            if let Some(group) = trimmed.strip_prefix('{') {
                match balanced_group(group) {
                    Some((inside, tail)) => {
                        out.push('{');
                        out.push_str(&brace_shorthand(inside, depth + 1));
                        out.push('}');
                        rest = tail;
                    }
                    None => break,
                }
            } else if trimmed.starts_with('[') && word == "sqrt" {
                break; // \sqrt[n]{x}: leave as written
            } else if let Some(c) = trimmed.chars().next().filter(|c| c.is_ascii_alphanumeric()) {
                out.push('{');
                out.push(c);
                out.push('}');
                rest = &trimmed[c.len_utf8()..];
            } else {
                break;
            }
        }
    }
    out.push_str(rest);
    out
}

fn is_thousands_number(s: &str) -> bool {
    let body = s.strip_prefix('-').unwrap_or(s);
    let (int, frac) = match body.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (body, None),
    };
    let groups: Vec<&str> = int.split(',').collect();
    groups.len() > 1
        && (1..=3).contains(&groups[0].len())
        && groups
            .iter()
            .all(|g| !g.is_empty() && g.chars().all(|c| c.is_ascii_digit()))
        && groups[1..].iter().all(|g| g.len() == 3)
        && frac.is_none_or(|f| !f.is_empty() && f.chars().all(|c| c.is_ascii_digit()))
}

/// `a/b` with plain alphanumeric operands → `\frac{a}{b}`.
fn slash_to_frac(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    let Some(slash) = chars.iter().position(|c| *c == '/') else {
        return s.to_string();
    };
    let is_operand = |c: &char| c.is_ascii_alphanumeric() || *c == '.';
    let mut left = slash;
    while left > 0 && is_operand(&chars[left - 1]) {
        left -= 1;
    }
    let mut right = slash + 1;
    while right < chars.len() && is_operand(&chars[right]) {
        right += 1;
    }
    let plain_left =
        left < slash && (left == 0 || !matches!(chars[left - 1], '\\' | '}' | ')' | '^' | '_'));
    let plain_right = right > slash + 1
        && (right == chars.len() || !matches!(chars[right], '^' | '{' | '(' | '_'));
    if !(plain_left && plain_right) {
        return s.to_string();
    }
    let num: String = chars[left..slash].iter().collect();
    let den: String = chars[slash + 1..right].iter().collect();
    let head: String = chars[..left].iter().collect();
    let tail: String = chars[right..].iter().collect();
    format!("{head}\\frac{{{num}}}{{{den}}}{}", slash_to_frac(&tail))
}

fn trim_decimal_zeros(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < chars.len() {
        let starts_number = chars[i].is_ascii_digit()
            || (chars[i] == '.' && chars.get(i + 1).is_some_and(char::is_ascii_digit));
        let after_word = i > 0 && (chars[i - 1].is_ascii_alphabetic() || chars[i - 1] == '.');
        if !starts_number || after_word {
            out.push(chars[i]);
            i += 1;
            continue;
        }
        let start = i;
        while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == '.') {
            i += 1;
        }
        let number: String = chars[start..i].iter().collect();
        out.push_str(&canonical_decimal(&number));
    }
    out
}

fn canonical_decimal(number: &str) -> String {
    if number.matches('.').count() != 1 {
        return number.to_string();
    }
    let (int, frac) = number.split_once('.').unwrap_or((number, ""));
    let frac = frac.trim_end_matches('0');
    let int = if int.is_empty() { "0" } else { int };
    if frac.is_empty() {
        int.to_string()
    } else {
        format!("{int}.{frac}")
    }
}

fn single_letter_choice(s: &str) -> Option<char> {
    let inner = s.strip_prefix('(')?.strip_suffix(')')?;
    let mut chars = inner.chars();
    let c = chars.next()?;
    (c.is_ascii_uppercase() && chars.next().is_none()).then_some(c)
}

/// Evaluates a small numeric LaTeX expression: numbers, `+ - * /`, `\cdot`, `\times`, `^`,
/// parentheses and braces, `\frac{}{}`, `\sqrt{}`, `\sqrt[n]{}`, `\pi`, implicit multiplication
/// (`2\sqrt{3}`, `3\pi`) and mixed numbers (`1\frac{1}{2}`). `None` for anything else
/// (variables, `\infty`, `i`) or a non-finite result.
pub fn evaluate(expr: &str) -> Option<f64> {
    if expr.len() > MAX_ANSWER_BYTES {
        return None;
    }
    let chars: Vec<char> = expr.chars().filter(|c| !c.is_whitespace()).collect();
    if chars.is_empty() {
        return None;
    }
    let mut parser = Eval {
        chars,
        pos: 0,
        depth: 0,
    };
    let value = parser.expr()?;
    (parser.pos == parser.chars.len() && value.is_finite()).then_some(value)
}

struct Eval {
    chars: Vec<char>,
    pos: usize,
    depth: usize,
}

/// A parsed factor, and whether it was a bare integer literal (for mixed numbers).
struct Factor {
    value: f64,
    integer_literal: bool,
    integer_fraction: bool,
}

impl Eval {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn eat(&mut self, c: char) -> bool {
        if self.peek() == Some(c) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn eat_command(&mut self, name: &str) -> bool {
        let len = name.chars().count();
        let end = self.pos + 1 + len;
        if self.peek() != Some('\\') || end > self.chars.len() {
            return false;
        }
        let word: String = self.chars[self.pos + 1..end].iter().collect();
        let next_is_letter = self.chars.get(end).is_some_and(|c| c.is_ascii_alphabetic());
        if word == name && !next_is_letter {
            self.pos = end;
            true
        } else {
            false
        }
    }

    fn expr(&mut self) -> Option<f64> {
        self.depth += 1;
        let value = self.sum();
        self.depth -= 1;
        value
    }

    fn sum(&mut self) -> Option<f64> {
        if self.depth > MAX_DEPTH {
            return None;
        }
        let mut value = self.term()?;
        loop {
            if self.eat('+') {
                value += self.term()?;
            } else if self.eat('-') {
                value -= self.term()?;
            } else {
                return Some(value);
            }
        }
    }

    fn term(&mut self) -> Option<f64> {
        let first = self.unary()?;
        let mut value = first.value;
        let mut previous_integer = first.integer_literal;
        loop {
            if self.eat('*') || self.eat_command("cdot") || self.eat_command("times") {
                value *= self.unary()?.value;
            } else if self.eat('/') || self.eat_command("div") {
                value /= self.unary()?.value;
            } else if self.starts_atom() {
                let next = self.power()?;
                if previous_integer && next.integer_fraction {
                    // A mixed number: 1\frac{1}{2} is 1 + 1/2, and -1\frac{1}{2} is -(1 + 1/2).
                    value += if value < 0.0 { -next.value } else { next.value };
                } else {
                    value *= next.value;
                }
                previous_integer = false;
                continue;
            } else {
                return Some(value);
            }
            previous_integer = false;
        }
    }

    fn starts_atom(&self) -> bool {
        match self.peek() {
            Some(c) if c.is_ascii_digit() || c == '(' || c == '{' || c == '.' => true,
            Some('\\') => {
                let word: String = self.chars[self.pos + 1..]
                    .iter()
                    .take_while(|c| c.is_ascii_alphabetic())
                    .collect();
                matches!(word.as_str(), "frac" | "sqrt" | "pi")
            }
            _ => false,
        }
    }

    fn unary(&mut self) -> Option<Factor> {
        if self.depth > MAX_DEPTH {
            return None;
        }
        if self.eat('-') {
            self.depth += 1;
            let inner = self.unary();
            self.depth -= 1;
            let inner = inner?;
            return Some(Factor {
                value: -inner.value,
                ..inner
            });
        }
        while self.eat('+') {}
        self.power()
    }

    fn power(&mut self) -> Option<Factor> {
        let base = self.atom()?;
        if !self.eat('^') {
            return Some(base);
        }
        let exponent = if self.peek() == Some('{') || self.peek() == Some('(') {
            self.atom()?.value
        } else if self.eat('-') {
            -self.single_digit()?
        } else {
            self.single_digit()?
        };
        Some(Factor {
            value: base.value.powf(exponent),
            integer_literal: false,
            integer_fraction: false,
        })
    }

    fn single_digit(&mut self) -> Option<f64> {
        let c = self.peek().filter(char::is_ascii_digit)?;
        self.pos += 1;
        c.to_digit(10).map(f64::from)
    }

    fn group(&mut self, open: char, close: char) -> Option<(f64, bool)> {
        if !self.eat(open) {
            return None;
        }
        let start = self.pos;
        let value = self.expr()?;
        let integer = self.chars[start..self.pos].iter().all(char::is_ascii_digit);
        self.eat(close).then_some((value, integer))
    }

    fn atom(&mut self) -> Option<Factor> {
        let plain = |value| Factor {
            value,
            integer_literal: false,
            integer_fraction: false,
        };
        match self.peek()? {
            '(' => self.group('(', ')').map(|(v, _)| plain(v)),
            '{' => self.group('{', '}').map(|(v, _)| plain(v)),
            c if c.is_ascii_digit() || c == '.' => {
                let start = self.pos;
                while self.peek().is_some_and(|c| c.is_ascii_digit() || c == '.') {
                    self.pos += 1;
                }
                let text: String = self.chars[start..self.pos].iter().collect();
                let value: f64 = text.parse().ok()?;
                Some(Factor {
                    value,
                    integer_literal: !text.contains('.'),
                    integer_fraction: false,
                })
            }
            '\\' => {
                if self.eat_command("pi") {
                    Some(plain(std::f64::consts::PI))
                } else if self.eat_command("frac") {
                    let (num, num_int) = self.group('{', '}')?;
                    let (den, den_int) = self.group('{', '}')?;
                    Some(Factor {
                        value: num / den,
                        integer_literal: false,
                        integer_fraction: num_int && den_int,
                    })
                } else if self.eat_command("sqrt") {
                    let index = if self.peek() == Some('[') {
                        self.group('[', ']')?.0
                    } else {
                        2.0
                    };
                    let (radicand, _) = self.group('{', '}')?;
                    let root = if index == 2.0 {
                        radicand.sqrt()
                    } else if index == 3.0 {
                        radicand.cbrt()
                    } else {
                        radicand.powf(1.0 / index)
                    };
                    Some(plain(root))
                } else {
                    None
                }
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extracts_the_last_boxed_with_nested_braces() {
        let s = r"First \boxed{1}. Then $\boxed{\frac{1}{\sqrt{2}}}$.";
        assert_eq!(extract_answer(s).as_deref(), Some(r"\frac{1}{\sqrt{2}}"));
        assert_eq!(extract_answer(r"so \fbox{7} wins").as_deref(), Some("7"));
        assert_eq!(extract_answer(r"thus $\boxed 5$.").as_deref(), Some("5"));
    }

    #[test]
    fn extracts_stated_answers_and_short_solutions() {
        let s = "Work...\nSo x is 3.\n**Final Answer:** $12$.";
        assert_eq!(extract_answer(s).as_deref(), Some("12"));
        assert_eq!(
            extract_answer("Reasoning\nThe answer is 4.").as_deref(),
            Some("4")
        );
        assert_eq!(extract_answer(" 42 ").as_deref(), Some("42"));
        let long = "word ".repeat(30);
        assert_eq!(extract_answer(&long), None);
        assert_eq!(extract_answer("line one\nline two"), None);
    }

    #[test]
    fn evaluator_handles_the_small_grammar() {
        let close = |e: &str, v: f64| {
            let got = evaluate(e).unwrap_or_else(|| panic!("{e} did not evaluate"));
            assert!((got - v).abs() < 1e-12, "{e} = {got}, expected {v}");
        };
        close("1+2*3", 7.0);
        close(r"\frac{3}{4}", 0.75);
        close(r"2\sqrt{9}", 6.0);
        close(r"\sqrt[3]{27}", 3.0);
        close(r"-2^{2}", -4.0);
        close(r"1\frac{1}{2}", 1.5);
        close(r"3\cdot(1/2)", 1.5);
        close(r"\frac{\pi}{2}", std::f64::consts::FRAC_PI_2);
        close(".5", 0.5);
        assert_eq!(evaluate("x+1"), None);
        assert_eq!(evaluate(r"\infty"), None);
        assert_eq!(evaluate("1/0"), None);
        assert_eq!(evaluate("2i"), None);
    }

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
        ] {
            let once = normalize_answer(a);
            assert_eq!(normalize_answer(&once), once, "{a}");
        }
        assert_eq!(normalize_answer(r"x = \dfrac12"), r"\frac{1}{2}");
        assert_eq!(normalize_answer(r"\text{(C)}"), "C");
        assert_eq!(normalize_answer("2.50"), "2.5");
        assert_eq!(normalize_answer(r"1,\!000"), "1000");
    }

    #[test]
    fn tricky_negatives_stay_negative() {
        assert!(!answers_match(r"\frac{1}{2}", "2"));
        assert!(!answers_match("(1,2)", "(2,1)"));
        assert!(!answers_match("10", "100"));
        assert!(!answers_match("[1,2)", "(1,2)"));
        assert!(!answers_match("", ""));
    }

    #[test]
    fn hostile_text_neither_panics_nor_overflows() {
        let deep = format!("{}1{}", "(".repeat(50_000), ")".repeat(50_000));
        assert_eq!(evaluate(&deep), None);
        // Under the length limit, the depth limit stops the recursion.
        let nested = format!("{}1{}", "(".repeat(900), ")".repeat(900));
        assert_eq!(evaluate(&nested), None);
        let shallow = format!("{}1{}", "(".repeat(20), ")".repeat(20));
        assert_eq!(evaluate(&shallow), Some(1.0));
        let braces = format!(
            r"\boxed{{{}1{}}}",
            r"\frac{".repeat(5_000),
            "}{2}".repeat(5_000)
        );
        assert!(!check_solution(&braces, "1").correct);
        let minus = format!("{}1", "-".repeat(100_000));
        assert!(!answers_match(&minus, "1"));
        // Pseudo-random strings over the characters the parsers care about.
        let alphabet: Vec<char> = r"\{}()[]$,.^_/-+*=%0123456789 abxfracsqrtpileftboxed:İß€"
            .chars()
            .collect();
        let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
        for _ in 0..3_000 {
            let len = (seed % 40) as usize;
            let text: String = (0..len)
                .map(|_| {
                    seed ^= seed << 13;
                    seed ^= seed >> 7;
                    seed ^= seed << 17;
                    alphabet[(seed % alphabet.len() as u64) as usize]
                })
                .collect();
            let _ = check_solution(&text, &text);
            let _ = answers_match(&text, "1/2");
            let _ = normalize_answer(&format!("Final answer: {text}"));
        }
    }
}
