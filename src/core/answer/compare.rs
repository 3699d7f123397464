//! Whether two parsed answers are the same answer.
//!
//! Values compare exactly where they can: rational arithmetic for numbers, and for expressions
//! with variables a randomized identity test — both sides evaluated at several seeded random
//! points, equal only if they agree at every point within a tight relative tolerance. Around
//! the values, structure decides: tuples and matrices are ordered, sets and lists of solutions
//! are not, intervals must agree on their ends and brackets, equations and inequalities are the
//! same when their sides' differences are proportional, a label on the left (`x =`, `(p, q) =`,
//! `f(x) =`) may be dropped, and `\pm` stands for its two values.
//!
//! Numbers carry the precision they were written with. A decimal answer to an exact ground
//! truth is right only if it is exactly that value (`0.375` for `\frac{3}{8}`; never `201.0619`
//! for `64\pi`); a decimal ground truth accepts an exact answer that rounds to it.

use super::eval::{exact, exact_at, numeric, Complex};
use super::expr::Expr;
use super::rational::Rational;
use super::structure::{Answer, RelOp};

/// Relative tolerance of the floating-point comparisons: far below any rounding a person
/// writes, far above the error of evaluating a short expression in doubles.
const TOLERANCE: f64 = 1e-9;

/// Random points of the identity test, and how many of them must give both sides a value.
const POINTS: usize = 8;
const MIN_DEFINED_POINTS: usize = 4;

/// Fixed seed: a check gives the same verdict every time.
const SEED: u64 = 0x9e37_79b9_7f4a_7c15;

/// Most items of a set, list, tuple or matrix row compared; more is no real final answer.
const MAX_ITEMS: usize = 64;

/// Most `\pm` values expanded (two per `\pm`).
const MAX_VARIANTS: usize = 16;

/// How deep nested structures are followed.
const MAX_NESTING: usize = 16;

/// Whether `candidate` is the same answer as `truth`.
pub fn equivalent(truth: &Answer, candidate: &Answer) -> bool {
    let t = expand(truth);
    let c = expand(candidate);
    if same(&t, &c, 0) {
        return true;
    }
    let (tv, cv) = (values(&t), values(&c));
    (tv != t || cv != c) && same(&tv, &cv, 0)
}

fn same(t: &Answer, c: &Answer, depth: usize) -> bool {
    if depth > MAX_NESTING {
        return false;
    }
    let d = depth + 1;
    match (t, c) {
        (Answer::Expr(a), Answer::Expr(b)) => scalar_equal(a, b),
        (Answer::Text(a), Answer::Text(b)) => a == b,
        (Answer::Text(a), Answer::Expr(b)) | (Answer::Expr(b), Answer::Text(a)) => {
            word_of(b).is_some_and(|w| w == *a)
        }
        (Answer::List(a) | Answer::Set(a), Answer::List(b) | Answer::Set(b)) => set_equal(a, b, d),
        // Values of distinct labels (`AB = 4, CD = 5`) against the same values listed.
        (Answer::Tuple(a), Answer::List(b)) | (Answer::List(a), Answer::Tuple(b)) => {
            ordered_equal(a, b, d)
        }
        (Answer::List(a) | Answer::Set(a), other) | (other, Answer::List(a) | Answer::Set(a))
            if !matches!(other, Answer::Union(_) | Answer::EmptySet) =>
        {
            let distinct = distinct(a, d);
            distinct.len() == 1 && same(distinct[0], other, d)
        }
        (
            Answer::Bracketed {
                open: o1,
                close: c1,
                items: a,
            },
            Answer::Bracketed {
                open: o2,
                close: c2,
                items: b,
            },
        ) => o1 == o2 && c1 == c2 && ordered_equal(a, b, d),
        (Answer::Tuple(a), Answer::Tuple(b)) => ordered_equal(a, b, d),
        (
            Answer::Tuple(a),
            Answer::Bracketed {
                open: '(',
                close: ')',
                items: b,
            },
        )
        | (
            Answer::Bracketed {
                open: '(',
                close: ')',
                items: a,
            },
            Answer::Tuple(b),
        ) => ordered_equal(a, b, d),
        (Answer::Matrix(a), Answer::Matrix(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|(x, y)| ordered_equal(x, y, d))
        }
        (Answer::Ratio(a), Answer::Ratio(b)) => ordered_equal(a, b, d),
        (Answer::EmptySet, Answer::EmptySet) | (Answer::Reals, Answer::Reals) => true,
        (Answer::Relation { sides: s1, ops: o1 }, Answer::Relation { sides: s2, ops: o2 }) => {
            relations_equal(s1, o1, s2, o2, d) || intervals_equal(t, c, d)
        }
        _ => intervals_equal(t, c, d),
    }
}

fn ordered_equal(a: &[Answer], b: &[Answer], depth: usize) -> bool {
    a.len() == b.len() && a.len() <= MAX_ITEMS && a.iter().zip(b).all(|(x, y)| same(x, y, depth))
}

/// The items without repeats (a root listed twice is one root).
fn distinct(items: &[Answer], depth: usize) -> Vec<&Answer> {
    let mut kept: Vec<&Answer> = Vec::new();
    for item in items.iter().take(MAX_ITEMS + 1) {
        if !kept.iter().any(|k| same(k, item, depth)) {
            kept.push(item);
        }
    }
    kept
}

fn set_equal(a: &[Answer], b: &[Answer], depth: usize) -> bool {
    if a.len() > MAX_ITEMS || b.len() > MAX_ITEMS {
        return false;
    }
    let (a, b) = (distinct(a, depth), distinct(b, depth));
    if a.len() != b.len() {
        return false;
    }
    let mut used = vec![false; b.len()];
    a.iter().all(|x| {
        let found = (0..b.len()).find(|&j| !used[j] && same(x, b[j], depth));
        found.map(|j| used[j] = true).is_some()
    })
}

/// The letters of an expression that is only letters (`ab`, `\text{odd}`), lower case.
fn word_of(e: &Expr) -> Option<String> {
    match e {
        Expr::Symbol(name) => {
            let name = name
                .strip_prefix("\\text{")
                .and_then(|n| n.strip_suffix('}'))
                .unwrap_or(name);
            Some(name.to_ascii_lowercase())
        }
        Expr::Constant(super::expr::Constant::E) => Some("e".into()),
        Expr::Constant(super::expr::Constant::I) => Some("i".into()),
        Expr::Product(factors) => factors.iter().map(word_of).collect(),
        _ => None,
    }
}

// ---- values ----

/// Whether two values are equal (see the module's documentation for decimals).
pub fn scalar_equal(t: &Expr, c: &Expr) -> bool {
    if t == c {
        return true;
    }
    match (t.infinity_sign(), c.infinity_sign()) {
        (Some(a), Some(b)) => return a == b,
        (None, None) => {}
        _ => return false,
    }
    if matches!(t, Expr::BaseNumber { .. }) || matches!(c, Expr::BaseNumber { .. }) {
        return base_numbers_equal(t, c);
    }
    let t_symbols = t.symbols();
    let c_symbols = c.symbols();
    if t_symbols.is_empty() && c_symbols.is_empty() {
        return constants_equal(t, c);
    }
    if t_symbols != c_symbols {
        // Different variables cannot be the same function (`x + 1` is not `y + 1`), unless a
        // variable cancels out; the identity test below settles that case too.
        let all: Vec<&str> = t_symbols.union(&c_symbols).copied().collect();
        return identity(t, c, &all);
    }
    let all: Vec<&str> = t_symbols.into_iter().collect();
    identity(t, c, &all)
}

/// A numeral in base n equals the same digits in that base, or the bare digits (the base is
/// the one the question asked for).
fn base_numbers_equal(t: &Expr, c: &Expr) -> bool {
    let digits = |e: &Expr| -> Option<(String, Option<u32>)> {
        match e {
            Expr::BaseNumber { digits, base } => Some((
                digits.trim_start_matches('0').to_ascii_uppercase(),
                Some(*base),
            )),
            Expr::Number(n) if n.decimals.is_none() => {
                let r = n.exact?;
                (r.is_integer() && r.numer() >= 0).then(|| (r.numer().to_string(), None))
            }
            _ => None,
        }
    };
    match (digits(t), digits(c)) {
        (Some((d1, b1)), Some((d2, b2))) => d1 == d2 && (b1 == b2 || b1.is_none() || b2.is_none()),
        _ => false,
    }
}

fn constants_equal(t: &Expr, c: &Expr) -> bool {
    let (te, ce) = (exact(t), exact(c));
    match (t.decimal_places(), c.decimal_places()) {
        // A decimal answer to an exact truth must be exactly that value.
        (None, Some(_)) => matches!((te, ce), (Some(x), Some(y)) if x == y),
        (Some(_), Some(_)) => match (te, ce) {
            (Some(x), Some(y)) => x == y,
            _ => numbers_close(t, c),
        },
        // A decimal truth accepts an exact answer that rounds to it at the truth's precision.
        (Some(places), None) => rounds_to(t, c, te, ce, places),
        (None, None) => match (te, ce) {
            (Some(x), Some(y)) => x == y,
            _ => numbers_close(t, c),
        },
    }
}

fn numbers_close(t: &Expr, c: &Expr) -> bool {
    match (numeric(t, &|_| None), numeric(c, &|_| None)) {
        (Some(x), Some(y)) => close(x, y),
        _ => false,
    }
}

fn close(x: Complex, y: Complex) -> bool {
    let scale = x.abs().max(y.abs());
    x.sub(y).abs() <= TOLERANCE * scale || scale < 1e-12
}

/// Whether `c` is within half a unit of the last decimal place of `t`.
fn rounds_to(t: &Expr, c: &Expr, te: Option<Rational>, ce: Option<Rational>, places: u32) -> bool {
    if let (Some(x), Some(y)) = (te, ce) {
        let half_unit = 10i128
            .checked_pow(places)
            .and_then(|p| p.checked_mul(2))
            .and_then(|d| Rational::new(1, d));
        let difference = y
            .sub(x)
            .map(|d| if d.numer() < 0 { d.neg() } else { Some(d) });
        if let (Some(half), Some(Some(diff))) = (half_unit, difference) {
            if let Some(order) = diff.checked_cmp(half) {
                return order.is_lt();
            }
        }
    }
    let (Some(x), Some(y)) = (numeric(t, &|_| None), numeric(c, &|_| None)) else {
        return false;
    };
    if y.im.abs() > TOLERANCE * y.re.abs().max(1.0) {
        return false;
    }
    let half_unit = 0.5 * 10f64.powi(-(places as i32));
    (x.re - y.re).abs() < half_unit + 4.0 * f64::EPSILON * x.re.abs().max(1.0)
}

/// A small xorshift generator: the identity test's points, the same on every run.
struct Points(u64);

impl Points {
    fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn next_unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// A small positive fraction (numerator below 30, denominator below 8): small enough that
    /// polynomials of a real answer's degree stay within `i128`.
    fn next_rational(&mut self) -> Rational {
        let numerator = 1 + (self.next_u64() % 29) as i128;
        let denominator = 1 + (self.next_u64() % 7) as i128;
        Rational::new(numerator, denominator).unwrap_or(Rational::integer(1))
    }

    /// Values for the variables: reals in [0.3, 2.3), away from the special points 0 and 1
    /// and where roots and logarithms of the variables are defined.
    fn next_point(&mut self, count: usize) -> Vec<Complex> {
        (0..count)
            .map(|_| Complex::real(0.3 + 2.0 * self.next_unit()))
            .collect()
    }
}

/// The randomized identity test: `t` and `c` agree at every random point where both are
/// defined, and at enough of them — exactly at rational points when both sides are rational
/// functions of the variables, in floating point otherwise.
fn identity(t: &Expr, c: &Expr, symbols: &[&str]) -> bool {
    if let Some(verdict) = exact_identity(t, c, symbols) {
        return verdict;
    }
    let mut points = Points(SEED);
    let mut defined = 0;
    for _ in 0..POINTS {
        let values = points.next_point(symbols.len());
        let lookup = |name: &str| symbols.iter().position(|s| *s == name).map(|i| values[i]);
        if let (Some(x), Some(y)) = (numeric(t, &lookup), numeric(c, &lookup)) {
            if !close(x, y) {
                return false;
            }
            defined += 1;
        }
    }
    defined >= MIN_DEFINED_POINTS
}

/// The identity test in exact arithmetic at random rational points: two different rational
/// functions agree at such a point only by a vanishing chance (Schwartz–Zippel), and no
/// tolerance hides a small difference (`x^2 + 1` against `x^2 + 1.0000000001`). `None` when
/// a side is not rational at a point (a root, a function, an overflow, a pole): then floats
/// decide.
fn exact_identity(t: &Expr, c: &Expr, symbols: &[&str]) -> Option<bool> {
    let mut points = Points(SEED);
    for _ in 0..POINTS {
        let values: Vec<Rational> = symbols.iter().map(|_| points.next_rational()).collect();
        let lookup = |name: &str| symbols.iter().position(|s| *s == name).map(|i| values[i]);
        let (x, y) = (exact_at(t, &lookup)?, exact_at(c, &lookup)?);
        if x != y {
            return Some(false);
        }
    }
    Some(true)
}

/// Whether `a = k·b` for one constant `k` at every random point (`k > 0` when `positive`);
/// `None` when neither has a variable.
fn proportional(a: &Expr, b: &Expr, positive: bool) -> Option<bool> {
    let mut symbols: Vec<&str> = a.symbols().union(&b.symbols()).copied().collect();
    symbols.dedup();
    if symbols.is_empty() {
        return None;
    }
    let mut points = Points(SEED);
    let mut ratio: Option<Complex> = None;
    let mut defined = 0;
    for _ in 0..POINTS {
        let values = points.next_point(symbols.len());
        let lookup = |name: &str| symbols.iter().position(|s| *s == name).map(|i| values[i]);
        let (Some(x), Some(y)) = (numeric(a, &lookup), numeric(b, &lookup)) else {
            continue;
        };
        let (x_zero, y_zero) = (x.abs() < 1e-12, y.abs() < 1e-12);
        if x_zero || y_zero {
            if x_zero != y_zero {
                return Some(false);
            }
            continue;
        }
        let Some(r) = x.div(y) else { continue };
        match ratio {
            None => ratio = Some(r),
            Some(first) if !close(first, r) => return Some(false),
            Some(_) => {}
        }
        defined += 1;
    }
    let Some(r) = ratio else {
        return Some(false);
    };
    let real = r.im.abs() <= TOLERANCE * r.re.abs();
    Some(defined >= MIN_DEFINED_POINTS && real && (!positive || r.re > 0.0))
}

// ---- relations and intervals ----

fn is_inequality(op: RelOp) -> bool {
    matches!(op, RelOp::Lt | RelOp::Le | RelOp::Gt | RelOp::Ge)
}

/// A chain read left to right with `<`/`≤`: `a > b` becomes `b < a`.
fn ascending(sides: &[Answer], ops: &[RelOp]) -> (Vec<Answer>, Vec<RelOp>) {
    let descending = ops.iter().any(|o| matches!(o, RelOp::Gt | RelOp::Ge))
        && ops.iter().all(|o| !matches!(o, RelOp::Lt | RelOp::Le));
    if !descending {
        return (sides.to_vec(), ops.to_vec());
    }
    let flipped = ops
        .iter()
        .rev()
        .map(|o| match o {
            RelOp::Gt => RelOp::Lt,
            RelOp::Ge => RelOp::Le,
            other => *other,
        })
        .collect();
    (sides.iter().rev().cloned().collect(), flipped)
}

fn same_relation(a: RelOp, b: RelOp) -> bool {
    let eq = |o| matches!(o, RelOp::Eq | RelOp::Approx);
    a == b || (eq(a) && eq(b))
}

fn relations_equal(s1: &[Answer], o1: &[RelOp], s2: &[Answer], o2: &[RelOp], depth: usize) -> bool {
    if s1.len() != s2.len() {
        return false;
    }
    let (s1, o1) = ascending(s1, o1);
    let (s2, o2) = ascending(s2, o2);
    for (i, (&a, &b)) in o1.iter().zip(&o2).enumerate() {
        if !same_relation(a, b) {
            return false;
        }
        let link_equal = match (&s1[i], &s1[i + 1], &s2[i], &s2[i + 1]) {
            (Answer::Expr(l1), Answer::Expr(r1), Answer::Expr(l2), Answer::Expr(r2))
                if a != RelOp::In =>
            {
                let d1 = difference(l1, r1);
                let d2 = difference(l2, r2);
                proportional(&d1, &d2, is_inequality(a))
                    .unwrap_or_else(|| scalar_equal(l1, l2) && scalar_equal(r1, r2))
            }
            (l1, r1, l2, r2) => same(l1, l2, depth) && same(r1, r2, depth),
        };
        if !link_equal {
            return false;
        }
    }
    true
}

fn difference(a: &Expr, b: &Expr) -> Expr {
    Expr::Sum(vec![a.clone(), Expr::Neg(Box::new(b.clone()))])
}

/// One end of an interval.
#[derive(Clone)]
struct End {
    value: Expr,
    closed: bool,
}

struct Interval {
    low: End,
    high: End,
}

fn infinity(sign: i128) -> Expr {
    let inf = Expr::Constant(super::expr::Constant::Infinity);
    if sign < 0 {
        Expr::Neg(Box::new(inf))
    } else {
        inf
    }
}

fn interval(low: Expr, low_closed: bool, high: Expr, high_closed: bool) -> Interval {
    Interval {
        low: End {
            value: low,
            closed: low_closed,
        },
        high: End {
            value: high,
            closed: high_closed,
        },
    }
}

fn is_constant(a: &Answer) -> Option<&Expr> {
    match a {
        Answer::Expr(e) if e.symbols().is_empty() => Some(e),
        _ => None,
    }
}

/// The one unknown of a relation on the real line: a variable, or a label such as `f(x)`.
fn lone_variable(a: &Answer) -> bool {
    matches!(a, Answer::Expr(e) if label_expr(e))
}

/// The answer as a union of intervals of the real line, when it is one: an interval, a
/// union, a set of numbers, or a relation on one variable (`x \le 5`, `-1 < x \le 3`,
/// `x \ne 2`, `x \in [2, 5]`).
fn intervals(a: &Answer, depth: usize) -> Option<Vec<Interval>> {
    if depth > MAX_NESTING {
        return None;
    }
    match a {
        Answer::Bracketed { open, close, items } if items.len() == 2 && *open != '⟨' => {
            let (Answer::Expr(low), Answer::Expr(high)) = (&items[0], &items[1]) else {
                return None;
            };
            Some(vec![interval(
                low.clone(),
                *open == '[',
                high.clone(),
                *close == ']',
            )])
        }
        Answer::Union(parts) => {
            let mut all = Vec::new();
            for part in parts {
                all.extend(intervals(part, depth + 1)?);
            }
            Some(all)
        }
        Answer::Reals => Some(vec![interval(infinity(-1), false, infinity(1), false)]),
        Answer::EmptySet => Some(Vec::new()),
        Answer::Set(items) => items
            .iter()
            .map(|i| is_constant(i).map(|e| interval(e.clone(), true, e.clone(), true)))
            .collect(),
        Answer::Relation { sides, ops } => {
            if ops == &[RelOp::In] && lone_variable(&sides[0]) {
                return intervals(&sides[1], depth + 1);
            }
            if ops == &[RelOp::Ne] {
                let value = match (&sides[0], &sides[1]) {
                    (v, c) | (c, v) if lone_variable(v) && is_constant(c).is_some() => {
                        is_constant(c)?
                    }
                    _ => return None,
                };
                return Some(vec![
                    interval(infinity(-1), false, value.clone(), false),
                    interval(value.clone(), false, infinity(1), false),
                ]);
            }
            if !ops.iter().all(|o| is_inequality(*o)) {
                return None;
            }
            let (sides, ops) = ascending(sides, ops);
            if ops.iter().any(|o| !matches!(o, RelOp::Lt | RelOp::Le)) {
                return None;
            }
            let variable = sides.iter().position(lone_variable)?;
            if sides
                .iter()
                .enumerate()
                .any(|(i, s)| i != variable && is_constant(s).is_none())
            {
                return None;
            }
            let (low, low_closed) = if variable == 0 {
                (infinity(-1), false)
            } else {
                (
                    is_constant(&sides[variable - 1])?.clone(),
                    ops[variable - 1] == RelOp::Le,
                )
            };
            let (high, high_closed) = if variable + 1 == sides.len() {
                (infinity(1), false)
            } else {
                (
                    is_constant(&sides[variable + 1])?.clone(),
                    ops[variable] == RelOp::Le,
                )
            };
            (sides.len() <= 3).then(|| vec![interval(low, low_closed, high, high_closed)])
        }
        _ => None,
    }
}

fn ends_equal(a: &End, b: &End) -> bool {
    // An infinite end is open whatever bracket it was written with.
    let infinite = a.value.infinity_sign().is_some();
    (a.closed == b.closed || infinite) && scalar_equal(&a.value, &b.value)
}

fn intervals_equal(t: &Answer, c: &Answer, depth: usize) -> bool {
    let (Some(a), Some(b)) = (intervals(t, depth), intervals(c, depth)) else {
        return false;
    };
    if a.len() != b.len() || a.len() > MAX_ITEMS {
        return false;
    }
    let mut used = vec![false; b.len()];
    a.iter().all(|x| {
        let found = (0..b.len()).find(|&j| {
            !used[j] && ends_equal(&x.low, &b[j].low) && ends_equal(&x.high, &b[j].high)
        });
        found.map(|j| used[j] = true).is_some()
    })
}

// ---- `\pm` and labels ----

/// `\pm` written out as its values; one-item lists as their item.
fn expand(a: &Answer) -> Answer {
    match a {
        Answer::Expr(e) if e.has_plus_minus() => match plus_minus_values(e) {
            Some(values) if values.len() > 1 => {
                Answer::List(values.into_iter().map(Answer::Expr).collect())
            }
            Some(mut values) if values.len() == 1 => {
                Answer::Expr(values.pop().unwrap_or_else(|| e.clone()))
            }
            _ => a.clone(),
        },
        Answer::List(items) | Answer::Set(items) => {
            let mut flat = Vec::new();
            for item in items {
                // The two values of a `\pm` item join the list; nested lists stay groups.
                match (item, expand(item)) {
                    (Answer::Expr(_), Answer::List(inner)) => flat.extend(inner),
                    (_, other) => flat.push(other),
                }
            }
            match a {
                Answer::Set(_) => Answer::Set(flat),
                _ if flat.len() == 1 => flat.pop().unwrap_or(Answer::EmptySet),
                _ => Answer::List(flat),
            }
        }
        Answer::Bracketed { open, close, items } => Answer::Bracketed {
            open: *open,
            close: *close,
            items: items.iter().map(expand).collect(),
        },
        Answer::Relation { sides, ops } => Answer::Relation {
            sides: sides.iter().map(expand).collect(),
            ops: ops.clone(),
        },
        other => other.clone(),
    }
}

/// The values of an expression with `\pm` (at most [`MAX_VARIANTS`]).
fn plus_minus_values(e: &Expr) -> Option<Vec<Expr>> {
    let boxed = |e: Expr| Box::new(e);
    let values: Vec<Expr> = match e {
        Expr::PlusMinus(left, right) => {
            let left = left.as_deref().cloned().unwrap_or_else(|| Expr::integer(0));
            combinations(&[left, (**right).clone()])?
                .into_iter()
                .flat_map(|pair| {
                    let [l, r] = two(pair);
                    [
                        Expr::Sum(vec![l.clone(), r.clone()]),
                        Expr::Sum(vec![l, Expr::Neg(boxed(r))]),
                    ]
                })
                .collect()
        }
        Expr::Sum(items) => combinations(items)?.into_iter().map(Expr::Sum).collect(),
        Expr::Product(items) => combinations(items)?
            .into_iter()
            .map(Expr::Product)
            .collect(),
        Expr::Apply(f, items) => combinations(items)?
            .into_iter()
            .map(|v| Expr::Apply(*f, v))
            .collect(),
        Expr::Neg(inner) => plus_minus_values(inner)?
            .into_iter()
            .map(|v| Expr::Neg(boxed(v)))
            .collect(),
        Expr::Quotient(a, b) | Expr::Power(a, b) => combinations(&[(**a).clone(), (**b).clone()])?
            .into_iter()
            .map(|pair| {
                let [x, y] = two(pair);
                match e {
                    Expr::Quotient(..) => Expr::Quotient(boxed(x), boxed(y)),
                    _ => Expr::Power(boxed(x), boxed(y)),
                }
            })
            .collect(),
        leaf => vec![leaf.clone()],
    };
    (values.len() <= MAX_VARIANTS).then_some(values)
}

/// Every choice of one value per part (each part's `\pm` values), at most [`MAX_VARIANTS`].
fn combinations(parts: &[Expr]) -> Option<Vec<Vec<Expr>>> {
    let mut combos: Vec<Vec<Expr>> = vec![Vec::new()];
    for part in parts {
        let options = plus_minus_values(part)?;
        combos = combos
            .iter()
            .flat_map(|combo| {
                options.iter().map(move |option| {
                    let mut next = combo.clone();
                    next.push(option.clone());
                    next
                })
            })
            .collect();
        if combos.len() > MAX_VARIANTS {
            return None;
        }
    }
    Some(combos)
}

/// The two items of a pair built by [`combinations`] of two parts.
fn two(pair: Vec<Expr>) -> [Expr; 2] {
    let mut items = pair.into_iter();
    let first = items.next().unwrap_or_else(|| Expr::integer(0));
    let second = items.next().unwrap_or_else(|| Expr::integer(0));
    [first, second]
}

/// Whether an answer names something rather than gives a value: a variable (`x`, `a_{37}`,
/// `\theta`), letters (`AB`, `f(x)`), a quotient or ratio of those, or a tuple of them.
fn is_label(a: &Answer) -> bool {
    match a {
        Answer::Expr(e) => label_expr(e),
        Answer::Bracketed {
            open: '(',
            close: ')',
            items,
        }
        | Answer::Tuple(items)
        | Answer::Ratio(items) => items.iter().all(is_label),
        _ => false,
    }
}

fn label_expr(e: &Expr) -> bool {
    match e {
        Expr::Symbol(_) => true,
        Expr::Apply(super::expr::Function::Abs, args) => args.iter().all(label_expr),
        Expr::Product(factors) => factors.iter().all(|f| matches!(f, Expr::Symbol(_))),
        Expr::Quotient(a, b) => label_expr(a) && label_expr(b),
        _ => false,
    }
}

/// The side a chain of equalities gives as the value: after a label, the last side joined to
/// it by `=` (`x = 5 + 6 = 11` is 11; `x = \frac13 \approx 0.33` is 1/3), or the last side of
/// an approximation (`x \approx 11`).
fn value_side(sides: &[Answer], ops: &[RelOp]) -> Option<usize> {
    if !ops.iter().all(|o| matches!(o, RelOp::Eq | RelOp::Approx)) {
        return None;
    }
    if !is_label(&sides[0]) && sides.len() < 3 {
        return None;
    }
    if ops[0] == RelOp::Approx {
        return Some(sides.len() - 1);
    }
    Some(ops.iter().take_while(|o| **o == RelOp::Eq).count())
}

/// The answer with labels dropped: the values it gives.
fn values(a: &Answer) -> Answer {
    match a {
        Answer::Relation { sides, ops } => {
            if ops == &[RelOp::In] && is_label(&sides[0]) {
                return values(&sides[1]);
            }
            match value_side(sides, ops) {
                Some(i) => values(&sides[i]),
                None => a.clone(),
            }
        }
        Answer::List(items) => {
            let labels: Vec<String> = items
                .iter()
                .filter_map(|i| match i {
                    Answer::Relation { sides, ops }
                        if value_side(sides, ops).is_some() && is_label(&sides[0]) =>
                    {
                        Some(sides[0].to_string())
                    }
                    _ => None,
                })
                .collect();
            let mut unique = labels.clone();
            unique.sort();
            unique.dedup();
            let mapped = items.iter().map(values).collect();
            // `p = 5, q = 2` gives the values of (p, q) in order; `x = 1, x = 2` two solutions.
            if labels.len() == items.len() && unique.len() == labels.len() {
                Answer::Tuple(mapped)
            } else {
                Answer::List(mapped)
            }
        }
        Answer::Set(items) => Answer::Set(items.iter().map(values).collect()),
        Answer::Bracketed { open, close, items } => Answer::Bracketed {
            open: *open,
            close: *close,
            items: items.iter().map(values).collect(),
        },
        other => other.clone(),
    }
}
