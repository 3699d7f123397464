//! Hostile text stays cheap: the checker runs on the page's main thread after every run, so
//! nesting, length, towers of exponents, huge factorials and floods of boxes must give a
//! verdict (with the reason it could not read the answer) instead of work without end.

use trialogue::core::answer::{
    answers_match, check_solution, normalize_answer, ReadError, MAX_ANSWER_BYTES, MAX_DEPTH,
};

#[test]
fn nesting_beyond_the_limit_is_refused_with_the_reason() {
    let within = format!(r"\boxed{{{}1{}}}", "(".repeat(20), ")".repeat(20));
    assert!(check_solution(&within, "1").correct);
    let deep = format!(r"\boxed{{{}1{}}}", "(".repeat(500), ")".repeat(500));
    let check = check_solution(&deep, "1");
    assert!(!check.correct);
    assert_eq!(
        check.unreadable,
        Some(ReadError::TooDeep { max: MAX_DEPTH })
    );
    let fractions = format!(
        r"\boxed{{{}1{}}}",
        r"\frac{".repeat(100),
        "}{2}".repeat(100)
    );
    assert_eq!(
        check_solution(&fractions, "1").unreadable,
        Some(ReadError::TooDeep { max: MAX_DEPTH })
    );
}

#[test]
fn answers_over_the_length_limit_are_not_read() {
    let long = format!(r"\boxed{{{}}}", "1+".repeat(MAX_ANSWER_BYTES));
    let check = check_solution(&long, "1");
    assert!(!check.correct);
    assert!(matches!(
        check.unreadable,
        Some(ReadError::TooLong {
            max: MAX_ANSWER_BYTES,
            ..
        })
    ));
    let message = check.unreadable.map(|e| e.to_string()).unwrap_or_default();
    assert!(
        message.contains("only answers up to 2000 bytes are compared"),
        "{message}"
    );
}

#[test]
fn towers_of_exponents_and_huge_factorials_compare_without_being_computed() {
    // 10^(10^10) has ten billion digits: neither exact nor floating arithmetic may try.
    right_exactly(r"10^{10^{10}}", r"10^{10^{10}}");
    assert!(!answers_match(r"10^{10^{10}}", r"10^{10^{11}}"));
    assert!(!answers_match(r"10^{10^{10}}", "1"));
    right_exactly(r"2^{2^{2^{2^{2}}}}", r"2^{2^{2^{2^{2}}}}");
    right_exactly(r"(10^{10})!", r"(10^{10})!");
    assert!(!answers_match(r"(10^{10})!", r"(10^{9})!"));
    assert!(!answers_match(r"x^{10^{10}}", r"x^{10^{10}} + 1"));
}

fn right_exactly(truth: &str, answer: &str) {
    assert!(answers_match(truth, answer), "{truth} vs {answer}");
}

#[test]
fn floods_of_boxes_and_long_solutions_are_read_in_one_pass() {
    let unclosed = r"\boxed{".repeat(100_000);
    assert!(!check_solution(&unclosed, "1").correct);
    let long = format!(
        "{}\n\nSo the answer is $\\boxed{{7}}$.",
        "We think. ".repeat(100_000)
    );
    assert!(check_solution(&long, "7").correct);
    let many = format!("{}$\\boxed{{3}}$", "$\\boxed{1}$ and ".repeat(10_000));
    let check = check_solution(&many, "3");
    assert!(
        !check.correct,
        "a group of a thousand different boxes is a hedge"
    );
    let plus_minus = r"\boxed{1 \pm 2 \pm 3 \pm 4 \pm 5 \pm 6 \pm 7}";
    assert!(!check_solution(plus_minus, "1").correct);
}

#[test]
fn random_text_neither_panics_nor_loops() {
    let alphabet: Vec<char> = r"\{}()[]$,.^_/-+*=%!|&0123456789 abxfracsqrtpileftboxedin:İß€±°"
        .chars()
        .collect();
    let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
    for _ in 0..3_000 {
        let len = (seed % 60) as usize;
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
        let once = normalize_answer(&format!("Final answer: {text}"));
        let _ = normalize_answer(&once);
    }
}

#[test]
fn a_check_gives_the_same_verdict_every_time() {
    // The identity test's points are seeded, not drawn afresh.
    for _ in 0..20 {
        assert!(answers_match(r"\frac{\sin x}{\cos x}", r"\tan x"));
        assert!(!answers_match(r"\frac{\sin x}{\cos x}", r"\cot x"));
    }
}
