//! What a model's text becomes: a small tree of node kinds the page knows how to draw.
//!
//! Every kind here maps to one fixed element (see the UI's rich-text component) and every
//! attribute value the page sets comes from an enum of this module, never from the text: the
//! text reaches the page only as text nodes. A link target is the one string that becomes an
//! attribute, and [`WebUrl`] admits only `http:` and `https:` addresses.

/// A text read as Markdown: its blocks in order.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Document {
    /// The blocks, top to bottom.
    pub blocks: Vec<Block>,
}

/// A block of text.
#[derive(Debug, Clone, PartialEq)]
pub enum Block {
    /// Running text.
    Paragraph(Vec<Inline>),
    /// `# Title` … `###### Title`.
    Heading {
        /// 1 to 6.
        level: HeadingLevel,
        /// The title.
        content: Vec<Inline>,
    },
    /// A fenced block of code, shown as written.
    CodeBlock {
        /// What follows the opening fence (a language name, usually); may be empty.
        info: String,
        /// The lines between the fences.
        code: String,
    },
    /// A bulleted (`start` is `None`) or numbered list.
    List {
        /// The number of the first item of a numbered list.
        start: Option<u32>,
        /// The items, each a run of blocks.
        items: Vec<Vec<Block>>,
    },
    /// `> quoted` text.
    Quote(Vec<Block>),
    /// A formula on its own lines (`$$…$$`, `\[…\]`, `\begin{aligned}…\end{aligned}`).
    Math(MathSpan),
    /// `---`: a break between sections.
    Rule,
}

/// A heading's level, 1 (the largest) to 6.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeadingLevel(u8);

impl HeadingLevel {
    /// The level of a heading opened with `hashes` `#` signs, if that is a heading (1 to 6).
    pub fn of_hashes(hashes: usize) -> Option<Self> {
        match hashes {
            1..=6 => u8::try_from(hashes).ok().map(Self),
            _ => None,
        }
    }

    /// 1 to 6.
    pub fn get(self) -> u8 {
        self.0
    }
}

/// Text within a block.
#[derive(Debug, Clone, PartialEq)]
pub enum Inline {
    /// Plain text.
    Text(String),
    /// `*emphasis*` or `_emphasis_`.
    Emphasis(Vec<Inline>),
    /// `**strong**` or `__strong__`.
    Strong(Vec<Inline>),
    /// `` `code` ``, shown as written.
    Code(String),
    /// `[text](https://…)` or `<https://…>`: the page shows the address itself as well, so a
    /// link never hides where it goes.
    Link {
        /// What the link says.
        content: Vec<Inline>,
        /// Where it goes.
        url: WebUrl,
    },
    /// `$…$`, `\(…\)`, or a `$$…$$` / `\[…\]` inside running text.
    Math(MathSpan),
    /// The end of a line: model text uses single line breaks on purpose (steps, equations one
    /// per line), so they are kept rather than joined as CommonMark would.
    LineBreak,
}

/// An `http:` or `https:` address: the only kind of link target the renderer keeps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebUrl(String);

impl WebUrl {
    /// `text` as a web address, or `None` when it is anything else: another scheme
    /// (`javascript:`, `data:`, `file:` …), a relative path, or text with spaces or control
    /// characters in it.
    pub fn parse(text: &str) -> Option<Self> {
        let scheme_end = text.find(':')?;
        let scheme = &text[..scheme_end];
        let rest = &text[scheme_end + 1..];
        let web = scheme.eq_ignore_ascii_case("http") || scheme.eq_ignore_ascii_case("https");
        let clean = !text
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == '<' || c == '>' || c == '"');
        (web && clean && rest.starts_with("//") && rest.len() > 2).then(|| Self(text.to_string()))
    }

    /// The address as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A formula: drawn as MathML, or kept as written when it is not LaTeX the renderer reads.
#[derive(Debug, Clone, PartialEq)]
pub enum MathSpan {
    /// The formula as MathML.
    Rendered(Math),
    /// A formula that did not parse (an unbalanced brace, `\end` without `\begin` …): its
    /// source as written, and why.
    Failed {
        /// The LaTeX between the delimiters.
        source: String,
        /// Whether it was a display formula.
        display: bool,
        /// What is wrong with it, as a sentence.
        error: String,
    },
}

/// A formula as MathML: the `<math>` element.
#[derive(Debug, Clone, PartialEq)]
pub struct Math {
    /// `display="block"`: a formula on its own line.
    pub display: bool,
    /// The children of `<math>`.
    pub content: Vec<MathNode>,
}

/// A MathML element (MathML Core, which Chromium draws natively).
#[derive(Debug, Clone, PartialEq)]
pub enum MathNode {
    /// `<mrow>`: a group.
    Row(Vec<MathNode>),
    /// `<mi>`: an identifier (`x`, `\alpha`, `sin`).
    Ident {
        /// The name.
        text: String,
        /// Upright (`mathvariant="normal"`): a single letter is italic otherwise.
        upright: bool,
    },
    /// `<mn>`: a number.
    Number(String),
    /// `<mo>`: an operator, relation, fence or separator.
    Operator(Operator),
    /// `<mtext>`: words inside a formula (`\text{…}`).
    Text(String),
    /// `<mspace>`: a fixed space (`\,`, `\quad` …).
    Space(Space),
    /// `<mfrac>`: `\frac`, `\binom`.
    Fraction {
        /// Above the bar.
        numerator: Box<MathNode>,
        /// Below it.
        denominator: Box<MathNode>,
        /// Whether the bar is drawn (`\binom` has none).
        bar: bool,
        /// `\dfrac` (`Some(true)`) or `\tfrac` (`Some(false)`) size, else the context's.
        display: Option<bool>,
    },
    /// `<msqrt>`.
    Sqrt(Box<MathNode>),
    /// `<mroot>`: `\sqrt[n]{x}`.
    Root {
        /// Under the radical.
        base: Box<MathNode>,
        /// The degree.
        index: Box<MathNode>,
    },
    /// `<msub>`, `<msup>` or `<msubsup>`, by which scripts are present.
    Scripts {
        /// What the scripts attach to.
        base: Box<MathNode>,
        /// The subscript.
        sub: Option<Box<MathNode>>,
        /// The superscript.
        sup: Option<Box<MathNode>>,
    },
    /// `<munder>`, `<mover>` or `<munderover>`: limits of `\sum`, accents, `\overset`.
    Limits {
        /// The operator or expression.
        base: Box<MathNode>,
        /// Below it.
        under: Option<Box<MathNode>>,
        /// Above it.
        over: Option<Box<MathNode>>,
        /// The part above is an accent (`\hat`, `\bar`, `\vec`): drawn close to the base.
        accent: bool,
    },
    /// `<mtable>`: matrices, `cases`, aligned steps.
    Table(Table),
    /// `<menclose notation="box">`: `\boxed`.
    Boxed(Box<MathNode>),
    /// `<mstyle displaystyle>`: `\displaystyle` or `\textstyle` and what follows in its group.
    Style {
        /// Whether display style is on.
        display: bool,
        /// The styled content.
        content: Vec<MathNode>,
    },
    /// `<merror>`: a command the renderer does not know, shown as written (`\href`, `\color` …);
    /// the rest of the formula is still drawn.
    Unknown(String),
}

/// An `<mo>`.
#[derive(Debug, Clone, PartialEq)]
pub struct Operator {
    /// The operator's text.
    pub text: String,
    /// `stretchy`: `Some(true)` for `\left`/`\right` fences, `Some(false)` for brackets that
    /// must keep their size; `None` leaves it to the operator dictionary.
    pub stretchy: Option<bool>,
    /// A fixed size (`\big(`, `\Bigg]` …).
    pub size: Option<DelimiterSize>,
    /// `movablelimits="true"`: limits drawn as scripts in running text (`\lim`).
    pub movable_limits: bool,
}

impl Operator {
    /// An operator with the dictionary's defaults.
    pub fn plain(text: impl Into<String>) -> Self {
        Operator {
            text: text.into(),
            stretchy: None,
            size: None,
            movable_limits: false,
        }
    }
}

/// The fixed sizes of `\big` … `\Bigg`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DelimiterSize {
    /// `\big`.
    Big,
    /// `\Big`.
    BigBig,
    /// `\bigg`.
    Bigg,
    /// `\Bigg`.
    BigBigg,
}

impl DelimiterSize {
    /// The `minsize`/`maxsize` value.
    pub fn em(self) -> &'static str {
        // TeX's \big … \Bigg are 1.2, 1.8, 2.4 and 3 times the normal size (plain.tex).
        match self {
            DelimiterSize::Big => "1.2em",
            DelimiterSize::BigBig => "1.8em",
            DelimiterSize::Bigg => "2.4em",
            DelimiterSize::BigBigg => "3em",
        }
    }
}

/// The fixed spaces of LaTeX math.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Space {
    /// `\!`: a thin space back.
    NegativeThin,
    /// `\,`.
    Thin,
    /// `\:` or `\>`.
    Medium,
    /// `\;`.
    Thick,
    /// `\ ` or `~`: a word space.
    Word,
    /// `\quad`.
    Quad,
    /// `\qquad`.
    QQuad,
}

impl Space {
    /// The `width` value.
    pub fn em(self) -> &'static str {
        // TeX's math spaces in mu (18 mu = 1 em): \, 3 mu, \: 4 mu, \; 5 mu; \quad is 1 em.
        match self {
            Space::NegativeThin => "-0.1667em",
            Space::Thin => "0.1667em",
            Space::Medium => "0.2222em",
            Space::Thick => "0.2778em",
            Space::Word => "0.25em",
            Space::Quad => "1em",
            Space::QQuad => "2em",
        }
    }
}

/// An `<mtable>`.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    /// Which environment made it: decides the alignment and spacing of its columns.
    pub kind: TableKind,
    /// The rows, each a list of cells.
    pub rows: Vec<Vec<MathNode>>,
}

impl Table {
    /// How the cells of column `column` (from 0) are aligned.
    pub fn align(&self, column: usize) -> ColumnAlign {
        match &self.kind {
            TableKind::Matrix | TableKind::Gathered => ColumnAlign::Center,
            TableKind::Cases => ColumnAlign::Left,
            // `aligned` pairs columns around the `&`: right, then left, then right …
            TableKind::Aligned if column.is_multiple_of(2) => ColumnAlign::Right,
            TableKind::Aligned => ColumnAlign::Left,
            TableKind::Array(columns) => columns.get(column).copied().unwrap_or_default(),
        }
    }
}

/// The environment behind a table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TableKind {
    /// `matrix`, `pmatrix`, `bmatrix` …: centered cells.
    Matrix,
    /// `cases`: left-aligned value and condition.
    Cases,
    /// `aligned`, `align`, `split`: steps aligned at `&`.
    Aligned,
    /// `gathered`, `gather`: centered lines.
    Gathered,
    /// `array`: the columns its specification gives.
    Array(Vec<ColumnAlign>),
}

/// A column's alignment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ColumnAlign {
    /// `l`.
    Left,
    /// `c`.
    #[default]
    Center,
    /// `r`.
    Right,
}
