//! Prompt templates with `{placeholder}` substitution, Python `str.format`-compatible for the
//! cases the original's users write: `{name}` is a placeholder, `{{` and `}}` are literal braces.
//!
//! Braces that do not form `{identifier}` (LaTeX such as `\boxed{}` or `{ x }`) are kept as they
//! are, so math-heavy prompts need no escaping; an `{identifier}` that is not allowed for the
//! prompt is an error, caught at config validation rather than mid-run.

/// A template problem, found before any LLM call is made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    /// `{name}` where `name` is not one of the placeholders this prompt may use.
    #[error("unknown placeholder {{{name}}} at character {offset}; this prompt may use {allowed} (write {{{{ and }}}} for literal braces)")]
    UnknownPlaceholder {
        /// The placeholder's name.
        name: String,
        /// Character offset of the `{`.
        offset: usize,
        /// The allowed placeholders, formatted for the message.
        allowed: String,
    },
}

/// The placeholders each prompt may use.
pub mod placeholders {
    /// Solver prompt: the problem and the last critique (empty on the first iteration).
    pub const SOLVER: &[&str] = &["problem", "feedback"];
    /// Verifier prompt: the problem and the candidate solution.
    pub const VERIFIER: &[&str] = &["problem", "solution"];
    /// Judge prompt: the problem, the final solution and the rubric.
    pub const JUDGE: &[&str] = &["problem", "solution", "rubric"];
}

enum Piece<'a> {
    Text(&'a str),
    Placeholder { name: &'a str, offset: usize },
}

fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn pieces(template: &str) -> Vec<Piece<'_>> {
    let mut out = Vec::new();
    let bytes = template.as_bytes();
    let mut text_start = 0;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'{' if bytes.get(i + 1) == Some(&b'{') => {
                out.push(Piece::Text(&template[text_start..i + 1]));
                i += 2;
                text_start = i;
            }
            b'}' if bytes.get(i + 1) == Some(&b'}') => {
                out.push(Piece::Text(&template[text_start..i + 1]));
                i += 2;
                text_start = i;
            }
            b'{' => {
                let close = template[i + 1..].find('}').map(|p| i + 1 + p);
                match close {
                    Some(end) if is_identifier(&template[i + 1..end]) => {
                        out.push(Piece::Text(&template[text_start..i]));
                        out.push(Piece::Placeholder {
                            name: &template[i + 1..end],
                            offset: template[..i].chars().count(),
                        });
                        i = end + 1;
                        text_start = i;
                    }
                    _ => i += 1,
                }
            }
            _ => i += 1,
        }
    }
    out.push(Piece::Text(&template[text_start..]));
    out
}

/// The placeholder names a template uses, in order of first use.
pub fn placeholders_in(template: &str) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for piece in pieces(template) {
        if let Piece::Placeholder { name, .. } = piece {
            if !names.iter().any(|n| n == name) {
                names.push(name.to_string());
            }
        }
    }
    names
}

/// Checks that every placeholder in `template` is in `allowed`.
pub fn check(template: &str, allowed: &[&str]) -> Result<(), TemplateError> {
    for piece in pieces(template) {
        if let Piece::Placeholder { name, offset } = piece {
            if !allowed.contains(&name) {
                return Err(unknown(name, offset, allowed));
            }
        }
    }
    Ok(())
}

/// Renders `template`, substituting each `{name}` with its value from `vars`.
pub fn render(template: &str, vars: &[(&str, &str)]) -> Result<String, TemplateError> {
    let mut out = String::with_capacity(template.len());
    for piece in pieces(template) {
        match piece {
            Piece::Text(text) => out.push_str(text),
            Piece::Placeholder { name, offset } => match vars.iter().find(|(k, _)| *k == name) {
                Some((_, value)) => out.push_str(value),
                None => {
                    let allowed: Vec<&str> = vars.iter().map(|(k, _)| *k).collect();
                    return Err(unknown(name, offset, &allowed));
                }
            },
        }
    }
    Ok(out)
}

fn unknown(name: &str, offset: usize, allowed: &[&str]) -> TemplateError {
    let allowed = allowed
        .iter()
        .map(|a| format!("{{{a}}}"))
        .collect::<Vec<_>>()
        .join(", ");
    TemplateError::UnknownPlaceholder {
        name: name.to_string(),
        offset,
        allowed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_placeholders_and_python_escapes() {
        let out = render(
            "Solve {problem}. {{literal}} Feedback: {feedback}",
            &[("problem", "1+1"), ("feedback", "none")],
        )
        .unwrap();
        assert_eq!(out, "Solve 1+1. {literal} Feedback: none");
    }

    #[test]
    fn latex_braces_are_left_alone() {
        let t = r"Put the answer in \boxed{} and use \frac{ 1 }{ 2 } for {problem}";
        assert_eq!(placeholders_in(t), vec!["problem"]);
        assert_eq!(
            render(t, &[("problem", "x")]).unwrap(),
            r"Put the answer in \boxed{} and use \frac{ 1 }{ 2 } for x"
        );
    }

    #[test]
    fn unknown_placeholder_is_reported_with_position_and_allowed_names() {
        let err = check("Hi {problem} and {answer}", placeholders::SOLVER).unwrap_err();
        assert_eq!(
            err,
            TemplateError::UnknownPlaceholder {
                name: "answer".into(),
                offset: 17,
                allowed: "{problem}, {feedback}".into()
            }
        );
        assert!(err.to_string().contains("{answer}"));
        assert!(check("{rubric} {solution}", placeholders::JUDGE).is_ok());
    }

    #[test]
    fn substituted_values_are_not_reinterpreted() {
        let out = render("{problem}", &[("problem", "{feedback}")]).unwrap();
        assert_eq!(out, "{feedback}");
    }
}
