//! The expression tree of one mathematical value, as the parser builds it from LaTeX, and its
//! canonical LaTeX form (what [`super::normalize_answer`] shows).

use std::collections::BTreeSet;
use std::fmt;

use super::rational::Rational;

/// A numeral as written: its exact value when it fits, and how many decimals it was written
/// with (`None` for an integer numeral), which decides how precisely it may be compared.
#[derive(Debug, Clone, PartialEq)]
pub struct Number {
    /// The exact value; `None` when the numeral does not fit an `i128` fraction.
    pub exact: Option<Rational>,
    /// The value as a float, always present.
    pub approx: f64,
    /// Digits after the decimal point, when there is one.
    pub decimals: Option<u32>,
}

impl Number {
    /// The numeral `int.frac` (`frac` is `None` without a decimal point).
    pub fn parse(int: &str, frac: Option<&str>) -> Option<Number> {
        let text = match frac {
            Some(f) => format!("{}.{f}", if int.is_empty() { "0" } else { int }),
            None => int.to_string(),
        };
        Some(Number {
            exact: Rational::from_decimal(int, frac.unwrap_or("")),
            approx: text.parse().ok()?,
            decimals: frac.map(|f| f.len() as u32),
        })
    }

    /// An exact integer.
    pub fn integer(n: i128) -> Number {
        Number {
            exact: Some(Rational::integer(n)),
            approx: n as f64,
            decimals: None,
        }
    }
}

/// Named constants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Constant {
    /// π.
    Pi,
    /// Euler's number.
    E,
    /// The imaginary unit.
    I,
    /// ∞ (its sign comes from a surrounding negation).
    Infinity,
}

/// Functions the parser knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum Function {
    Sin,
    Cos,
    Tan,
    Cot,
    Sec,
    Csc,
    Arcsin,
    Arccos,
    Arctan,
    Sinh,
    Cosh,
    Tanh,
    /// Natural logarithm.
    Ln,
    /// `\log x`: base 10, as in MATH's problems; `\log_b x` is [`Function::LogBase`].
    Log,
    /// `\log_b x`, arguments `[b, x]`.
    LogBase,
    Exp,
    Abs,
    Floor,
    Ceil,
    Factorial,
    /// `\binom{n}{k}`, arguments `[n, k]`.
    Binomial,
}

impl Function {
    /// The function a LaTeX command or plain word names.
    pub fn named(name: &str) -> Option<Function> {
        Some(match name {
            "sin" => Function::Sin,
            "cos" => Function::Cos,
            "tan" | "tg" => Function::Tan,
            "cot" | "ctg" => Function::Cot,
            "sec" => Function::Sec,
            "csc" | "cosec" => Function::Csc,
            "arcsin" | "asin" => Function::Arcsin,
            "arccos" | "acos" => Function::Arccos,
            "arctan" | "atan" => Function::Arctan,
            "sinh" => Function::Sinh,
            "cosh" => Function::Cosh,
            "tanh" => Function::Tanh,
            "ln" => Function::Ln,
            "log" | "lg" => Function::Log,
            "exp" => Function::Exp,
            _ => return None,
        })
    }

    fn latex(self) -> &'static str {
        match self {
            Function::Sin => "\\sin",
            Function::Cos => "\\cos",
            Function::Tan => "\\tan",
            Function::Cot => "\\cot",
            Function::Sec => "\\sec",
            Function::Csc => "\\csc",
            Function::Arcsin => "\\arcsin",
            Function::Arccos => "\\arccos",
            Function::Arctan => "\\arctan",
            Function::Sinh => "\\sinh",
            Function::Cosh => "\\cosh",
            Function::Tanh => "\\tanh",
            Function::Ln => "\\ln",
            Function::Log | Function::LogBase => "\\log",
            Function::Exp => "\\exp",
            Function::Abs | Function::Floor | Function::Ceil => "",
            Function::Factorial => "!",
            Function::Binomial => "\\binom",
        }
    }
}

/// One mathematical value.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// A numeral.
    Number(Number),
    /// A variable or a name (`x`, `x_1`, `\theta`, `AB`), in canonical spelling.
    Symbol(String),
    /// π, e, i or ∞.
    Constant(Constant),
    /// A sum of terms (a difference is a sum with a [`Expr::Neg`] term).
    Sum(Vec<Expr>),
    /// A product of factors.
    Product(Vec<Expr>),
    /// The negation.
    Neg(Box<Expr>),
    /// A quotient.
    Quotient(Box<Expr>, Box<Expr>),
    /// A power (roots are fractional powers).
    Power(Box<Expr>, Box<Expr>),
    /// A function applied to its arguments.
    Apply(Function, Vec<Expr>),
    /// `a \pm b`, or `\pm b` without a left side: two values, expanded before comparing.
    PlusMinus(Option<Box<Expr>>, Box<Expr>),
    /// A numeral in another base (`10111_2`), kept as its digits.
    BaseNumber {
        /// The digits as written, upper case.
        digits: String,
        /// The base, 2..=36.
        base: u32,
    },
}

impl Expr {
    /// The integer `n`.
    pub fn integer(n: i128) -> Expr {
        Expr::Number(Number::integer(n))
    }

    /// The names of the variables the expression uses.
    pub fn symbols(&self) -> BTreeSet<&str> {
        let mut out = BTreeSet::new();
        self.collect_symbols(&mut out);
        out
    }

    fn collect_symbols<'a>(&'a self, out: &mut BTreeSet<&'a str>) {
        match self {
            Expr::Symbol(name) => {
                out.insert(name);
            }
            Expr::Number(_) | Expr::Constant(_) | Expr::BaseNumber { .. } => {}
            Expr::Sum(items) | Expr::Product(items) | Expr::Apply(_, items) => {
                items.iter().for_each(|e| e.collect_symbols(out));
            }
            Expr::Neg(e) => e.collect_symbols(out),
            Expr::Quotient(a, b) | Expr::Power(a, b) => {
                a.collect_symbols(out);
                b.collect_symbols(out);
            }
            Expr::PlusMinus(a, b) => {
                if let Some(a) = a {
                    a.collect_symbols(out);
                }
                b.collect_symbols(out);
            }
        }
    }

    /// Whether the tree holds a `\pm`.
    pub fn has_plus_minus(&self) -> bool {
        match self {
            Expr::PlusMinus(..) => true,
            Expr::Number(_) | Expr::Symbol(_) | Expr::Constant(_) | Expr::BaseNumber { .. } => {
                false
            }
            Expr::Sum(items) | Expr::Product(items) | Expr::Apply(_, items) => {
                items.iter().any(Expr::has_plus_minus)
            }
            Expr::Neg(e) => e.has_plus_minus(),
            Expr::Quotient(a, b) | Expr::Power(a, b) => a.has_plus_minus() || b.has_plus_minus(),
        }
    }

    /// When the expression is a numeral written with a decimal point (possibly negated): how
    /// many decimals it has. Such an answer is an approximation unless shown otherwise.
    pub fn decimal_places(&self) -> Option<u32> {
        match self {
            Expr::Number(n) => n.decimals,
            Expr::Neg(inner) => inner.decimal_places(),
            _ => None,
        }
    }

    /// `+1` for ∞ and `-1` for −∞.
    pub fn infinity_sign(&self) -> Option<i8> {
        match self {
            Expr::Constant(Constant::Infinity) => Some(1),
            Expr::Neg(inner) => inner.infinity_sign().map(|s| -s),
            Expr::Sum(items) if items.len() == 1 => items[0].infinity_sign(),
            _ => None,
        }
    }
}

/// Writes `e` in parentheses when it is a sum, a negation or a `\pm`: the operand of a product
/// or a power must not run into its neighbours.
struct Operand<'a>(&'a Expr);

impl fmt::Display for Operand<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Expr::Sum(_) | Expr::Neg(_) | Expr::PlusMinus(..) | Expr::Product(_) => {
                write!(f, "({})", self.0)
            }
            Expr::Number(n) if n.approx < 0.0 => write!(f, "({})", self.0),
            other => write!(f, "{other}"),
        }
    }
}

impl fmt::Display for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.exact, self.decimals) {
            (Some(r), None) if r.is_integer() => write!(f, "{}", r.numer()),
            (_, Some(places)) => write!(f, "{:.*}", places as usize, self.approx),
            _ => write!(f, "{}", self.approx),
        }
    }
}

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expr::Number(n) => write!(f, "{n}"),
            Expr::Symbol(name) => write!(f, "{name}"),
            Expr::Constant(Constant::Pi) => write!(f, "\\pi"),
            Expr::Constant(Constant::E) => write!(f, "e"),
            Expr::Constant(Constant::I) => write!(f, "i"),
            Expr::Constant(Constant::Infinity) => write!(f, "\\infty"),
            Expr::Sum(terms) => {
                for (i, term) in terms.iter().enumerate() {
                    match (i, term) {
                        (0, t) => write!(f, "{t}")?,
                        (_, Expr::Neg(inner)) => write!(f, "-{}", NegOperand(inner))?,
                        (_, t) => write!(f, "+{t}")?,
                    }
                }
                Ok(())
            }
            Expr::Product(factors) => {
                for (i, factor) in factors.iter().enumerate() {
                    if i > 0 {
                        write!(f, "\\cdot ")?;
                    }
                    write!(f, "{}", Operand(factor))?;
                }
                Ok(())
            }
            Expr::Neg(inner) => write!(f, "-{}", NegOperand(inner)),
            Expr::Quotient(a, b) => write!(f, "\\frac{{{a}}}{{{b}}}"),
            Expr::Power(base, exp) => write!(f, "{}^{{{exp}}}", PowerBase(base)),
            Expr::Apply(func, args) => match (func, args.as_slice()) {
                (Function::Abs, [x]) => write!(f, "|{x}|"),
                (Function::Floor, [x]) => write!(f, "\\lfloor {x}\\rfloor"),
                (Function::Ceil, [x]) => write!(f, "\\lceil {x}\\rceil"),
                (Function::Factorial, [x]) => write!(f, "{}!", PowerBase(x)),
                (Function::Binomial, [n, k]) => write!(f, "\\binom{{{n}}}{{{k}}}"),
                (Function::LogBase, [b, x]) => write!(f, "\\log_{{{b}}}({x})"),
                (func, args) => {
                    write!(f, "{}(", func.latex())?;
                    for (i, a) in args.iter().enumerate() {
                        if i > 0 {
                            write!(f, ",")?;
                        }
                        write!(f, "{a}")?;
                    }
                    write!(f, ")")
                }
            },
            Expr::PlusMinus(Some(a), b) => write!(f, "{a}\\pm {}", NegOperand(b)),
            Expr::PlusMinus(None, b) => write!(f, "\\pm {}", NegOperand(b)),
            Expr::BaseNumber { digits, base } => write!(f, "{digits}_{{{base}}}"),
        }
    }
}

/// The operand after a minus sign: a sum or another sign needs parentheses.
struct NegOperand<'a>(&'a Expr);

impl fmt::Display for NegOperand<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Expr::Sum(_) | Expr::Neg(_) | Expr::PlusMinus(..) => write!(f, "({})", self.0),
            other => write!(f, "{other}"),
        }
    }
}

/// The base of a power: anything but a symbol, constant or non-negative integer is bracketed.
struct PowerBase<'a>(&'a Expr);

impl fmt::Display for PowerBase<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Expr::Symbol(_) | Expr::Constant(_) => write!(f, "{}", self.0),
            Expr::Number(n) if n.decimals.is_none() && n.approx >= 0.0 => write!(f, "{}", self.0),
            other => write!(f, "({other})"),
        }
    }
}
