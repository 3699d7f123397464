//! Values of expressions: exact rationals where the arithmetic allows, otherwise complex
//! floating point at given values of the variables. Both are bounded: exponents, factorials
//! and results beyond what a double can hold give `None` instead of work without end.

use super::expr::{Constant, Expr, Function};
use super::rational::Rational;

/// The largest integer whose factorial is computed (171! overflows a double).
const MAX_FACTORIAL: f64 = 170.0;

/// A complex number in floating point.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Complex {
    /// Real part.
    pub re: f64,
    /// Imaginary part.
    pub im: f64,
}

impl Complex {
    /// A real number.
    pub fn real(re: f64) -> Complex {
        Complex { re, im: 0.0 }
    }

    /// The modulus.
    pub fn abs(self) -> f64 {
        self.re.hypot(self.im)
    }

    fn is_finite(self) -> bool {
        self.re.is_finite() && self.im.is_finite()
    }

    fn add(self, o: Complex) -> Complex {
        Complex {
            re: self.re + o.re,
            im: self.im + o.im,
        }
    }

    /// `self - o`.
    pub fn sub(self, o: Complex) -> Complex {
        Complex {
            re: self.re - o.re,
            im: self.im - o.im,
        }
    }

    fn mul(self, o: Complex) -> Complex {
        Complex {
            re: self.re * o.re - self.im * o.im,
            im: self.re * o.im + self.im * o.re,
        }
    }

    /// `self / o`; `None` when `o` is 0.
    pub fn div(self, o: Complex) -> Option<Complex> {
        let d = o.re * o.re + o.im * o.im;
        (d != 0.0).then(|| Complex {
            re: (self.re * o.re + self.im * o.im) / d,
            im: (self.im * o.re - self.re * o.im) / d,
        })
    }

    fn exp(self) -> Complex {
        let m = self.re.exp();
        Complex {
            re: m * self.im.cos(),
            im: m * self.im.sin(),
        }
    }

    /// The principal logarithm; `None` at 0.
    fn ln(self) -> Option<Complex> {
        let m = self.abs();
        (m != 0.0).then(|| Complex {
            re: m.ln(),
            im: self.im.atan2(self.re),
        })
    }

    fn powi(self, n: i64) -> Option<Complex> {
        if n < 0 {
            return Complex::real(1.0).div(self.powi(-n)?);
        }
        let mut result = Complex::real(1.0);
        let mut base = self;
        let mut e = n;
        while e > 0 {
            if e & 1 == 1 {
                result = result.mul(base);
            }
            base = base.mul(base);
            e >>= 1;
        }
        Some(result)
    }

    fn pow(self, e: Complex) -> Option<Complex> {
        if e.im == 0.0 && e.re.fract() == 0.0 && e.re.abs() <= 1024.0 {
            return self.powi(e.re as i64);
        }
        if self.im == 0.0 && e.im == 0.0 {
            // A real odd root of a negative number is the real root (`\sqrt[3]{-8} = -2`).
            let reciprocal = 1.0 / e.re;
            if self.re < 0.0 && reciprocal.fract() == 0.0 && (reciprocal as i64) % 2 != 0 {
                return Some(Complex::real(-(-self.re).powf(e.re)));
            }
            if self.re >= 0.0 {
                return Some(Complex::real(self.re.powf(e.re)));
            }
        }
        if self.re == 0.0 && self.im == 0.0 {
            return (e.re > 0.0).then_some(Complex::real(0.0));
        }
        Some(e.mul(self.ln()?).exp())
    }

    fn real_only(self) -> Option<f64> {
        (self.im.abs() <= 1e-12 * self.re.abs().max(1.0)).then_some(self.re)
    }
}

/// The exact rational value of an expression without variables, when it has one and it fits.
pub fn exact(e: &Expr) -> Option<Rational> {
    exact_at(e, &|_| None)
}

/// The exact rational value at rational values of the variables (`lookup`), when it has one.
pub fn exact_at(e: &Expr, lookup: &dyn Fn(&str) -> Option<Rational>) -> Option<Rational> {
    let exact = |e: &Expr| exact_at(e, lookup);
    match e {
        Expr::Number(n) => n.exact,
        Expr::Sum(terms) => terms
            .iter()
            .try_fold(Rational::integer(0), |acc, t| acc.add(exact(t)?)),
        Expr::Product(factors) => factors
            .iter()
            .try_fold(Rational::integer(1), |acc, f| acc.mul(exact(f)?)),
        Expr::Neg(inner) => exact(inner)?.neg(),
        Expr::Quotient(a, b) => exact(a)?.div(exact(b)?),
        Expr::Power(base, exponent) => {
            let b = exact(base)?;
            let p = exact(exponent)?;
            if p.is_integer() {
                return b.pow(p.numer());
            }
            // A rational power m/n: the n-th root, exactly or not at all.
            let n = u32::try_from(p.denom()).ok().filter(|n| *n <= 64)?;
            b.root(n)?.pow(p.numer())
        }
        Expr::Apply(Function::Abs, args) => {
            let v = exact(args.first()?)?;
            if v.numer() < 0 {
                v.neg()
            } else {
                Some(v)
            }
        }
        Expr::Apply(Function::Factorial, args) => {
            let n = exact(args.first()?)?;
            if !n.is_integer() || n.numer() < 0 || n.numer() > 40 {
                return None;
            }
            (1..=n.numer()).try_fold(Rational::integer(1), |acc, k| acc.mul(Rational::integer(k)))
        }
        Expr::Apply(Function::Binomial, args) => {
            let n = exact(args.first()?)?;
            let k = exact(args.get(1)?)?;
            if !n.is_integer() || !k.is_integer() || k.numer() < 0 || n.numer() < 0 {
                return None;
            }
            let (n, k) = (n.numer(), k.numer());
            if k > n {
                return Some(Rational::integer(0));
            }
            let k = k.min(n - k);
            if k > 200 {
                return None;
            }
            (0..k).try_fold(Rational::integer(1), |acc, j| {
                acc.mul(Rational::integer(n - j))?
                    .div(Rational::integer(j + 1))
            })
        }
        Expr::Apply(Function::Floor | Function::Ceil, args) => {
            let v = exact(args.first()?)?;
            let floor = v.numer().div_euclid(v.denom());
            let ceil = if v.is_integer() { floor } else { floor + 1 };
            Some(Rational::integer(
                if matches!(e, Expr::Apply(Function::Floor, _)) {
                    floor
                } else {
                    ceil
                },
            ))
        }
        Expr::Apply(Function::LogBase, args) => {
            // log_b(x) is rational when x is an integer power of b (log_2 8 = 3).
            let b = exact(args.first()?)?;
            let x = exact(args.get(1)?)?;
            exact_log(b, x)
        }
        Expr::BaseNumber { digits, base } => {
            let value = i128::from_str_radix(digits, *base).ok()?;
            Some(Rational::integer(value))
        }
        Expr::Symbol(name) => lookup(name),
        Expr::Constant(_) | Expr::Apply(..) | Expr::PlusMinus(..) => None,
    }
}

fn exact_log(base: Rational, x: Rational) -> Option<Rational> {
    if !base.is_integer() || base.numer() < 2 || x.numer() <= 0 {
        return None;
    }
    let (mut value, mut sign) = (x, 1);
    if value.numer() < value.denom() {
        value = Rational::integer(1).div(value)?;
        sign = -1;
    }
    let mut exponent = 0;
    while !value.is_zero() && value != Rational::integer(1) {
        if !value.is_integer() || value.numer() % base.numer() != 0 {
            return None;
        }
        value = Rational::integer(value.numer() / base.numer());
        exponent += 1;
    }
    Some(Rational::integer(sign * exponent))
}

/// The value at the given values of the variables (`lookup`), in complex floating point;
/// `None` where the expression is undefined, infinite or too large.
pub fn numeric(e: &Expr, lookup: &dyn Fn(&str) -> Option<Complex>) -> Option<Complex> {
    let value = match e {
        Expr::Number(n) => Complex::real(n.approx),
        Expr::Symbol(name) => lookup(name)?,
        Expr::Constant(Constant::Pi) => Complex::real(std::f64::consts::PI),
        Expr::Constant(Constant::E) => Complex::real(std::f64::consts::E),
        Expr::Constant(Constant::I) => Complex { re: 0.0, im: 1.0 },
        Expr::Constant(Constant::Infinity) | Expr::PlusMinus(..) => return None,
        Expr::Sum(terms) => terms.iter().try_fold(Complex::real(0.0), |acc, t| {
            Some(acc.add(numeric(t, lookup)?))
        })?,
        Expr::Product(factors) => factors.iter().try_fold(Complex::real(1.0), |acc, f| {
            Some(acc.mul(numeric(f, lookup)?))
        })?,
        Expr::Neg(inner) => Complex::real(0.0).sub(numeric(inner, lookup)?),
        Expr::Quotient(a, b) => numeric(a, lookup)?.div(numeric(b, lookup)?)?,
        Expr::Power(base, exponent) => {
            // An exact integer exponent keeps a negative base real: (-2)^3 = -8.
            let p = match exact(exponent) {
                Some(r) => Complex::real(r.to_f64()),
                None => numeric(exponent, lookup)?,
            };
            if p.abs() > 1e6 {
                return None;
            }
            numeric(base, lookup)?.pow(p)?
        }
        Expr::Apply(function, args) => apply(*function, args, lookup)?,
        Expr::BaseNumber { .. } => Complex::real(exact(e)?.to_f64()),
    };
    value.is_finite().then_some(value)
}

fn apply(
    function: Function,
    args: &[Expr],
    lookup: &dyn Fn(&str) -> Option<Complex>,
) -> Option<Complex> {
    let x = numeric(args.first()?, lookup)?;
    let i = Complex { re: 0.0, im: 1.0 };
    let real = |f: fn(f64) -> f64| x.real_only().map(|r| Complex::real(f(r)));
    Some(match function {
        Function::Sin => {
            // sin z = (e^{iz} - e^{-iz}) / 2i
            let a = i.mul(x).exp();
            let b = Complex::real(0.0).sub(i.mul(x)).exp();
            a.sub(b).div(Complex { re: 0.0, im: 2.0 })?
        }
        Function::Cos => {
            let a = i.mul(x).exp();
            let b = Complex::real(0.0).sub(i.mul(x)).exp();
            let sum = a.add(b);
            Complex {
                re: sum.re / 2.0,
                im: sum.im / 2.0,
            }
        }
        Function::Tan => {
            apply(Function::Sin, args, lookup)?.div(apply(Function::Cos, args, lookup)?)?
        }
        Function::Cot => {
            apply(Function::Cos, args, lookup)?.div(apply(Function::Sin, args, lookup)?)?
        }
        Function::Sec => Complex::real(1.0).div(apply(Function::Cos, args, lookup)?)?,
        Function::Csc => Complex::real(1.0).div(apply(Function::Sin, args, lookup)?)?,
        Function::Arcsin => real(f64::asin)?,
        Function::Arccos => real(f64::acos)?,
        Function::Arctan => real(f64::atan)?,
        Function::Sinh => real(f64::sinh)?,
        Function::Cosh => real(f64::cosh)?,
        Function::Tanh => real(f64::tanh)?,
        Function::Ln => x.ln()?,
        Function::Log => x.ln()?.div(Complex::real(std::f64::consts::LN_10))?,
        Function::LogBase => {
            let argument = numeric(args.get(1)?, lookup)?;
            argument.ln()?.div(x.ln()?)?
        }
        Function::Exp => x.exp(),
        Function::Abs => Complex::real(x.abs()),
        Function::Floor => real(f64::floor)?,
        Function::Ceil => real(f64::ceil)?,
        Function::Factorial => {
            let n = x.real_only()?;
            if n < 0.0 || n.fract() != 0.0 || n > MAX_FACTORIAL {
                return None;
            }
            Complex::real((1..=n as u64).map(|k| k as f64).product())
        }
        Function::Binomial => {
            let n = x.real_only()?;
            let k = numeric(args.get(1)?, lookup)?.real_only()?;
            if k.fract() != 0.0 || !(0.0..=MAX_FACTORIAL).contains(&k) {
                return None;
            }
            Complex::real((0..k as u64).fold(1.0, |acc, j| acc * (n - j as f64) / (j as f64 + 1.0)))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::super::expr::Number;
    use super::*;

    fn n(v: i128) -> Expr {
        Expr::Number(Number::integer(v))
    }

    #[test]
    fn exact_values_of_rational_expressions() {
        let half = Expr::Quotient(Box::new(n(1)), Box::new(n(2)));
        assert_eq!(exact(&half), Rational::new(1, 2));
        let sqrt4 = Expr::Power(Box::new(n(4)), Box::new(half.clone()));
        assert_eq!(exact(&sqrt4), Some(Rational::integer(2)));
        let sqrt8 = Expr::Power(Box::new(n(8)), Box::new(half));
        assert_eq!(exact(&sqrt8), None);
        let log = Expr::Apply(Function::LogBase, vec![n(2), n(8)]);
        assert_eq!(exact(&log), Some(Rational::integer(3)));
    }

    #[test]
    fn huge_powers_and_factorials_are_refused_not_computed() {
        let tower = Expr::Power(
            Box::new(n(10)),
            Box::new(Expr::Power(Box::new(n(10)), Box::new(n(10)))),
        );
        assert_eq!(exact(&tower), None);
        assert_eq!(numeric(&tower, &|_| None), None);
        let factorial = Expr::Apply(
            Function::Factorial,
            vec![Expr::Power(Box::new(n(10)), Box::new(n(10)))],
        );
        assert_eq!(exact(&factorial), None);
        assert_eq!(numeric(&factorial, &|_| None), None);
    }
}
