//! Exact rational numbers on `i128`, with every operation checked: an overflow gives `None` and
//! the caller falls back to floating point, so huge numbers (`10^{10^{10}}`) cost nothing.

use std::cmp::Ordering;

/// The largest exponent [`Rational::pow`] computes exactly; beyond it the result could not fit
/// an `i128` anyway unless the base is 0 or ±1.
const MAX_EXACT_EXPONENT: u32 = 128;

/// A reduced fraction `num / den` with `den > 0`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Rational {
    num: i128,
    den: i128,
}

fn gcd(mut a: i128, mut b: i128) -> i128 {
    a = a.abs();
    b = b.abs();
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

impl Rational {
    /// `num / den` reduced; `None` when `den` is 0 or the sign cannot be normalised.
    pub fn new(num: i128, den: i128) -> Option<Rational> {
        if den == 0 || num == i128::MIN || den == i128::MIN {
            return None;
        }
        let g = gcd(num, den).max(1);
        let sign = if den < 0 { -1 } else { 1 };
        Some(Rational {
            num: sign * num / g,
            den: sign * den / g,
        })
    }

    /// The integer `n`.
    pub fn integer(n: i128) -> Rational {
        Rational { num: n, den: 1 }
    }

    /// The numerator (carries the sign).
    pub fn numer(self) -> i128 {
        self.num
    }

    /// The denominator (positive).
    pub fn denom(self) -> i128 {
        self.den
    }

    /// Whether the value is an integer.
    pub fn is_integer(self) -> bool {
        self.den == 1
    }

    /// Whether the value is 0.
    pub fn is_zero(self) -> bool {
        self.num == 0
    }

    /// The nearest `f64`.
    pub fn to_f64(self) -> f64 {
        self.num as f64 / self.den as f64
    }

    /// The exact value of a decimal numeral `int.frac` (digits only; either part may be empty).
    pub fn from_decimal(int: &str, frac: &str) -> Option<Rational> {
        let digits = |s: &str| -> Option<i128> {
            if s.is_empty() {
                return Some(0);
            }
            if !s.bytes().all(|b| b.is_ascii_digit()) || s.len() > 38 {
                return None;
            }
            s.parse().ok()
        };
        let scale = 10i128.checked_pow(u32::try_from(frac.len()).ok()?)?;
        let whole = digits(int)?.checked_mul(scale)?;
        Rational::new(whole.checked_add(digits(frac)?)?, scale)
    }

    /// `-self`.
    pub fn neg(self) -> Option<Rational> {
        Some(Rational {
            num: self.num.checked_neg()?,
            den: self.den,
        })
    }

    /// `self + other`.
    pub fn add(self, other: Rational) -> Option<Rational> {
        let g = gcd(self.den, other.den).max(1);
        let left = self.num.checked_mul(other.den / g)?;
        let right = other.num.checked_mul(self.den / g)?;
        Rational::new(
            left.checked_add(right)?,
            (self.den / g).checked_mul(other.den)?,
        )
    }

    /// `self - other`.
    pub fn sub(self, other: Rational) -> Option<Rational> {
        self.add(other.neg()?)
    }

    /// `self × other`.
    pub fn mul(self, other: Rational) -> Option<Rational> {
        // Cross-reduce first so that products of reduced fractions overflow as late as possible.
        let g1 = gcd(self.num, other.den).max(1);
        let g2 = gcd(other.num, self.den).max(1);
        Rational::new(
            (self.num / g1).checked_mul(other.num / g2)?,
            (self.den / g2).checked_mul(other.den / g1)?,
        )
    }

    /// `self ÷ other`; `None` for division by 0.
    pub fn div(self, other: Rational) -> Option<Rational> {
        if other.num == 0 {
            return None;
        }
        self.mul(Rational::new(other.den, other.num)?)
    }

    /// `self^exp` for an integer exponent; `None` on overflow, for 0 to a negative power, and
    /// for exponents beyond what could fit.
    pub fn pow(self, exp: i128) -> Option<Rational> {
        if matches!(self.num, 0 | 1) && self.den == 1 && exp >= 0 {
            return Some(if exp == 0 { Rational::integer(1) } else { self });
        }
        if self.num == -1 && self.den == 1 {
            return Some(if exp % 2 == 0 {
                Rational::integer(1)
            } else {
                self
            });
        }
        let magnitude = u32::try_from(exp.unsigned_abs()).ok()?;
        if magnitude > MAX_EXACT_EXPONENT {
            return None;
        }
        let num = self.num.checked_pow(magnitude)?;
        let den = self.den.checked_pow(magnitude)?;
        if exp >= 0 {
            Rational::new(num, den)
        } else {
            Rational::new(den, num)
        }
    }

    /// The exact `n`-th root when numerator and denominator are perfect `n`-th powers.
    pub fn root(self, n: u32) -> Option<Rational> {
        if n == 0 {
            return None;
        }
        if n == 1 {
            return Some(self);
        }
        let negative = self.num < 0;
        if negative && n.is_multiple_of(2) {
            return None;
        }
        let num = integer_root(self.num.unsigned_abs(), n)?;
        let den = integer_root(self.den.unsigned_abs(), n)?;
        let num = i128::try_from(num).ok()?;
        let den = i128::try_from(den).ok()?;
        Rational::new(if negative { -num } else { num }, den)
    }

    /// Compares two values exactly, or `None` when the cross products overflow.
    pub fn checked_cmp(self, other: Rational) -> Option<Ordering> {
        let left = self.num.checked_mul(other.den)?;
        let right = other.num.checked_mul(self.den)?;
        Some(left.cmp(&right))
    }
}

/// The exact integer `n`-th root of `value`, if it has one.
fn integer_root(value: u128, n: u32) -> Option<u128> {
    if value < 2 {
        return Some(value);
    }
    let guess = (value as f64).powf(1.0 / f64::from(n)).round() as u128;
    // The float guess is within one of the root for every u128; check the neighbours exactly.
    (guess.saturating_sub(1)..=guess + 1).find(|r| r.checked_pow(n) == Some(value))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(n: i128, d: i128) -> Rational {
        Rational::new(n, d).unwrap()
    }

    #[test]
    fn arithmetic_is_exact_and_reduced() {
        assert_eq!(r(1, 3).add(r(1, 6)), Some(r(1, 2)));
        assert_eq!(r(2, 4), r(1, 2));
        assert_eq!(r(1, -2), r(-1, 2));
        assert_eq!(r(3, 4).mul(r(8, 9)), Some(r(2, 3)));
        assert_eq!(r(1, 2).div(r(0, 1)), None);
        assert_eq!(r(2, 3).pow(-2), Some(r(9, 4)));
        assert_eq!(r(9, 4).root(2), Some(r(3, 2)));
        assert_eq!(r(-27, 8).root(3), Some(r(-3, 2)));
        assert_eq!(r(8, 1).root(2), None);
        assert_eq!(Rational::from_decimal("18", "90"), Some(r(189, 10)));
        assert_eq!(Rational::from_decimal("", "5"), Some(r(1, 2)));
    }

    #[test]
    fn overflow_is_none_not_a_wrong_value() {
        let big = Rational::integer(i128::MAX / 2);
        assert_eq!(big.mul(Rational::integer(3)), None);
        assert_eq!(Rational::integer(10).pow(10_000_000_000), None);
        assert_eq!(Rational::integer(10).pow(39), None);
        assert_eq!(
            Rational::integer(1).pow(10_000_000_000),
            Some(Rational::integer(1))
        );
        assert_eq!(Rational::from_decimal(&"9".repeat(50), ""), None);
    }
}
