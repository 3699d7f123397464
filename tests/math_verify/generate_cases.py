#!/usr/bin/env python3
r"""Writes tests/fixtures/answers/differential/cases.jsonl: graded cases in the shapes of
MATH-500's answers, each with the verdict a careful human grader gives it.

The verdict of each template is written here, with its reason, before either checker
(Trialogue's or math-verify) has seen the case; the generator only fills in numbers (seeded,
so the file is reproducible) and wraps the answer in one of the endings models write. A verdict
of None marks a case on which careful graders disagree (an unreduced fraction, a radian answer to
a degree question, ...): it is kept in the file and counted apart from the clear ones.

The grading conventions are MATH-500's as its grader applies them (openai/prm800k,
prm800k/grading/grader.py: units, degrees, "\%", "\$" and "\text{}" are dropped, "and"/"or"
separate answers, properly formatted thousands commas are removed, text answers are
case-insensitive, a decimal equals a fraction only when the values are equal), and issue 17's
where it asks for more (equivalent expressions match, a hedge is wrong, the answer after
"The final answer is" wins over an earlier box).

    python3 tests/math_verify/generate_cases.py
"""

import json
import random
from fractions import Fraction
from math import gcd
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "fixtures/answers/differential/cases.jsonl"
SEED = 17

PREAMBLES = [
    r"We work through the problem step by step. First note that $2 + 3 = 5$ and that $4 \cdot 6 = 24$.",
    r"Let $n$ be the unknown. Setting up the equation $3n - 7 = 11$ gives a first relation, and we continue from there.",
    r"Consider the expression carefully. Expanding and collecting terms, the computation reduces to a few lines.",
    r"By the symmetry of the figure, the two halves are congruent, so it is enough to compute one of them and double it.",
]

# How models end a MATH solution. {a} is the answer's LaTeX.
ENDINGS = [
    ("boxed", r"Therefore, the answer is $\boxed{{{a}}}$."),
    ("boxed_display", "Putting it together,\n\\[\n\\boxed{{{a}}}\n\\]"),
    ("final_answer_line", r"Final Answer: The final answer is ${a}$. I hope it is correct."),
    ("final_answer_heading", "**Final Answer**\n\\[\n\\boxed{{{a}}}\n\\]"),
    ("think_then_box", "<think>\nChecking once more, the computation holds.\n</think>\n\nThe result is $\\boxed{{{a}}}$."),
]


def frac(p, q):
    return rf"\frac{{{p}}}{{{q}}}"


def terminating_decimal(f: Fraction):
    """The exact decimal of a fraction whose denominator has only the primes 2 and 5."""
    q = f.denominator
    for p in (2, 5):
        while q % p == 0:
            q //= p
    if q != 1:
        return None
    places = 0
    while (f * 10**places).denominator != 1:
        places += 1
    return f"{float(f):.{places}f}"


def squarefree(n):
    return all(n % (p * p) for p in range(2, int(n**0.5) + 1))


class Cases:
    def __init__(self):
        self.rows = []
        self.rng = random.Random(SEED)

    def add(self, shape, truth, answer, intended, why, ending=None, solution=None):
        if solution is None:
            name, template = ending or self.rng.choice(ENDINGS)
            solution = self.rng.choice(PREAMBLES) + "\n\n" + template.format(a=answer)
        else:
            name = ending or "custom"
        self.rows.append(
            {
                "id": f"{shape}-{len([r for r in self.rows if r['shape'] == shape]) + 1:02}",
                "shape": shape,
                "ground_truth": truth,
                "solution": solution,
                "ending": name,
                "intended": intended,
                "why": why,
            }
        )


def integers(c: Cases):
    for _ in range(3):
        n = c.rng.randint(12, 9999)
        c.add("integer", str(n), str(n), True, "the same integer")
        c.add("integer", str(n), f"{n}.0", True, "an integer written with .0 is the integer")
        c.add("integer", str(n), str(n + 1), False, "off by one")
        c.add("integer", str(n), f"-{n}", False, "wrong sign")
        c.add("integer", str(n), str(n * 10), False, "a digit too many")
    big = c.rng.randint(10_000, 999_999)
    c.add("integer", str(big), f"{big:,}", True, "thousands separators are only formatting (MATH-500's grader removes them)")
    c.add("integer", str(big), f"{big:,}".replace(",", "{,}"), True, "LaTeX {,} thousands separators")
    c.add("integer", f"{big:,}".replace(",", ",\\!"), str(big), True, r"the ground truth's ,\! separators are formatting")
    c.add("integer", str(big + 1), f"{big:,}", False, "a different number, separators or not")


def fractions(c: Cases):
    picks = [(3, 8), (5, 12), (7, 3), (2, 9), (11, 16), (4, 7)]
    for p, q in picks:
        truth = frac(p, q)
        c.add("fraction", truth, rf"\dfrac{{{p}}}{{{q}}}", True, r"\dfrac is \frac")
        c.add("fraction", truth, f"{p}/{q}", True, "a/b is the same fraction")
        c.add("fraction", truth, frac(q, p), False, "the reciprocal")
        c.add("fraction", truth, "-" + frac(p, q), False, "wrong sign")
        decimal = terminating_decimal(Fraction(p, q))
        if decimal:
            c.add("fraction", truth, decimal, True, "the exact decimal of the fraction (equal values)")
        else:
            c.add("fraction", truth, f"{p / q:.3f}", False, "a rounded decimal is not the exact fraction asked for")
        c.add("fraction", truth, frac(2 * p, 2 * q), None,
              "unreduced: the value is equal but MATH-500's grader rejects unreduced a/b, and problems ask for lowest terms")
    c.add("fraction", r"\frac{3}{2}", r"1\frac{1}{2}", True, "a mixed number of the same value")
    c.add("fraction", r"\frac12", r"\frac{1}{2}", True, r"\frac12 is TeX shorthand for \frac{1}{2}")
    c.add("fraction", r"\frac{5}{4}", r"\cfrac{5}{4}", True, r"\cfrac is a fraction")
    c.add("fraction", r"-\frac{2}{3}", r"\frac{-2}{3}", True, "the sign may sit on the numerator")
    c.add("fraction", r"-\frac{2}{3}", r"\frac{2}{-3}", True, "or on the denominator")


def radicals(c: Cases):
    for a, b in [(3, 13), (2, 6), (5, 2), (4, 3)]:
        truth = rf"{a}\sqrt{{{b}}}"
        c.add("radical", truth, rf"{a}\sqrt{b}" if b < 10 else rf"{a}\sqrt{{{b}}}", True, r"\sqrt b shorthand / same radical")
        c.add("radical", truth, rf"{a} \cdot \sqrt{{{b}}}", True, "explicit multiplication")
        c.add("radical", truth, rf"\sqrt{{{b}}} \cdot {a}", True, "factors in the other order")
        c.add("radical", truth, rf"{b}\sqrt{{{a}}}", False, "coefficient and radicand swapped")
        c.add("radical", truth, f"{a * b ** 0.5:.4f}", False, "a decimal approximation of an exact irrational answer")
        c.add("radical", truth, rf"\sqrt{{{a * a * b}}}", None, "equal value: MATH-500's grader accepts it (sympy simplifies the difference to 0), a grader holding to the simplest radical form the problems ask for does not")
    c.add("radical", r"\frac{\sqrt{3}}{3}", r"\frac{1}{\sqrt{3}}", None, "equal value: MATH-500's grader accepts it, graders who require a rationalised denominator do not")
    c.add("radical", r"\sqrt[3]{2}", r"2^{1/3}", True, "the same cube root written as a power")
    c.add("radical", r"\sqrt{2}", "2", False, "the square root is missing")
    c.add("radical", r"2\sqrt{2}", r"2\sqrt{3}", False, "a different radicand")


def pis(c: Cases):
    for k, m in [(64, 1), (9, 4), (3, 2), (25, 3)]:
        truth = rf"{k}\pi" if m == 1 else rf"\frac{{{k}\pi}}{{{m}}}"
        val = k / m * 3.141592653589793
        if m == 1:
            c.add("pi", truth, rf"{k} \pi", True, "spacing")
            c.add("pi", truth, rf"\pi \cdot {k}", True, "factors in the other order")
        else:
            c.add("pi", truth, rf"\frac{{{k}}}{{{m}}}\pi", True, "the coefficient as a fraction")
            c.add("pi", truth, rf"{k}\pi/{m}", True, "a slash fraction")
        c.add("pi", truth, f"{val:.4f}", False, "a 4-decimal approximation of an exact multiple of pi")
        c.add("pi", truth, f"{Fraction(k, m)}" if m > 1 else str(k), False, "pi dropped")
        c.add("pi", truth, rf"{k + 1}\pi" if m == 1 else rf"\frac{{{k + 1}\pi}}{{{m}}}", False, "a different multiple of pi")


def intervals(c: Cases):
    c.add("interval", "(-2, 7]", r"\left(-2, 7\right]", True, r"\left/\right are sizing only")
    c.add("interval", "(-2, 7]", "[-2, 7]", False, "the left end must be open")
    c.add("interval", "(-2, 7]", "(-2, 7)", False, "the right end must be closed")
    c.add("interval", "(-2, 7]", r"-2 < x \le 7", True, "the same set written as an inequality (issue 17's relation class)")
    c.add("interval", "(-2, 7]", r"x \in (-2, 7]", True, r"x \in in front of the interval")
    c.add("interval", r"[3, \infty)", r"[3,\infty)", True, "spacing")
    c.add("interval", r"[3, \infty)", r"x \geq 3", True, "the same set as an inequality")
    c.add("interval", r"[3, \infty)", r"(3, \infty)", False, "3 is in the set")
    c.add("interval", r"(-\infty, -1) \cup (4, \infty)", r"(4, \infty) \cup (-\infty, -1)", True, "a union in the other order is the same set")
    c.add("interval", r"(-\infty, -1) \cup (4, \infty)", r"(-\infty, -1)", False, "half of the union")
    c.add("interval", r"(-\infty, -1) \cup (4, \infty)", r"(-\infty, -1] \cup [4, \infty)", False, "the ends are excluded")
    c.add("interval", r"\left[ -\frac{1}{2}, \frac{3}{4} \right)", "[-0.5, 0.75)", True, "exact decimals of the ends")
    c.add("interval", "[-793, 10)", r"-793 \le a < 10", True, "a double inequality on one variable is the interval")
    c.add("interval", "[2, 5]", "[2, 5)", False, "closed versus half-open")


def tuples(c: Cases):
    for a, b in [(3, -2), (7, 6), (0, 5)]:
        truth = f"({a}, {b})"
        c.add("tuple", truth, f"({a},{b})", True, "the same ordered pair")
        c.add("tuple", truth, f"({b}, {a})", False, "an ordered pair is ordered")
        c.add("tuple", truth, f"(x, y) = ({a}, {b})", True, "a label on the left")
        c.add("tuple", truth, f"({a}, {b}, 0)", False, "a triple is not a pair")
    c.add("tuple", r"\left( 3, \frac{\pi}{2} \right)", r"\left(3, \dfrac{\pi}{2}\right)", True, "polar coordinates, same entries")
    c.add("tuple", r"\left( 3, \frac{\pi}{2} \right)", r"(3, \pi/2)", True, "pi/2 written with a slash")
    c.add("tuple", r"\left( 3, \frac{\pi}{2} \right)", r"(3, 90^\circ)", None, "the angle in degrees where radians are asked")
    c.add("tuple", r"\left( 3, \frac{\pi}{2} \right)", r"(3, 1.5708)", False, "a decimal for an exact irrational entry")
    c.add("tuple", "(1, 4.5)", r"\left(1, \frac{9}{2}\right)", True, "exact fraction equal to the decimal entry")
    c.add("tuple", "(6, 31, -1)", "(p,q,r) = (6,31,-1)", True, "a tuple label")
    c.add("tuple", "(6, 31, -1)", "6, 31, -1", None, "the entries without the parentheses")


def sets(c: Cases):
    for a, b in [(-2, 1), (3, 8), (-5, 5)]:
        truth = f"{a}, {b}"
        c.add("set", truth, f"{b}, {a}", True, "solutions listed in another order")
        c.add("set", truth, rf"\{{{a}, {b}\}}", True, "written as a set")
        c.add("set", truth, rf"x = {a} \text{{ or }} x = {b}", True, "x = ... or x = ... (MATH-500's grader reads 'or' as a separator)")
        c.add("set", truth, f"x={a}, x={b}", True, "labelled roots")
        c.add("set", truth, str(a), False, "a solution missing")
        c.add("set", truth, f"{a}, {b}, {b + 1}", False, "an extra value")
        c.add("set", truth, f"{a}; {b}", True, "a semicolon list")
        c.add("set", truth, rf"{a} \text{{ and }} {b}", True, "an 'and' list")
    c.add("set", "1, 2", "1, 1, 2", True, "a repeated root listed twice is the same set")
    c.add("set", r"\pm 3", "3, -3", True, r"\pm 3 is the two values")
    c.add("set", r"\pm 3", "3", False, r"only one of the \pm values")
    c.add("set", r"1 \pm \sqrt{2}", r"1+\sqrt{2}, 1-\sqrt{2}", True, r"the two values of 1 \pm \sqrt 2")
    c.add("set", r"1 \pm \sqrt{2}", r"1 + \sqrt{2}", False, r"one of the two values")
    c.add("set", r"\{1\pm\sqrt{5},-2\}", r"-2, 1+\sqrt5, 1-\sqrt5", True, r"a set with a \pm element")
    c.add("set", "32349", "32, 349", False, "a comma and a space separate two numbers; it is not 32349")
    c.add("set", "32, 349", "32, 349", True, "the same two numbers")
    c.add("set", "2, 3, 5, 7", "2, 3, 5, 7, 11", False, "one value too many")


def degrees(c: Cases):
    for n in [90, 45, 120, 15]:
        truth = rf"{n}^\circ"
        c.add("degrees", truth, str(n), True, "the degree sign is a unit (MATH-500's grader drops it)")
        c.add("degrees", truth, rf"{n}^{{\circ}}", True, "braced degree sign")
        c.add("degrees", truth, f"{n}°", True, "Unicode degree sign")
        c.add("degrees", truth, rf"{n}\degree", True, r"\degree command")
        c.add("degrees", truth, rf"{n + 5}^\circ", False, "a different angle")
    c.add("degrees", "60", r"60\degree", True, r"\degree on the answer side")
    c.add("degrees", r"60^\circ", r"\frac{\pi}{3}", None, "radians where degrees are asked")


def percents(c: Cases):
    for n in ["28", "12.5", "40"]:
        truth = rf"{n}\%"
        c.add("percent", truth, n, True, "the percent sign is a unit (MATH-500's grader drops it)")
        c.add("percent", truth, f"{n}%", True, "plain percent sign")
        c.add("percent", truth, rf"{n} \text{{ percent}}", True, "the word percent")
        c.add("percent", truth, str(Fraction(n) / 100 if "." in n else Fraction(int(n), 100)).replace("/", "/"), None,
              "the fraction of one instead of the percentage")
        c.add("percent", truth, f"{float(n) + 1:g}\\%", False, "a different percentage")
    c.add("percent", "12.5", r"12.5\%", True, "percent sign on the answer only")


def units(c: Cases):
    c.add("units", "5", r"5 \text{ cm}", True, "a unit after the number")
    c.add("units", "12", r"12\text{ square units}", True, "a multi-word unit")
    c.add("units", "6", r"6 \mbox{ inches}", True, r"\mbox unit")
    c.add("units", "20", r"20 \text{ cm}^2", True, "a unit with a power")
    c.add("units", "125", r"125\textnormal{ miles}", True, r"\textnormal unit")
    c.add("units", r"15\mbox{ cm}^2", "15", True, "unit on the ground truth")
    c.add("units", "18", r"18 \text{ feet}", True, "feet")
    c.add("units", "18", r"81 \text{ feet}", False, "the wrong number with the unit")
    c.add("units", "7", r"7 \text{ hours}", True, "hours")
    c.add("units", "7", r"8 \text{ hours}", False, "the wrong number with the unit")


def dollars(c: Cases):
    c.add("dollars", r"\$18.90", "18.90", True, "the dollar sign is a unit")
    c.add("dollars", r"\$18.90", r"\$18.9", True, "a trailing zero of cents")
    c.add("dollars", "18.90", r"\$18.90", True, "dollar sign on the answer side")
    c.add("dollars", r"\$18.90", r"\$19.80", False, "different amount")
    c.add("dollars", r"\$1,\!250", r"\$1250", True, "thousands separator with \\!")
    c.add("dollars", r"\$32", r"32 \text{ dollars}", True, "the word dollars")
    c.add("dollars", r"\$0.25", "25 cents", None, "cents where dollars are asked")


def choices(c: Cases):
    c.add("choice", r"\text{(C)}", "C", True, "the letter of the choice")
    c.add("choice", r"\text{(C)}", "(C)", True, "the letter in parentheses")
    c.add("choice", r"\text{(C)}", r"\textbf{(C)}", True, "bold")
    c.add("choice", r"\text{(C)}", r"\text{C}", True, r"letter in \text")
    c.add("choice", r"\text{(C)}", "D", False, "another choice")
    c.add("choice", r"\text{(C)}", r"\text{(D)}", False, "another choice")
    c.add("choice", r"\text{(B)}", r"\text{(B) and (D)}", False, "two choices for one answer")
    c.add("choice", r"\text{(E)}", "E", True, "the letter")


def matrices(c: Cases):
    m = r"\begin{pmatrix} 1 & -2 \\ 3 & 4 \end{pmatrix}"
    c.add("matrix", m, r"\begin{pmatrix}1&-2\\3&4\end{pmatrix}", True, "spacing")
    c.add("matrix", m, r"\begin{bmatrix} 1 & -2 \\ 3 & 4 \end{bmatrix}", True, "brackets instead of parentheses")
    c.add("matrix", m, r"\begin{pmatrix} 1 & 3 \\ -2 & 4 \end{pmatrix}", False, "transposed")
    c.add("matrix", m, r"\begin{pmatrix} 1 & -2 \\ 3 & 5 \end{pmatrix}", False, "one entry differs")
    c.add("matrix", m, r"\begin{pmatrix} 1 & -2 & 3 & 4 \end{pmatrix}", False, "a row, not a 2x2 matrix")
    half = r"\begin{pmatrix} \frac{1}{2} & 0 \\ 0 & \frac{3}{4} \end{pmatrix}"
    c.add("matrix", half, r"\begin{pmatrix} 0.5 & 0 \\ 0 & 0.75 \end{pmatrix}", True, "exact decimals of the entries")
    c.add("matrix", half, r"\begin{pmatrix} \dfrac12 & 0 \\ 0 & \dfrac34 \end{pmatrix}", True, "dfrac shorthand")
    v = r"\begin{pmatrix} 2 \\ -1 \\ 5 \end{pmatrix}"
    c.add("matrix", v, r"\begin{pmatrix}2\\-1\\5\end{pmatrix}", True, "the same column vector")
    c.add("matrix", v, r"\begin{pmatrix} 2 \\ 1 \\ 5 \end{pmatrix}", False, "a sign differs")
    c.add("matrix", v, r"\begin{pmatrix} 5 \\ -1 \\ 2 \end{pmatrix}", False, "entries in another order")


def base_n(c: Cases):
    c.add("base", "10111_2", "10111_{2}", True, "braced base subscript")
    c.add("base", "10111_2", "10111", True, "the digits, with the base the question asked for")
    c.add("base", "10111_2", "10110_2", False, "different digits")
    c.add("base", "204_5", "204_{5}", True, "braced base subscript")
    c.add("base", "204_5", "54", None, "the value in base ten where base five is asked")
    c.add("base", "204_5", "240_5", False, "different digits")
    c.add("base", r"1A_{16}", r"1A_{16}", True, "hexadecimal digits")


def complex_numbers(c: Cases):
    for a, b in [(6, -5), (-3, 7), (2, 1)]:
        def z(re, im):
            sign = "-" if im < 0 else "+"
            mag = "" if abs(im) == 1 else str(abs(im))
            return f"{re} {sign} {mag}i"
        truth = z(a, b)
        imag = f"{b}i" if abs(b) != 1 else ("-i" if b < 0 else "i")
        swapped = f"{imag} + {a}" if a >= 0 else f"{imag} - {-a}"
        c.add("complex", truth, swapped, True, "the terms in the other order")
        c.add("complex", truth, z(a, -b), False, "the conjugate")
        c.add("complex", truth, z(b, a), False, "real and imaginary parts swapped")
        c.add("complex", truth, truth.replace(" ", ""), True, "spacing")
    c.add("complex", "1 + i", r"\sqrt{2} e^{i\pi/4}", True, "the same number in polar form")
    c.add("complex", "-1", r"i^2", True, "i squared")


def expressions(c: Cases):
    rows = [
        ("9x+81", "81+9x", True, "terms in another order"),
        ("9x+81", "9(x+9)", True, "factored form of the same polynomial (issue 17: algebraic equivalence)"),
        ("9x+81", "9x+18", False, "a different constant"),
        ("2x+2", "2(x+1)", True, "distributed"),
        ("x^2+18x+81", "(x+9)^2", True, "the square expanded"),
        ("x^2+7x+10", "(x+2)(x+5)", True, "factored"),
        ("x^2+7x+10", "x^2+7x+11", False, "a different constant"),
        (r"\frac{x+8}{6}", "(x+8)/6", True, "slash fraction of a sum"),
        (r"\frac{x+8}{6}", "x+8/6", False, "the slash binds only the 8"),
        ("e^{2}", "e^2", True, "braces around a one-digit exponent"),
        (r"2 \sin b \cos a", r"2\cos a\sin b", True, "factors in another order"),
        (r"2 \sin b \cos a", r"\sin(a+b) - \sin(a-b)", True, "the same function by sum-to-product"),
        (r"2 \sin b \cos a", r"2 \sin a \cos b", False, "a and b swapped"),
        ("x+1", "y+1", False, "a different variable"),
        (r"\frac{1}{x}", "x^{-1}", True, "negative power"),
        (r"p - q", "p-q", True, "spacing"),
        (r"p - q", "q - p", False, "wrong sign"),
        (r"\frac{\pi r}{h+r}", r"\frac{r\pi}{r+h}", True, "reordered factors and terms"),
        (r"\frac{\pi r}{h+r}", r"\frac{\pi r}{h}", False, "a term missing"),
        (r"a^2 b", r"b a^2", True, "commuted product"),
        (r"\sqrt{x^2}", "x", None, "equal only for x >= 0"),
        (r"\log_2 8", "3", True, "the logarithm's value"),
        (r"\ln(e^3)", "3", True, "the logarithm's value"),
        ("7i-3", "-3+7i", True, "complex terms in another order"),
        ("3x^2-2x", "x(3x-2)", True, "a common factor taken out"),
    ]
    for truth, answer, intended, why in rows:
        c.add("expression", truth, answer, intended, why)


def equations(c: Cases):
    rows = [
        ("y = 2x + 3", "y = 3 + 2x", True, "terms in another order"),
        ("y = 2x + 3", "2x - y + 3 = 0", True, "the same line rearranged"),
        ("y = 2x + 3", "y = 2x - 3", False, "a different line"),
        ("y = 2x + 3", "2x+3", None, "the right-hand side without the equation"),
        ("x = 5", "5", True, "the value of the variable"),
        ("5", "x = 5", True, "the variable named on the answer side"),
        ("5", "x = -5", False, "the sign behind the variable"),
        (r"\frac{x^2}{4} + \frac{y^2}{3} = 1", "3x^2 + 4y^2 = 12", True, "the same ellipse, scaled"),
        (r"\frac{x^2}{4} + \frac{y^2}{3} = 1", "4x^2 + 3y^2 = 12", False, "axes swapped"),
        ("2x + 3y = 6", "y = 2 - \\frac{2}{3}x", True, "the same line solved for y"),
        ("x = 11", "x = 5+5+1 = 11", True, "a chain of equalities ending in the answer"),
        ("11", r"x \approx 11", True, "an approximately-equal answer that is the value"),
        ("f(x) = 1", "1", True, "a function label on the ground truth"),
        (r"V_1:V_2 = 11:21", "11:21", True, "a ratio with a label"),
        (r"V_1:V_2 = 11:21", "21:11", False, "the ratio reversed"),
        (r"x \le 5", r"5 \ge x", True, "the same inequality written the other way"),
        (r"x \le 5", r"x < 5", False, "strict versus non-strict"),
        (r"x < 1", r"-x > -1", True, "both sides negated, direction flipped"),
    ]
    for truth, answer, intended, why in rows:
        c.add("equation", truth, answer, intended, why)


def words(c: Cases):
    c.add("text", r"\text{Evelyn}", r"\text{Evelyn}", True, "the same name")
    c.add("text", r"\text{Evelyn}", "Evelyn", True, "the name without \\text")
    c.add("text", r"\text{Evelyn}", r"\text{Evan}", False, "another name")
    c.add("text", r"\text{odd}", r"\text{Odd}", True, "case does not matter in a word answer (MATH-500's grader lowercases)")
    c.add("text", r"\text{Sunday}", r"\text{Sunday.}", True, "a final period")
    c.add("text", r"\text{even}", r"\text{odd}", False, "the other word")


def extraction(c: Cases):
    """Where the answer is in the text matters more than how it is written."""
    pre = PREAMBLES[0]
    rows = [
        ("hedge", "4", pre + r" It could be $\boxed{4}$ or $\boxed{5}$.", False,
         "two different boxed answers to one question are a hedge"),
        ("hedge", "4", pre + r" So the answer is $\boxed{4}$, or possibly $\boxed{4}$ again.", True,
         "the same answer boxed twice is not a hedge"),
        ("correction", r"\frac{1}{4}", pre + r" This gives $\boxed{2}$. Wait, that step was wrong: recomputing, the probability is $\frac{1}{4}$, so the answer is $\boxed{\frac14}$.", True,
         "a corrected answer: the later box is the answer"),
        ("final_answer_wins", "14", pre + r" A first guess is $\boxed{12}$, but checking the cases more carefully gives more." "\n\nThe final answer is $14$. I hope it is correct.", True,
         "the later 'The final answer is' beats an earlier box"),
        ("final_answer_wins", "12", pre + r" A first guess is $\boxed{12}$, but checking the cases more carefully gives more." "\n\nThe final answer is $14$. I hope it is correct.", False,
         "the stated final answer is 14"),
        ("minerva", "14916", pre + "\n\nFinal Answer: The final answer is $14{,}916$. I hope it is correct.", True,
         "the math span after 'The final answer is', without the trailing sentence"),
        ("minerva", r"\frac{6}{5}", "The ratio simplifies nicely.\nThe answer is 6/5.", True,
         "a plain-text answer after 'The answer is'"),
        ("several_boxes_set", "-2, 1", pre + r" The integers are $\boxed{-2}$ and $\boxed{1}$.", True,
         "several boxes are the answer set when the truth is a set"),
        ("several_boxes_set", "-2, 1", pre + r" The integers are $\boxed{-2}$ and $\boxed{3}$.", False,
         "one of the boxed values is wrong"),
        ("no_answer", "5", "Let me think about this problem step by step. First we compute the area of the triangle, then we divide by two and we get the result that we wanted all along", False,
         "no final answer is stated"),
        ("no_answer", "7", pre + " After simplifying, the equation has a single positive root, which we now verify satisfies the original condition of the problem statement.", False,
         "the reasoning never states the number"),
        ("bare", "42", "42", True, "a bare answer"),
        ("bare", r"\frac{3}{4}", r"$\frac{3}{4}$", True, "a bare answer in math delimiters"),
        ("fbox", "3", pre + r" Hence the count is $\fbox{3}$.", True, r"\fbox marks the answer like \boxed"),
        ("label", "(3, 2)", pre + r" Therefore $(p,q) = \boxed{(3,2)}$.", True, "the label outside the box"),
        ("label", "(3, 2)", pre + r" Therefore $\boxed{(p,q) = (3,2)}$.", True, "the label inside the box"),
        ("text_sentence", r"\text{Sunday}", "Counting forward seven days at a time, the day is \\boxed{\\text{Sunday.}}", True,
         "a word answer with its period"),
        ("answer_colon", "9", pre + "\n\nAnswer: 9", True, "an 'Answer:' line"),
        ("answer_colon", "9", pre + "\n\nAnswer: 8", False, "an 'Answer:' line with another number"),
        ("think", "189", "<think>\nso the area is 189, or maybe 180?\n**Final Answer**\n\\boxed{180}\nNo wait, recomputing gives 189.\n</think>\n\nThe area of the trapezoid is $\\boxed{189}$.", True,
         "the answer after the thinking section"),
    ]
    for kind, truth, solution, intended, why in rows:
        c.add("extraction", truth, None, intended, why, ending=kind, solution=solution)


def main():
    c = Cases()
    for build in [integers, fractions, radicals, pis, intervals, tuples, sets, degrees, percents,
                  units, dollars, choices, matrices, base_n, complex_numbers, expressions,
                  equations, words, extraction]:
        build(c)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    with OUT.open("w") as f:
        for row in c.rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    clear = sum(r["intended"] is not None for r in c.rows)
    print(f"{len(c.rows)} cases ({clear} with a clear verdict) -> {OUT}")


if __name__ == "__main__":
    main()
