//! One test per failure class of issue 17: each pins the behaviour that fixed the class, with
//! the near miss that must stay wrong beside it.

use super::{right, wrong};
use trialogue::core::answer::{answers_match, extract_answer};

#[test]
fn normalisation_keeps_the_row_separator_of_a_matrix() {
    let truth = r"\begin{pmatrix} 1 & 2 \\ 3 & 4 \end{pmatrix}";
    // `\ ` (a space command) right before `\\` must not eat the row separator.
    right(
        truth,
        r"$\boxed{\begin{pmatrix} 1\ & 2\ \\ 3 & 4 \end{pmatrix}}$",
    );
    right(truth, r"\boxed{\begin{bmatrix}1&2\\3&4\end{bmatrix}}");
    wrong(
        truth,
        r"\boxed{\begin{pmatrix} 1 & 2 & 3 & 4 \end{pmatrix}}",
    );
    wrong(
        truth,
        r"\boxed{\begin{pmatrix} 1 & 3 \\ 2 & 4 \end{pmatrix}}",
    );
}

#[test]
fn normalisation_treats_braces_slashes_minus_signs_and_bases_as_notation() {
    right("e^{2}", r"\boxed{e^2}");
    wrong("e^{2}", r"\boxed{e^3}");
    right(r"\frac{x+8}{6}", r"\boxed{(x+8)/6}");
    wrong(r"\frac{x+8}{6}", r"\boxed{x+8/6}");
    right("-3", "\\boxed{\u{2212}3}");
    right(r"5 - 2x", "\\boxed{5 \u{2212} 2x}");
    right("10111_2", r"\boxed{10111_{2}}");
    wrong("10111_2", r"\boxed{10110_2}");
}

#[test]
fn equivalent_expressions_match_and_different_ones_do_not() {
    for (truth, same, different) in [
        ("9x+81", "81+9x", "9x+80"),
        ("2x+2", "2(x+1)", "2(x+2)"),
        ("x^2+18x+81", "(x+9)^2", "(x+9)^3"),
        ("7i-3", "-3+7i", "3+7i"),
        (r"\ln x + \ln y", r"\ln(xy)", r"\ln(x+y)"),
        (r"\frac{x^2-1}{x-1}", "x+1", "x-1"),
        ("1", r"\sin^2 x + \cos^2 x", r"\sin^2 x - \cos^2 x"),
    ] {
        right(truth, &format!(r"\boxed{{{same}}}"));
        wrong(truth, &format!(r"\boxed{{{different}}}"));
    }
}

#[test]
fn rational_values_compare_exactly_beyond_float_precision() {
    // 2^100 and 2^100 + 1 are the same double; exact arithmetic tells them apart.
    right("2^{100}", r"\boxed{1267650600228229401496703205376}");
    wrong("2^{100}", r"\boxed{1267650600228229401496703205377}");
    right(r"\frac{1}{3} + \frac{1}{6}", r"\boxed{\frac12}");
    right(r"\sqrt{8}", r"\boxed{2\sqrt{2}}");
    // With variables too: rational functions are compared exactly at rational points, so no
    // floating-point tolerance hides a tiny difference.
    right("x^2+1", r"\boxed{x^2+1.0}");
    wrong("x^2+1", r"\boxed{x^2+1.0000000001}");
}

#[test]
fn tuples_are_ordered_sets_are_not_and_interval_ends_matter() {
    right("(1, 2)", r"\boxed{(1,2)}");
    wrong("(1, 2)", r"\boxed{(2,1)}");
    right(r"\{1, 2\}", r"\boxed{\{2, 1\}}");
    right("[2, 5)", r"\boxed{\left[2, 5\right)}");
    wrong("[2, 5)", r"\boxed{[2, 5]}");
    wrong("[2, 5)", r"\boxed{(2, 5)}");
    right(
        r"(-\infty, -1) \cup (4, \infty)",
        r"\boxed{(4, \infty) \cup (-\infty, -1)}",
    );
}

#[test]
fn equations_give_their_values() {
    right("3", r"\boxed{x = 3}");
    right("x = 3", r"\boxed{3}");
    wrong("3", r"\boxed{x = -3}");
    right(r"\{0, 8\}", r"\boxed{x = 8, x = 0}");
    right("y = 2x + 3", r"\boxed{2x - y + 3 = 0}");
    wrong("y = 2x + 3", r"\boxed{2x - y - 3 = 0}");
    // Sides that are not a label stay an equation: 7 = 11a + c is not 11a + c.
    wrong("7 = 11a+c", r"\boxed{11a+c}");
}

#[test]
fn plus_minus_is_its_two_values() {
    right(r"\pm 2021", r"\boxed{\{-2021, 2021\}}");
    wrong(r"\pm 2021", r"\boxed{2021}");
    right(r"1 \pm \sqrt{19}", r"\boxed{1+\sqrt{19}, 1-\sqrt{19}}");
    right(r"x \in [2,5]", r"\boxed{[2,5]}");
}

#[test]
fn a_decimal_answer_must_be_exact_unless_the_truth_is_a_decimal() {
    // Never a float for an exact irrational…
    wrong(r"64\pi", r"\boxed{201.0619}");
    wrong(r"64\pi", r"\boxed{201.06192982974676}");
    wrong(r"\frac{1}{3}", r"\boxed{0.333}");
    // …but an exact decimal is the value.
    right(r"\frac{3}{8}", r"\boxed{0.375}");
    // A decimal truth accepts what rounds to it at its own precision, and no coarser decimal.
    right("3.14", r"\boxed{\pi}");
    right("0.3888", r"\boxed{\frac{243}{625}}");
    wrong("14.29", r"\boxed{14.3}");
    wrong("2.5", r"\boxed{\frac{51}{20}}");
    right("2.50", r"\boxed{2.5}");
    // So the comparison depends on which side is the truth.
    assert!(answers_match("3.14", r"\pi"));
    assert!(!answers_match(r"\pi", "3.14"));
}

#[test]
fn two_different_boxed_answers_are_a_hedge() {
    wrong("4", r"It could be $\boxed{4}$ or $\boxed{5}$.");
    wrong("4", r"\boxed{4 \text{ or } 5}");
    right("4", r"So it is $\boxed{4}$; checking again, $\boxed{4}$.");
    // When the truth has several values, several boxes are the answer set.
    right("4, 5", r"It could be $\boxed{4}$ or $\boxed{5}$.");
    right("1, 2", r"The roots are $\boxed{1}$ and $\boxed{2}$.");
    wrong("1, 2", r"The roots are $\boxed{1}$ and $\boxed{3}$.");
}

#[test]
fn the_math_after_the_final_answer_marker_is_the_answer() {
    let minerva = "We count the cases.\n\nFinal Answer: The final answer is $14{,}916$. I hope it is correct.";
    assert_eq!(extract_answer(minerva).as_deref(), Some("14{,}916"));
    right("14916", minerva);
    // An early box does not beat a later "The final answer is".
    let later =
        "A first guess is $\\boxed{12}$.\n\nThe final answer is $14$. I hope it is correct.";
    right("14", later);
    wrong("12", later);
}

#[test]
fn labels_on_the_left_chains_and_approximations_give_the_value() {
    right("(p,q)=(3,2)", r"\boxed{(3,2)}");
    right("(3,2)", r"$(p,q) = \boxed{(3,2)}$");
    right("f(x)=1", r"\boxed{1}");
    right(r"V_1:V_2=11:21", r"\boxed{11:21}");
    wrong(r"V_1:V_2=11:21", r"\boxed{21:11}");
    right("11", r"\boxed{x = 5+5+1 = 11}");
    right("11", r"\boxed{x \approx 11}");
}

#[test]
fn lists_by_and_or_semicolons_and_duplicates() {
    right("-2, 1", r"\boxed{1 \text{ and } -2}");
    right("-2, 1", r"\boxed{x = -2 \text{ or } x = 1}");
    right("-2, 1", r"\boxed{-2; 1}");
    right("-2, 1", r"\boxed{1, 1, -2}");
    wrong("-2, 1", r"\boxed{-2}");
    right("19, 46, 82", r"\boxed{19, 46, \text{ and } 82}");
}

#[test]
fn relations_compare_as_the_sets_they_describe() {
    right(r"x \leq 5", r"\boxed{5 \geq x}");
    wrong(r"x \leq 5", r"\boxed{x < 5}");
    right(r"x \in [-2,7]", r"\boxed{[-2,7]}");
    right(r"-793<a<10", r"\boxed{(-793,10)}");
    right("(-793, 10)", r"\boxed{-793 < a < 10}");
    right("x < 1", r"\boxed{-x > -1}");
}

#[test]
fn cfrac_textnormal_and_no_thousands_separator_after_a_space() {
    right(r"\frac{5}{4}", r"\boxed{\cfrac{5}{4}}");
    right("125", r"The distance is $\boxed{125\textnormal{ miles}}$.");
    wrong("32349", r"\boxed{32, 349}");
    right("32, 349", r"\boxed{32, 349}");
    right("32349", r"\boxed{32,349}");
}

#[test]
fn what_was_already_right_stays_right() {
    assert_eq!(
        extract_answer("Reasoning.\nThe answer is 6/5.").as_deref(),
        Some("6/5")
    );
    right(r"\frac{6}{5}", "Reasoning.\nThe answer is 6/5.");
    right("12.5", r"\boxed{12.5\%}");
    right(r"12.5\%", r"\boxed{12.5}");
    right("60", r"\boxed{60\degree}");
    right("15", r"\boxed{15°}");
    right("3", r"so the count is \fbox{3}");
    right(r"\text{Sunday}", r"\boxed{\text{Sunday.}}");
    right("42", "42");
    let no_answer = "We compute the area of the triangle, then divide by two, and that is what we wanted all along, as shown.";
    assert_eq!(extract_answer(no_answer), None);
    wrong("5", no_answer);
}
