//! The LaTeX commands that stand for one symbol, and what each becomes in MathML.
//!
//! The characters are the ones TeX's own fonts draw for these commands (the names and
//! characters follow the Unicode math alphabet tables, UTR #25, and `unicode-math`'s list);
//! a command not listed here and not handled by the parser is shown as written.

/// What a symbol command becomes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Symbol {
    /// An `<mi>` drawn as the browser draws identifiers (a single letter in italic).
    Letter(&'static str),
    /// An `<mi>` drawn upright (capital Greek, as TeX draws it).
    Upright(&'static str),
    /// An `<mo>`: a binary operator, relation, arrow or punctuation.
    Operator(&'static str),
    /// A bracket or bar: an `<mo>` that keeps its size unless `\left`/`\right` stretch it.
    Fence(&'static str),
    /// A big operator (`\sum`, `\int`); `true` when its limits go above and below it.
    Large(&'static str, bool),
    /// A function name (`\sin`, `\lim`); `true` when its limits go below it.
    Function(&'static str, bool),
}

/// The symbol `\name` stands for, if it is one.
pub fn lookup(name: &str) -> Option<Symbol> {
    greek(name)
        .or_else(|| letterlike(name))
        .or_else(|| operator(name).map(Symbol::Operator))
        .or_else(|| fence(name).map(Symbol::Fence))
        .or_else(|| large(name))
        .or_else(|| function(name))
}

fn greek(name: &str) -> Option<Symbol> {
    use Symbol::{Letter, Upright};
    Some(match name {
        "alpha" => Letter("α"),
        "beta" => Letter("β"),
        "gamma" => Letter("γ"),
        "delta" => Letter("δ"),
        "epsilon" => Letter("ϵ"),
        "varepsilon" => Letter("ε"),
        "zeta" => Letter("ζ"),
        "eta" => Letter("η"),
        "theta" => Letter("θ"),
        "vartheta" => Letter("ϑ"),
        "iota" => Letter("ι"),
        "kappa" => Letter("κ"),
        "varkappa" => Letter("ϰ"),
        "lambda" => Letter("λ"),
        "mu" => Letter("μ"),
        "nu" => Letter("ν"),
        "xi" => Letter("ξ"),
        "omicron" => Letter("ο"),
        "pi" => Letter("π"),
        "varpi" => Letter("ϖ"),
        "rho" => Letter("ρ"),
        "varrho" => Letter("ϱ"),
        "sigma" => Letter("σ"),
        "varsigma" => Letter("ς"),
        "tau" => Letter("τ"),
        "upsilon" => Letter("υ"),
        "phi" => Letter("ϕ"),
        "varphi" => Letter("φ"),
        "chi" => Letter("χ"),
        "psi" => Letter("ψ"),
        "omega" => Letter("ω"),
        "Gamma" => Upright("Γ"),
        "Delta" => Upright("Δ"),
        "Theta" => Upright("Θ"),
        "Lambda" => Upright("Λ"),
        "Xi" => Upright("Ξ"),
        "Pi" => Upright("Π"),
        "Sigma" => Upright("Σ"),
        "Upsilon" => Upright("Υ"),
        "Phi" => Upright("Φ"),
        "Psi" => Upright("Ψ"),
        "Omega" => Upright("Ω"),
        _ => return None,
    })
}

fn letterlike(name: &str) -> Option<Symbol> {
    use Symbol::{Letter, Upright};
    Some(match name {
        "infty" => Upright("∞"),
        "partial" => Letter("∂"),
        "nabla" => Upright("∇"),
        "ell" => Letter("ℓ"),
        "hbar" | "hslash" => Letter("ℏ"),
        "imath" => Letter("ı"),
        "jmath" => Letter("ȷ"),
        "aleph" => Upright("ℵ"),
        "beth" => Upright("ℶ"),
        "Re" => Upright("ℜ"),
        "Im" => Upright("ℑ"),
        "wp" => Upright("℘"),
        "emptyset" => Upright("∅"),
        "varnothing" => Upright("⌀"),
        "top" => Upright("⊤"),
        "bot" => Upright("⊥"),
        "angle" => Upright("∠"),
        "measuredangle" => Upright("∡"),
        "triangle" => Upright("△"),
        "square" | "Box" => Upright("□"),
        "blacksquare" => Upright("■"),
        "diamond" => Upright("⋄"),
        "lozenge" => Upright("◊"),
        "checkmark" => Upright("✓"),
        "prime" => Upright("′"),
        "degree" => Upright("°"),
        "dagger" => Upright("†"),
        "ddagger" => Upright("‡"),
        "S" => Upright("§"),
        "P" => Upright("¶"),
        "clubsuit" => Upright("♣"),
        "diamondsuit" => Upright("♢"),
        "heartsuit" => Upright("♡"),
        "spadesuit" => Upright("♠"),
        "flat" => Upright("♭"),
        "natural" => Upright("♮"),
        "sharp" => Upright("♯"),
        "$" => Upright("$"),
        "%" => Upright("%"),
        "#" => Upright("#"),
        "_" => Upright("_"),
        _ => return None,
    })
}

fn operator(name: &str) -> Option<&'static str> {
    Some(match name {
        // Binary operators.
        "pm" => "±",
        "mp" => "∓",
        "times" => "×",
        "div" => "÷",
        "cdot" | "centerdot" => "⋅",
        "ast" => "∗",
        "star" => "⋆",
        "circ" => "∘",
        "bullet" => "∙",
        "cap" => "∩",
        "cup" => "∪",
        "sqcap" => "⊓",
        "sqcup" => "⊔",
        "vee" | "lor" => "∨",
        "wedge" | "land" => "∧",
        "setminus" | "smallsetminus" => "∖",
        "oplus" => "⊕",
        "ominus" => "⊖",
        "otimes" => "⊗",
        "oslash" => "⊘",
        "odot" => "⊙",
        "uplus" => "⊎",
        "amalg" => "⨿",
        "wr" => "≀",
        "&" => "&",
        // Relations.
        "le" | "leq" => "≤",
        "ge" | "geq" => "≥",
        "leqslant" => "⩽",
        "geqslant" => "⩾",
        "lt" => "<",
        "gt" => ">",
        "ne" | "neq" => "≠",
        "nless" => "≮",
        "ngtr" => "≯",
        "nleq" => "≰",
        "ngeq" => "≱",
        "equiv" => "≡",
        "approx" => "≈",
        "approxeq" => "≊",
        "sim" => "∼",
        "simeq" => "≃",
        "cong" => "≅",
        "ncong" => "≇",
        "propto" => "∝",
        "asymp" => "≍",
        "doteq" => "≐",
        "triangleq" => "≜",
        "coloneqq" | "coloneq" => "≔",
        "ll" => "≪",
        "gg" => "≫",
        "lesssim" => "≲",
        "gtrsim" => "≳",
        "prec" => "≺",
        "succ" => "≻",
        "preceq" => "⪯",
        "succeq" => "⪰",
        "in" | "isin" => "∈",
        "ni" | "owns" => "∋",
        "notin" => "∉",
        "subset" => "⊂",
        "supset" => "⊃",
        "subseteq" => "⊆",
        "supseteq" => "⊇",
        "subsetneq" => "⊊",
        "supsetneq" => "⊋",
        "nsubseteq" => "⊈",
        "nsupseteq" => "⊉",
        "sqsubseteq" => "⊑",
        "sqsupseteq" => "⊒",
        "mid" => "∣",
        "nmid" => "∤",
        "parallel" => "∥",
        "nparallel" => "∦",
        "perp" => "⟂",
        "models" => "⊨",
        "vdash" => "⊢",
        "dashv" => "⊣",
        "therefore" => "∴",
        "because" => "∵",
        // Arrows.
        "to" | "rightarrow" => "→",
        "gets" | "leftarrow" => "←",
        "Rightarrow" => "⇒",
        "Leftarrow" => "⇐",
        "leftrightarrow" => "↔",
        "Leftrightarrow" => "⇔",
        "longrightarrow" => "⟶",
        "longleftarrow" => "⟵",
        "longleftrightarrow" => "⟷",
        "Longrightarrow" | "implies" => "⟹",
        "Longleftarrow" | "impliedby" => "⟸",
        "Longleftrightarrow" | "iff" => "⟺",
        "mapsto" => "↦",
        "longmapsto" => "⟼",
        "hookrightarrow" => "↪",
        "hookleftarrow" => "↩",
        "nearrow" => "↗",
        "searrow" => "↘",
        "nwarrow" => "↖",
        "swarrow" => "↙",
        "rightleftharpoons" => "⇌",
        "leftrightarrows" => "⇆",
        "rightrightarrows" => "⇉",
        // Logic and punctuation.
        "forall" => "∀",
        "exists" => "∃",
        "nexists" => "∄",
        "neg" | "lnot" => "¬",
        "colon" => ":",
        "ldots" | "dots" | "dotsc" | "dotso" => "…",
        "cdots" | "dotsb" | "dotsm" | "dotsi" => "⋯",
        "vdots" => "⋮",
        "ddots" => "⋱",
        _ => return None,
    })
}

/// The brackets and bars `\left`, `\right`, `\middle` and `\big` … accept, by command name.
pub fn fence(name: &str) -> Option<&'static str> {
    Some(match name {
        "{" | "lbrace" => "{",
        "}" | "rbrace" => "}",
        "lbrack" => "[",
        "rbrack" => "]",
        "langle" => "⟨",
        "rangle" => "⟩",
        "lfloor" => "⌊",
        "rfloor" => "⌋",
        "lceil" => "⌈",
        "rceil" => "⌉",
        "vert" | "lvert" | "rvert" => "|",
        "|" | "Vert" | "lVert" | "rVert" => "‖",
        "backslash" => "\\",
        "uparrow" => "↑",
        "downarrow" => "↓",
        "updownarrow" => "↕",
        "Uparrow" => "⇑",
        "Downarrow" => "⇓",
        "Updownarrow" => "⇕",
        _ => return None,
    })
}

/// The brackets and bars written as characters, for `\left` and friends.
pub fn fence_char(c: char) -> Option<&'static str> {
    Some(match c {
        '(' => "(",
        ')' => ")",
        '[' => "[",
        ']' => "]",
        '|' => "|",
        '/' => "/",
        '<' => "⟨",
        '>' => "⟩",
        _ => return None,
    })
}

fn large(name: &str) -> Option<Symbol> {
    use Symbol::Large;
    Some(match name {
        "sum" => Large("∑", true),
        "prod" => Large("∏", true),
        "coprod" => Large("∐", true),
        "bigcup" => Large("⋃", true),
        "bigcap" => Large("⋂", true),
        "bigvee" => Large("⋁", true),
        "bigwedge" => Large("⋀", true),
        "bigoplus" => Large("⨁", true),
        "bigotimes" => Large("⨂", true),
        "bigodot" => Large("⨀", true),
        "biguplus" => Large("⨄", true),
        "bigsqcup" => Large("⨆", true),
        "int" => Large("∫", false),
        "iint" => Large("∬", false),
        "iiint" => Large("∭", false),
        "oint" => Large("∮", false),
        _ => return None,
    })
}

fn function(name: &str) -> Option<Symbol> {
    use Symbol::Function;
    Some(match name {
        "sin" => Function("sin", false),
        "cos" => Function("cos", false),
        "tan" => Function("tan", false),
        "cot" => Function("cot", false),
        "sec" => Function("sec", false),
        "csc" => Function("csc", false),
        "sinh" => Function("sinh", false),
        "cosh" => Function("cosh", false),
        "tanh" => Function("tanh", false),
        "coth" => Function("coth", false),
        "arcsin" => Function("arcsin", false),
        "arccos" => Function("arccos", false),
        "arctan" => Function("arctan", false),
        "log" => Function("log", false),
        "ln" => Function("ln", false),
        "lg" => Function("lg", false),
        "exp" => Function("exp", false),
        "deg" => Function("deg", false),
        "dim" => Function("dim", false),
        "hom" => Function("hom", false),
        "ker" => Function("ker", false),
        "arg" => Function("arg", false),
        "lim" => Function("lim", true),
        "liminf" => Function("lim inf", true),
        "limsup" => Function("lim sup", true),
        "max" => Function("max", true),
        "min" => Function("min", true),
        "sup" => Function("sup", true),
        "inf" => Function("inf", true),
        "det" => Function("det", true),
        "gcd" => Function("gcd", true),
        "Pr" => Function("Pr", true),
        _ => return None,
    })
}

/// The negated form of a relation, for `\not`.
pub fn negated(relation: &str) -> Option<&'static str> {
    Some(match relation {
        "=" => "≠",
        "<" => "≮",
        ">" => "≯",
        "≤" => "≰",
        "≥" => "≱",
        "∈" => "∉",
        "∋" => "∌",
        "⊂" => "⊄",
        "⊃" => "⊅",
        "⊆" => "⊈",
        "⊇" => "⊉",
        "≡" => "≢",
        "∼" => "≁",
        "≈" => "≉",
        "≅" => "≇",
        "∣" => "∤",
        "∥" => "∦",
        "∃" => "∄",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_find_their_symbols() {
        assert_eq!(lookup("pi"), Some(Symbol::Letter("π")));
        assert_eq!(lookup("Omega"), Some(Symbol::Upright("Ω")));
        assert_eq!(lookup("cdot"), Some(Symbol::Operator("⋅")));
        assert_eq!(lookup("le"), Some(Symbol::Operator("≤")));
        assert_eq!(lookup("langle"), Some(Symbol::Fence("⟨")));
        assert_eq!(lookup("sum"), Some(Symbol::Large("∑", true)));
        assert_eq!(lookup("int"), Some(Symbol::Large("∫", false)));
        assert_eq!(lookup("lim"), Some(Symbol::Function("lim", true)));
        assert_eq!(lookup("href"), None);
        assert_eq!(negated("∈"), Some("∉"));
    }
}
