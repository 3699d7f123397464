//! Finding the final answer in a solution's text.
//!
//! The answer is what the solution marks as its answer, latest first: the last group of boxes
//! (`\boxed{…}`, `\fbox{…}`; boxes separated only by a few words — "and", "or", commas — are
//! one group: several answers, or a hedge), unless a "final answer" statement comes after it;
//! then an "answer is" / "answer:" statement; then a short one-line solution is its own
//! answer. Of a statement, only the mathematics is kept: "The final answer is $14{,}916$. I hope
//! it is correct." gives `14{,}916`, "The volume of $V$ is 120." gives `120`.

use super::lexer::matching_brace;

/// Longest solution text (in characters, one line) that counts as a bare answer when it marks
/// no answer.
pub const SHORT_ANSWER_CHARS: usize = 80;

/// Only the last boxes are read: a final answer is never more than this many boxes, and a text
/// with thousands of unclosed boxes must not cost a scan per box.
const MAX_BOXES_READ: usize = 64;

/// Most words between two boxes of one group ("papers and").
const MAX_WORDS_BETWEEN_BOXES: usize = 4;

/// Longest plain-text statement kept after "answer is".
const MAX_STATEMENT_BYTES: usize = 300;

/// Where the answer comes from when the text marks none.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unmarked {
    /// A solution: only a short single line is its own answer.
    ShortLine,
    /// A ground truth: the whole text is the answer.
    WholeText,
}

/// One `\boxed{…}` and the byte range it covers.
struct BoxSpan<'a> {
    start: usize,
    end: usize,
    content: &'a str,
}

/// The answer texts a solution marks as final (several for a group of boxes); empty when it
/// marks none and `unmarked` does not take the text itself.
pub fn final_answers(text: &str, unmarked: Unmarked) -> Vec<String> {
    let boxes = boxes(text);
    let group = last_group(text, &boxes);
    let strong = last_statement(text, true);
    match (group, strong) {
        (Some((start, answers)), Some((at, stated))) => {
            return if at > start { vec![stated] } else { answers };
        }
        (Some((_, answers)), None) => return answers,
        (None, Some((_, stated))) => return vec![stated],
        (None, None) => {}
    }
    if let Some((_, stated)) = last_statement(text, false) {
        return vec![stated];
    }
    let trimmed = text.trim();
    let bare = match unmarked {
        Unmarked::WholeText => !trimmed.is_empty(),
        Unmarked::ShortLine => {
            !trimmed.is_empty()
                && !trimmed.contains('\n')
                && trimmed.chars().count() <= SHORT_ANSWER_CHARS
        }
    };
    if !bare {
        return Vec::new();
    }
    let answer = match math_spans(trimmed).as_slice() {
        // "We find that $x < 3$.": the one formula of a short line is its answer.
        [only] if unmarked == Unmarked::ShortLine => only.to_string(),
        _ => clean_tail(trimmed),
    };
    if answer.is_empty() {
        Vec::new()
    } else {
        vec![answer]
    }
}

fn boxes(text: &str) -> Vec<BoxSpan<'_>> {
    let mut starts: Vec<(usize, usize)> = Vec::new();
    for command in ["\\boxed", "\\fbox"] {
        for (at, _) in text.match_indices(command) {
            let after = at + command.len();
            if !text[after..].starts_with(|c: char| c.is_ascii_alphabetic()) {
                starts.push((at, after));
            }
        }
    }
    starts.sort_unstable();
    let first_read = starts.len().saturating_sub(MAX_BOXES_READ);
    let mut spans: Vec<BoxSpan<'_>> = Vec::new();
    for &(start, after) in &starts[first_read..] {
        let rest = &text[after..];
        let trimmed = rest.trim_start_matches(' ');
        let open = after + rest.len() - trimmed.len();
        let span = if trimmed.starts_with('{') {
            matching_brace(text, open).map(|close| BoxSpan {
                start,
                end: close + 1,
                content: &text[open + 1..close],
            })
        } else if open > after {
            // `\boxed 5`: TeX takes the next token.
            let len = trimmed
                .find(|c: char| c.is_whitespace() || c == '$')
                .unwrap_or(trimmed.len());
            (len > 0).then(|| BoxSpan {
                start,
                end: open + len,
                content: &text[open..open + len],
            })
        } else {
            None
        };
        if let Some(span) = span {
            // A box inside an earlier box is part of that box's answer.
            if spans.last().is_none_or(|last| span.start >= last.end) {
                spans.push(span);
            }
        }
    }
    spans
}

/// Whether the text between two boxes joins them into one answer: punctuation, math
/// delimiters, spacing and at most a few words.
fn joins(between: &str) -> bool {
    // Longer than a few words and their markup: two separate statements.
    if between.len() > 200 || between.contains("\n\n") {
        return false;
    }
    let mut cleaned = between.to_string();
    for noise in [
        "\\quad", "\\qquad", "\\text", "\\mbox", "\\(", "\\)", "\\[", "\\]", "\\,", "\\;", "\\!",
        "\\\\",
    ] {
        cleaned = cleaned.replace(noise, " ");
    }
    let words = cleaned
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .count();
    let only_soft = cleaned
        .chars()
        .all(|c| c.is_alphanumeric() || c.is_whitespace() || ",;.:&$(){}+-=_^\\".contains(c));
    words <= MAX_WORDS_BETWEEN_BOXES && only_soft && cleaned.len() <= 48
}

/// The last group of boxes: where it starts and its contents.
fn last_group(text: &str, boxes: &[BoxSpan<'_>]) -> Option<(usize, Vec<String>)> {
    let mut first = boxes.len().checked_sub(1)?;
    while first > 0 && joins(&text[boxes[first - 1].end..boxes[first].start]) {
        first -= 1;
    }
    let answers = boxes[first..]
        .iter()
        .map(|b| clean_tail(b.content))
        .filter(|a| !a.is_empty())
        .collect::<Vec<_>>();
    (!answers.is_empty()).then_some((boxes[first].start, answers))
}

/// The last "final answer" statement (`strong`) or "answer is"/"answer:" statement: where it
/// starts and the answer it states. A statement that is a box is left to the boxes.
fn last_statement(text: &str, strong: bool) -> Option<(usize, String)> {
    let lower = text.to_ascii_lowercase();
    let mut found = None;
    for (at, _) in lower.match_indices("answer") {
        let before = lower[..at].trim_end_matches(['*', ' ']);
        let is_final = before.ends_with("final");
        if strong != is_final {
            continue;
        }
        let mut rest = &text[at + "answer".len()..];
        rest = rest.trim_start_matches(['*', ' ', '\t']);
        let marked = if let Some(r) = rest.strip_prefix(':') {
            rest = r;
            true
        } else if let Some(r) = rest
            .strip_prefix("is ")
            .or_else(|| rest.strip_prefix("is:"))
        {
            rest = r;
            true
        } else if let Some(r) = rest.strip_prefix('=') {
            rest = r;
            true
        } else if rest.starts_with(['$', '\\']) && !rest.starts_with("\\boxed") {
            // "Answer $9$", "Answer \[ 9 \]": the formula right after the word.
            true
        } else {
            // "**Final Answer**" as a heading: the answer follows on the next lines.
            strong && rest.starts_with('\n')
        };
        if !marked {
            continue;
        }
        let rest = rest.trim_start_matches(['*', ' ', ':', '\t', '\n', '\r']);
        let rest = rest.strip_prefix("is ").unwrap_or(rest);
        if rest.trim_start().starts_with("\\boxed") || rest.trim_start().starts_with("\\fbox") {
            continue;
        }
        if let Some(stated) = stated_math(rest) {
            found = Some((at, stated));
        }
    }
    found
}

/// The mathematics at the start of a statement: a `$…$`, `\(…\)` or `\[…\]` span, or the plain
/// text up to the end of the sentence, from its last "is" on.
fn stated_math(rest: &str) -> Option<String> {
    let rest = rest.trim_start().trim_start_matches(['"', '“']);
    for (open, close) in [("$$", "$$"), ("\\[", "\\]"), ("\\(", "\\)"), ("$", "$")] {
        if let Some(inner) = rest.strip_prefix(open) {
            let end = find_unescaped(inner, close)?;
            let math = inner[..end].trim();
            // `$12 $ and $13 $`: formulas joined by words are one answer.
            let after = &inner[end + close.len()..];
            let mut answer = math.to_string();
            if let Some(joined) = joined_formulas(after) {
                answer.push_str(&joined);
            }
            return (!answer.is_empty()).then_some(answer);
        }
    }
    let sentence = sentence(rest);
    let sentence = match sentence.rfind(" is ") {
        Some(i) => &sentence[i + 4..],
        None => sentence,
    };
    let answer = clean_tail(&sentence.replace('$', " "));
    if answer.is_empty() {
        return None;
    }
    Some(lone_number_in_prose(&answer).unwrap_or(answer))
}

/// "Jane started growing Sphere 3 hours ago": a stated answer that is a sentence with one
/// number and no other mathematics states that number.
fn lone_number_in_prose(text: &str) -> Option<String> {
    let words = text
        .split(|c: char| !c.is_ascii_alphabetic())
        .filter(|w| w.len() > 1)
        .count();
    if words < 3 || text.contains(['=', '<', '>', '^', '\\', '/', '+', '*']) {
        return None;
    }
    let mut numbers = text
        .split(|c: char| !(c.is_ascii_digit() || c == '.' || c == ','))
        .map(|n| n.trim_matches(['.', ',']))
        .filter(|n| n.starts_with(|c: char| c.is_ascii_digit()));
    let number = numbers.next()?;
    numbers.next().is_none().then(|| number.to_string())
}

/// After a formula: ` and $13 $` joined on as ` and 13`.
fn joined_formulas(after: &str) -> Option<String> {
    let mut out = String::new();
    let mut rest = after;
    loop {
        let trimmed = rest.trim_start();
        let word_end = trimmed.find('$')?;
        let word = trimmed[..word_end].trim();
        if !matches!(word, "and" | "or" | "," | ", and" | ", or") {
            break;
        }
        let inner = &trimmed[word_end + 1..];
        let close = inner.find('$')?;
        out.push_str(&format!(" {word} {}", inner[..close].trim()));
        rest = &inner[close + 1..];
    }
    (!out.is_empty()).then_some(out)
}

/// The text up to the end of its sentence or line (a period before a digit is a decimal
/// point, and formulas are not cut).
fn sentence(text: &str) -> &str {
    let bytes = text.as_bytes();
    let mut in_math = false;
    let limit = text.len().min(MAX_STATEMENT_BYTES);
    let mut i = 0;
    while i < limit {
        match bytes[i] {
            b'$' => in_math = !in_math,
            b'\n' => return &text[..i],
            b'.' | b'!' | b'?' if !in_math => {
                let next = bytes.get(i + 1);
                if next.is_none_or(|b| b.is_ascii_whitespace() || *b == b'*') {
                    return &text[..i];
                }
            }
            _ => {}
        }
        i += 1;
    }
    let mut end = limit;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// The contents of the `$…$`, `\(…\)` and `\[…\]` spans of a line.
fn math_spans(line: &str) -> Vec<&str> {
    const DELIMITERS: [(&str, &str); 4] =
        [("$$", "$$"), ("$", "$"), ("\\(", "\\)"), ("\\[", "\\]")];
    let mut spans = Vec::new();
    let mut i = 0;
    while i < line.len() {
        let tail = &line[i..];
        if tail.starts_with("\\$") {
            i += 2;
            continue;
        }
        if let Some((open, close)) = DELIMITERS.iter().find(|(open, _)| tail.starts_with(open)) {
            let inner = &tail[open.len()..];
            let Some(end) = find_unescaped(inner, close) else {
                break;
            };
            spans.push(inner[..end].trim());
            i += open.len() + end + close.len();
            continue;
        }
        i += tail.chars().next().map_or(1, char::len_utf8);
    }
    spans
}

/// The first `close` in `text` that is not an escaped `\$`.
fn find_unescaped(text: &str, close: &str) -> Option<usize> {
    let mut from = 0;
    while let Some(found) = text[from..].find(close) {
        let at = from + found;
        if close.starts_with('$') && text[..at].ends_with('\\') {
            from = at + 1;
            continue;
        }
        return Some(at);
    }
    None
}

/// An answer without its trailing punctuation, emphasis and enclosing math delimiters.
pub fn clean_tail(text: &str) -> String {
    let mut s = text.trim();
    loop {
        let before = s;
        s = s
            .trim_end_matches(['.', '*', ' ', ',', ';', '"', '”'])
            .trim_start_matches(['*', '"', '“']);
        for (open, close) in [("$$", "$$"), ("$", "$"), ("\\(", "\\)"), ("\\[", "\\]")] {
            if let Some(inner) = s.strip_prefix(open).and_then(|x| x.strip_suffix(close)) {
                s = inner.trim();
            }
        }
        if s == before {
            break;
        }
    }
    s.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn solution(text: &str) -> Vec<String> {
        final_answers(text, Unmarked::ShortLine)
    }

    #[test]
    fn boxes_joined_by_a_few_words_are_one_group() {
        assert_eq!(
            solution(r"It is $\boxed{4}$ or $\boxed{5}$."),
            vec!["4", "5"]
        );
        assert_eq!(
            solution(
                r"First $\boxed{2}$. Wait, that step was wrong and the count is off, so $\boxed{3}$."
            ),
            vec!["3"]
        );
        assert_eq!(
            solution(r"\boxed{1} papers and \boxed{2} bins"),
            vec!["1", "2"]
        );
    }

    #[test]
    fn a_later_final_answer_statement_beats_an_earlier_box() {
        let text = "Guess $\\boxed{12}$ first.\n\nThe final answer is $14$. I hope it is correct.";
        assert_eq!(solution(text), vec!["14"]);
        let text = "The final answer is $14$.\n\nSo $\\boxed{15}$.";
        assert_eq!(solution(text), vec!["15"]);
    }

    #[test]
    fn a_statement_keeps_only_its_mathematics() {
        assert_eq!(
            solution("Final Answer: The final answer is $14{,}916$. I hope it is correct."),
            vec!["14{,}916"]
        );
        assert_eq!(solution("Reasoning.\nThe answer is 6/5."), vec!["6/5"]);
        assert_eq!(
            solution("Final Answer: The volume of $ABCDEFGH$ is 120. I hope it is correct."),
            vec!["120"]
        );
        assert_eq!(solution("The answer is 12.5."), vec!["12.5"]);
        assert_eq!(
            solution(
                "Final Answer: Jane started growing Sphere 3 hours ago. I hope it is correct."
            ),
            vec!["3"]
        );
        assert_eq!(solution("So the answer is 12 apples."), vec!["12 apples"]);
    }

    #[test]
    fn a_short_line_is_its_own_answer_and_long_prose_none() {
        assert_eq!(solution(" 42 "), vec!["42"]);
        assert_eq!(solution(r"We find that $x \lt 3$."), vec![r"x \lt 3"]);
        assert!(solution(&"word ".repeat(30)).is_empty());
        assert!(solution("line one\nline two").is_empty());
    }

    #[test]
    fn nested_and_bare_boxes() {
        assert_eq!(solution(r"$\boxed{\boxed{5}}$"), vec![r"\boxed{5}"]);
        assert_eq!(solution(r"thus $\boxed 5$."), vec!["5"]);
        assert_eq!(solution(r"so \fbox{7} wins"), vec!["7"]);
    }
}
