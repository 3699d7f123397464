//! Model text as rich text (`app::richtext`): each Markdown and LaTeX construct, what hostile
//! text becomes, and the limits that bound a render.

use trialogue::app::richtext::{
    render, render_counted, render_with, Block, ColumnAlign, DelimiterSize, Document, Inline,
    LimitError, Limits, MathNode, MathSpan, Operator, Space, Table, TableKind,
};

// ── Helpers: the expected trees, written out by hand ────────────────────────────────────────

fn text(t: &str) -> Inline {
    Inline::Text(t.to_string())
}

fn mi(t: &str) -> MathNode {
    MathNode::Ident {
        text: t.to_string(),
        upright: false,
    }
}

fn upright(t: &str) -> MathNode {
    MathNode::Ident {
        text: t.to_string(),
        upright: true,
    }
}

fn mn(t: &str) -> MathNode {
    MathNode::Number(t.to_string())
}

fn mo(t: &str) -> MathNode {
    MathNode::Operator(Operator::plain(t))
}

fn fixed(t: &str) -> MathNode {
    MathNode::Operator(Operator {
        stretchy: Some(false),
        ..Operator::plain(t)
    })
}

fn stretchy(t: &str) -> MathNode {
    MathNode::Operator(Operator {
        stretchy: Some(true),
        ..Operator::plain(t)
    })
}

fn row(nodes: Vec<MathNode>) -> MathNode {
    MathNode::Row(nodes)
}

fn sup(base: MathNode, script: MathNode) -> MathNode {
    MathNode::Scripts {
        base: Box::new(base),
        sub: None,
        sup: Some(Box::new(script)),
    }
}

fn sub(base: MathNode, script: MathNode) -> MathNode {
    MathNode::Scripts {
        base: Box::new(base),
        sub: Some(Box::new(script)),
        sup: None,
    }
}

fn frac(numerator: MathNode, denominator: MathNode) -> MathNode {
    MathNode::Fraction {
        numerator: Box::new(numerator),
        denominator: Box::new(denominator),
        bar: true,
        display: None,
    }
}

fn doc(source: &str) -> Document {
    render(source).unwrap_or_else(|e| panic!("{source:?} did not render: {e}"))
}

/// The inline content of a text that is one paragraph.
fn inline(source: &str) -> Vec<Inline> {
    match doc(source).blocks.as_slice() {
        [Block::Paragraph(content)] => content.clone(),
        other => panic!("{source:?} is not one paragraph: {other:?}"),
    }
}

/// The MathML of `$source$`.
fn math(source: &str) -> Vec<MathNode> {
    let wrapped = format!("${source}$");
    match inline(&wrapped).as_slice() {
        [Inline::Math(MathSpan::Rendered(m))] => {
            assert!(!m.display, "{wrapped:?} is inline math");
            m.content.clone()
        }
        other => panic!("{wrapped:?} is not one rendered formula: {other:?}"),
    }
}

/// Why `$source$` is kept as written.
fn math_error(source: &str) -> String {
    let wrapped = format!("${source}$");
    match inline(&wrapped).as_slice() {
        [Inline::Math(MathSpan::Failed {
            source: kept,
            error,
            ..
        })] => {
            assert_eq!(kept, source, "the source is kept as written");
            error.clone()
        }
        other => panic!("{wrapped:?} did not fail as one formula: {other:?}"),
    }
}

/// Every link target in a document.
fn urls(document: &Document) -> Vec<String> {
    fn in_inlines(nodes: &[Inline], out: &mut Vec<String>) {
        for node in nodes {
            match node {
                Inline::Link { content, url } => {
                    out.push(url.as_str().to_string());
                    in_inlines(content, out);
                }
                Inline::Emphasis(inner) | Inline::Strong(inner) => in_inlines(inner, out),
                _ => {}
            }
        }
    }
    fn in_blocks(blocks: &[Block], out: &mut Vec<String>) {
        for block in blocks {
            match block {
                Block::Paragraph(content) | Block::Heading { content, .. } => {
                    in_inlines(content, out)
                }
                Block::List { items, .. } => items.iter().for_each(|item| in_blocks(item, out)),
                Block::Quote(inner) => in_blocks(inner, out),
                _ => {}
            }
        }
    }
    let mut out = Vec::new();
    in_blocks(&document.blocks, &mut out);
    out
}

/// Every `MathNode::Unknown` of a formula, in order.
fn unknowns(nodes: &[MathNode]) -> Vec<String> {
    fn walk(node: &MathNode, out: &mut Vec<String>) {
        match node {
            MathNode::Unknown(name) => out.push(name.clone()),
            MathNode::Row(children)
            | MathNode::Style {
                content: children, ..
            } => children.iter().for_each(|c| walk(c, out)),
            MathNode::Fraction {
                numerator,
                denominator,
                ..
            } => {
                walk(numerator, out);
                walk(denominator, out);
            }
            MathNode::Sqrt(inner) | MathNode::Boxed(inner) => walk(inner, out),
            MathNode::Root { base, index } => {
                walk(base, out);
                walk(index, out);
            }
            MathNode::Scripts { base, sub, sup } => {
                walk(base, out);
                sub.iter().chain(sup).for_each(|s| walk(s, out));
            }
            MathNode::Limits {
                base, under, over, ..
            } => {
                walk(base, out);
                under.iter().chain(over).for_each(|s| walk(s, out));
            }
            MathNode::Table(table) => table.rows.iter().flatten().for_each(|c| walk(c, out)),
            _ => {}
        }
    }
    let mut out = Vec::new();
    nodes.iter().for_each(|n| walk(n, &mut out));
    out
}

// ── Markdown ────────────────────────────────────────────────────────────────────────────────

#[test]
fn blank_lines_separate_paragraphs_and_single_line_breaks_are_kept() {
    assert_eq!(
        doc("Step 1: add.\nStep 2: check.\n\nDone.").blocks,
        vec![
            Block::Paragraph(vec![
                text("Step 1: add."),
                Inline::LineBreak,
                text("Step 2: check.")
            ]),
            Block::Paragraph(vec![text("Done.")]),
        ]
    );
}

#[test]
fn emphasis_and_strong_follow_commonmark_delimiter_runs() {
    assert_eq!(
        inline("*a* **b** _c_ __d__"),
        vec![
            Inline::Emphasis(vec![text("a")]),
            text(" "),
            Inline::Strong(vec![text("b")]),
            text(" "),
            Inline::Emphasis(vec![text("c")]),
            text(" "),
            Inline::Strong(vec![text("d")]),
        ]
    );
    assert_eq!(
        inline("***both***"),
        vec![Inline::Emphasis(vec![Inline::Strong(vec![text("both")])])]
    );
    assert_eq!(
        inline("**bold *and italic* here**"),
        vec![Inline::Strong(vec![
            text("bold "),
            Inline::Emphasis(vec![text("and italic")]),
            text(" here"),
        ])]
    );
}

#[test]
fn underscores_inside_words_and_spaced_stars_stay_text() {
    assert_eq!(inline("snake_case_name"), vec![text("snake_case_name")]);
    assert_eq!(inline("2 * 3 * 4 = 24"), vec![text("2 * 3 * 4 = 24")]);
    assert_eq!(inline("**not closed"), vec![text("**not closed")]);
}

#[test]
fn code_spans_keep_their_content_as_written() {
    assert_eq!(
        inline("run `x = $y$ * 2` now"),
        vec![
            text("run "),
            Inline::Code("x = $y$ * 2".into()),
            text(" now")
        ]
    );
    assert_eq!(inline("`` a ` b ``"), vec![Inline::Code("a ` b".into())]);
    assert_eq!(inline("`unclosed"), vec![text("`unclosed")]);
}

#[test]
fn headings_take_one_to_six_hashes_and_a_space() {
    let blocks = doc("# One\n### Three ###\n#hashtag").blocks;
    let levels: Vec<(u8, Vec<Inline>)> = blocks
        .iter()
        .filter_map(|b| match b {
            Block::Heading { level, content } => Some((level.get(), content.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(
        levels,
        vec![(1, vec![text("One")]), (3, vec![text("Three")])]
    );
    assert_eq!(blocks[2], Block::Paragraph(vec![text("#hashtag")]));
}

#[test]
fn fenced_code_is_kept_line_for_line() {
    assert_eq!(
        doc("```python\nx = \"$a$\"\n\n<script>\n```\nafter").blocks,
        vec![
            Block::CodeBlock {
                info: "python".into(),
                code: "x = \"$a$\"\n\n<script>".into()
            },
            Block::Paragraph(vec![text("after")]),
        ]
    );
    // An unclosed fence runs to the end.
    assert_eq!(
        doc("~~~\nopen").blocks,
        vec![Block::CodeBlock {
            info: String::new(),
            code: "open".into()
        }]
    );
}

#[test]
fn lists_nest_by_indentation_and_numbered_lists_keep_their_start() {
    let blocks =
        doc("Steps:\n\n3. first\n4. second\n   - detail\n   more detail\n\n- other").blocks;
    assert_eq!(
        blocks,
        vec![
            Block::Paragraph(vec![text("Steps:")]),
            Block::List {
                start: Some(3),
                items: vec![
                    vec![Block::Paragraph(vec![text("first")])],
                    vec![
                        Block::Paragraph(vec![text("second")]),
                        Block::List {
                            start: None,
                            items: vec![vec![Block::Paragraph(vec![
                                text("detail"),
                                Inline::LineBreak,
                                text("more detail")
                            ])]],
                        },
                    ],
                ],
            },
            Block::List {
                start: None,
                items: vec![vec![Block::Paragraph(vec![text("other")])]],
            },
        ]
    );
}

#[test]
fn a_numbered_line_inside_a_paragraph_starts_a_list_only_from_one() {
    assert_eq!(
        doc("In the year\n1984. It was").blocks,
        vec![Block::Paragraph(vec![
            text("In the year"),
            Inline::LineBreak,
            text("1984. It was")
        ])]
    );
}

#[test]
fn quotes_hold_blocks_and_rules_separate_sections() {
    assert_eq!(
        doc("> quoted *text*\nlazy line\n\n---\n\nafter").blocks,
        vec![
            Block::Quote(vec![Block::Paragraph(vec![
                text("quoted "),
                Inline::Emphasis(vec![text("text")]),
                Inline::LineBreak,
                text("lazy line"),
            ])]),
            Block::Rule,
            Block::Paragraph(vec![text("after")]),
        ]
    );
}

#[test]
fn web_links_keep_their_address_and_others_stay_text() {
    let content = inline("see [the proof](https://example.org/a_(b)) or <http://x.org/>");
    assert_eq!(
        urls(&doc(
            "see [the proof](https://example.org/a_(b)) or <http://x.org/>"
        )),
        ["https://example.org/a_(b)", "http://x.org/"]
    );
    assert_eq!(
        content[1],
        Inline::Link {
            content: vec![text("the proof")],
            url: trialogue::app::richtext::WebUrl::parse("https://example.org/a_(b)").unwrap(),
        }
    );
    assert_eq!(
        inline("[rel](/local/path)"),
        vec![text("[rel](/local/path)")]
    );
    assert_eq!(inline("[no target]"), vec![text("[no target]")]);
}

#[test]
fn backslash_escapes_make_markup_characters_text() {
    assert_eq!(
        inline(r"\*not emphasis\* costs \$5"),
        vec![text("*not emphasis* costs $5")]
    );
}

// ── Math delimiters ─────────────────────────────────────────────────────────────────────────

#[test]
fn every_math_delimiter_is_read() {
    let content = inline(r"a $x$ b \(y\) c $$z$$ d \[w\]");
    let spans: Vec<(bool, Vec<MathNode>)> = content
        .iter()
        .filter_map(|node| match node {
            Inline::Math(MathSpan::Rendered(m)) => Some((m.display, m.content.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(
        spans,
        vec![
            (false, vec![mi("x")]),
            (false, vec![mi("y")]),
            (true, vec![mi("z")]),
            (true, vec![mi("w")]),
        ]
    );
}

#[test]
fn dollar_amounts_stay_text() {
    assert_eq!(
        inline("It costs $5 and $10."),
        vec![text("It costs $5 and $10.")]
    );
    assert_eq!(inline("between $ 3 $ and"), vec![text("between $ 3 $ and")]);
    assert_eq!(inline("$x$5"), vec![text("$x$5")]);
}

#[test]
fn display_math_on_its_own_lines_is_a_block_even_when_a_line_looks_like_a_list() {
    assert_eq!(
        doc("So\n$$\n- \\frac{1}{2}\n$$\nhence").blocks,
        vec![
            Block::Paragraph(vec![text("So")]),
            Block::Math(MathSpan::Rendered(trialogue::app::richtext::Math {
                display: true,
                content: vec![mo("−"), frac(mn("1"), mn("2"))],
            })),
            Block::Paragraph(vec![text("hence")]),
        ]
    );
}

#[test]
fn an_aligned_environment_on_its_own_is_display_math() {
    let blocks = doc("\\begin{aligned}\nx &= 1 \\\\\ny &= 2\n\\end{aligned}").blocks;
    let [Block::Math(MathSpan::Rendered(m))] = blocks.as_slice() else {
        panic!("not one display formula: {blocks:?}");
    };
    assert!(m.display);
    assert_eq!(
        m.content,
        vec![MathNode::Table(Table {
            kind: TableKind::Aligned,
            rows: vec![
                vec![mi("x"), row(vec![mo("="), mn("1")])],
                vec![mi("y"), row(vec![mo("="), mn("2")])],
            ],
        })]
    );
}

// ── LaTeX ───────────────────────────────────────────────────────────────────────────────────

#[test]
fn fractions_and_roots() {
    assert_eq!(math(r"\frac{1}{2}"), vec![frac(mn("1"), mn("2"))]);
    assert_eq!(math(r"\frac12"), vec![frac(mn("1"), mn("2"))]);
    assert_eq!(
        math(r"\dfrac{a}{b}"),
        vec![MathNode::Fraction {
            numerator: Box::new(mi("a")),
            denominator: Box::new(mi("b")),
            bar: true,
            display: Some(true),
        }]
    );
    assert_eq!(math(r"\sqrt{x}"), vec![MathNode::Sqrt(Box::new(mi("x")))]);
    assert_eq!(
        math(r"\sqrt[3]{8}"),
        vec![MathNode::Root {
            base: Box::new(mn("8")),
            index: Box::new(mn("3"))
        }]
    );
    assert_eq!(
        math(r"\binom{n}{k}"),
        vec![row(vec![
            mo("("),
            MathNode::Fraction {
                numerator: Box::new(mi("n")),
                denominator: Box::new(mi("k")),
                bar: false,
                display: None,
            },
            mo(")"),
        ])]
    );
}

#[test]
fn sub_and_superscripts() {
    assert_eq!(math("x^2"), vec![sup(mi("x"), mn("2"))]);
    assert_eq!(math("a_i"), vec![sub(mi("a"), mi("i"))]);
    assert_eq!(
        math("x_i^{n+1}"),
        vec![MathNode::Scripts {
            base: Box::new(mi("x")),
            sub: Some(Box::new(mi("i"))),
            sup: Some(Box::new(row(vec![mi("n"), mo("+"), mn("1")]))),
        }]
    );
    assert_eq!(
        math("{x^2}^3"),
        vec![sup(row(vec![sup(mi("x"), mn("2"))]), mn("3"))]
    );
    assert_eq!(
        math("f'(x)"),
        vec![sup(mi("f"), mo("′")), fixed("("), mi("x"), fixed(")")]
    );
    assert!(math_error("x^2^3").contains("double superscript"));
}

#[test]
fn symbols_numbers_and_operators() {
    assert_eq!(
        math(r"2\pi r \cdot 3.14 \le \Omega - 1"),
        vec![
            mn("2"),
            mi("π"),
            mi("r"),
            mo("⋅"),
            mn("3.14"),
            mo("≤"),
            upright("Ω"),
            mo("−"),
            mn("1"),
        ]
    );
    assert_eq!(math(r"a \not= b"), vec![mi("a"), mo("≠"), mi("b")]);
    assert_eq!(math(r"\sin x"), vec![upright("sin"), mi("x")]);
}

#[test]
fn boxed_answers() {
    assert_eq!(
        math(r"\boxed{42}"),
        vec![MathNode::Boxed(Box::new(mn("42")))]
    );
    assert_eq!(
        math(r"\boxed{x = \frac{1}{2}}"),
        vec![MathNode::Boxed(Box::new(row(vec![
            mi("x"),
            mo("="),
            frac(mn("1"), mn("2"))
        ])))]
    );
}

#[test]
fn big_operators_take_limits_above_and_below_and_integrals_take_scripts() {
    assert_eq!(
        math(r"\sum_{i=1}^n i"),
        vec![
            MathNode::Limits {
                base: Box::new(mo("∑")),
                under: Some(Box::new(row(vec![mi("i"), mo("="), mn("1")]))),
                over: Some(Box::new(mi("n"))),
                accent: false,
            },
            mi("i"),
        ]
    );
    assert_eq!(
        math(r"\int_0^1"),
        vec![MathNode::Scripts {
            base: Box::new(mo("∫")),
            sub: Some(Box::new(mn("0"))),
            sup: Some(Box::new(mn("1"))),
        }]
    );
    assert_eq!(
        math(r"\lim_{x \to 0}"),
        vec![MathNode::Limits {
            base: Box::new(MathNode::Operator(Operator {
                movable_limits: true,
                ..Operator::plain("lim")
            })),
            under: Some(Box::new(row(vec![mi("x"), mo("→"), mn("0")]))),
            over: None,
            accent: false,
        }]
    );
}

#[test]
fn left_and_right_stretch_their_fences_and_big_fixes_a_size() {
    assert_eq!(
        math(r"\left( \frac{a}{b} \right]"),
        vec![row(vec![
            stretchy("("),
            frac(mi("a"), mi("b")),
            stretchy("]")
        ])]
    );
    assert_eq!(
        math(r"\left. x \right|"),
        vec![row(vec![mi("x"), stretchy("|")])]
    );
    assert_eq!(
        math(r"\big("),
        vec![MathNode::Operator(Operator {
            stretchy: Some(true),
            size: Some(DelimiterSize::Big),
            ..Operator::plain("(")
        })]
    );
}

#[test]
fn matrices_and_cases_are_tables_with_their_fences() {
    assert_eq!(
        math(r"\begin{pmatrix} 1 & 2 \\ 3 & 4 \end{pmatrix}"),
        vec![row(vec![
            stretchy("("),
            MathNode::Table(Table {
                kind: TableKind::Matrix,
                rows: vec![vec![mn("1"), mn("2")], vec![mn("3"), mn("4")]],
            }),
            stretchy(")"),
        ])]
    );
    let cases = math(r"|x| = \begin{cases} x & x \ge 0 \\ -x & \text{otherwise} \end{cases}");
    assert_eq!(
        cases[4],
        row(vec![
            stretchy("{"),
            MathNode::Table(Table {
                kind: TableKind::Cases,
                rows: vec![
                    vec![mi("x"), row(vec![mi("x"), mo("≥"), mn("0")])],
                    vec![
                        row(vec![mo("−"), mi("x")]),
                        MathNode::Text("otherwise".into())
                    ],
                ],
            }),
        ])
    );
}

#[test]
fn table_columns_align_as_their_environment_says() {
    let aligned = Table {
        kind: TableKind::Aligned,
        rows: vec![],
    };
    assert_eq!(
        (0..4).map(|c| aligned.align(c)).collect::<Vec<_>>(),
        [
            ColumnAlign::Right,
            ColumnAlign::Left,
            ColumnAlign::Right,
            ColumnAlign::Left
        ]
    );
    let nodes = math(r"\begin{array}{l|cr} a & b & c \end{array}");
    let [MathNode::Table(array)] = nodes.as_slice() else {
        panic!("not one table: {nodes:?}");
    };
    assert_eq!(
        (0..3).map(|c| array.align(c)).collect::<Vec<_>>(),
        [ColumnAlign::Left, ColumnAlign::Center, ColumnAlign::Right]
    );
}

#[test]
fn text_fonts_and_spaces() {
    assert_eq!(
        math(r"x \text{ if } y"),
        vec![mi("x"), MathNode::Text(" if ".into()), mi("y")]
    );
    assert_eq!(math(r"\mathbb{R}^n"), vec![sup(mi("ℝ"), mi("n"))]);
    assert_eq!(math(r"\mathrm{kg}"), vec![upright("kg")]);
    assert_eq!(
        math(r"a\,b\quad c"),
        vec![
            mi("a"),
            MathNode::Space(Space::Thin),
            mi("b"),
            MathNode::Space(Space::Quad),
            mi("c")
        ]
    );
    assert_eq!(
        math(r"\hat{x} + \overline{AB}"),
        vec![
            MathNode::Limits {
                base: Box::new(mi("x")),
                under: None,
                over: Some(Box::new(fixed("^"))),
                accent: true,
            },
            mo("+"),
            MathNode::Limits {
                base: Box::new(row(vec![mi("A"), mi("B")])),
                under: None,
                over: Some(Box::new(stretchy("‾"))),
                accent: true,
            },
        ]
    );
}

#[test]
fn comments_and_line_breaks_outside_tables_draw_nothing() {
    assert_eq!(math("a % a comment\nb"), vec![mi("a"), mi("b")]);
    assert_eq!(math(r"a \\ b"), vec![mi("a"), mi("b")]);
}

#[test]
fn unknown_commands_are_shown_as_written_and_the_rest_is_drawn() {
    let nodes = math(r"\foo{x} + 1");
    assert_eq!(
        nodes,
        vec![MathNode::Unknown(r"\foo".into()), mi("x"), mo("+"), mn("1")]
    );
}

#[test]
fn broken_formulas_are_kept_as_written_with_the_reason() {
    assert!(math_error(r"\frac{1}{2").contains("never closed"));
    assert!(math_error(r"x}").contains("never opened"));
    assert!(math_error(r"\begin{aligned} x &= 1").contains("never closed"));
    assert!(math_error(r"\end{aligned}").contains(r"without a `\begin`"));
    assert!(math_error(r"\begin{pmatrix} 1 \end{bmatrix}").contains("closes"));
    assert!(math_error(r"\left( x").contains(r"never closed by `\right`"));
    assert!(math_error(r"x \right)").contains(r"without a `\left`"));
    assert!(math_error("a & b").contains("only allowed in a table"));
    assert!(math_error(r"\begin{tikzpicture}\end{tikzpicture}").contains("not supported"));
    assert!(math_error(r"\frac{1}").contains("needs an argument"));
}

// ── Hostile text ────────────────────────────────────────────────────────────────────────────

#[test]
fn html_in_model_text_is_only_text() {
    for hostile in [
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(1)>",
        "<a href=\"javascript:alert(1)\">x</a>",
        "<svg onload=alert(1)>",
        "<iframe srcdoc='<script>alert(1)</script>'>",
    ] {
        assert_eq!(inline(hostile), vec![text(hostile)], "{hostile}");
    }
}

#[test]
fn links_to_anything_but_the_web_stay_text() {
    for hostile in [
        "[click](javascript:alert(1))",
        "[click](JavaScript:alert(1))",
        "[click](  javascript:alert(1) )",
        "[click](<javascript:alert(1)>)",
        "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
        "[x](vbscript:msgbox)",
        "[x](file:///etc/passwd)",
        "[x](//evil.example/path)",
        "[x](http:alert(1))",
        "<javascript:alert(1)>",
        "<data:text/html,x>",
    ] {
        let document = doc(hostile);
        assert_eq!(urls(&document), Vec::<String>::new(), "{hostile}");
        assert_eq!(
            document.blocks,
            vec![Block::Paragraph(vec![text(hostile)])],
            "{hostile} stays as written"
        );
    }
}

#[test]
fn latex_commands_that_link_or_style_are_unknown_commands() {
    for command in [
        r"\href{javascript:alert(1)}{x}",
        r"\url{javascript:alert(1)}",
        r"\htmlId{x}{y}",
        r"\class{x}{y}",
        r"\style{color:red}{y}",
        r"\htmlData{a=b}{y}",
        r"\includegraphics{x.png}",
        r"\color{red}{y}",
    ] {
        let nodes = math(command);
        let name = command.split('{').next().unwrap_or_default();
        assert_eq!(unknowns(&nodes), vec![name.to_string()], "{command}");
    }
    // Even inside a link's text, a `\href` is no link.
    assert_eq!(
        urls(&doc(r"$\href{https://x.org}{x}$")),
        Vec::<String>::new()
    );
}

#[test]
fn ten_thousand_open_braces_hit_the_depth_limit() {
    let source = format!("${}x$", "{".repeat(10_000));
    assert_eq!(
        render(&source),
        Err(LimitError::TooDeep {
            limit: Limits::default().max_depth
        })
    );
    let sqrt = format!("${}x$", r"\sqrt".repeat(10_000));
    assert!(matches!(render(&sqrt), Err(LimitError::TooDeep { .. })));
    let lefts = format!("${}$", r"\left(".repeat(10_000));
    assert!(matches!(render(&lefts), Err(LimitError::TooDeep { .. })));
    let environments = format!("$${}$$", r"\begin{aligned}".repeat(5_000));
    assert!(matches!(
        render(&environments),
        Err(LimitError::TooDeep { .. })
    ));
}

#[test]
fn deeply_nested_quotes_lists_and_emphasis_hit_the_depth_limit() {
    let quotes = format!("{} deep", ">".repeat(10_000));
    assert!(matches!(render(&quotes), Err(LimitError::TooDeep { .. })));
    let lists: String = (0..300)
        .map(|level| format!("{}- item\n", "  ".repeat(level)))
        .collect();
    assert!(matches!(render(&lists), Err(LimitError::TooDeep { .. })));
    let stars = format!("{}x{}", "*".repeat(10_000), "*".repeat(10_000));
    assert!(matches!(render(&stars), Err(LimitError::TooDeep { .. })));
    let text = format!("{}x", "\\text{".repeat(10_000));
    assert!(matches!(
        render(&format!("${text}$")),
        Err(LimitError::TooDeep { .. })
    ));
}

#[test]
fn a_megabyte_of_dollars_is_over_the_length_limit() {
    let dollars = "$".repeat(1 << 20);
    assert_eq!(
        render(&dollars),
        Err(LimitError::TooLong {
            bytes: 1 << 20,
            limit: Limits::default().max_bytes
        })
    );
}

/// The steps of rendering `make(n)` and `make(10 n)`: a parser that rescans what it has read
/// takes a hundred times the steps for ten times the text.
fn assert_linear(name: &str, make: impl Fn(usize) -> String, n: usize) {
    let limits = Limits {
        max_nodes: usize::MAX,
        ..Limits::default()
    };
    let (small_result, small) = render_counted(&make(n), limits);
    let (large_result, large) = render_counted(&make(10 * n), limits);
    assert!(small_result.is_ok(), "{name}: {small_result:?}");
    assert!(large_result.is_ok(), "{name}: {large_result:?}");
    assert!(
        large <= 12 * small,
        "{name}: {small} steps for {n}, {large} for ten times as much"
    );
}

#[test]
fn storms_of_delimiters_render_in_steps_linear_in_their_length() {
    assert_linear("dollars", |n| "$".repeat(n), 20_000);
    assert_linear("dollar pairs with space", |n| "$a ".repeat(n), 6_000);
    assert_linear(
        "backslash pairs in math",
        |n| format!("${}$", r"\\".repeat(n)),
        10_000,
    );
    assert_linear("backslash pairs in text", |n| r"\\".repeat(n), 10_000);
    assert_linear("open parens", |n| r"\(".repeat(n), 10_000);
    assert_linear("open brackets", |n| "[".repeat(n), 20_000);
    assert_linear("link openers", |n| "[a](".repeat(n), 5_000);
    assert_linear(
        "link openers with titles",
        |n| "[a](http://x \"".repeat(n),
        1_500,
    );
    assert_linear("angle brackets", |n| "<http".repeat(n), 5_000);
    assert_linear("backticks", |n| "`` ` ".repeat(n), 5_000);
    assert_linear("alternating emphasis", |n| "*a _b ".repeat(n), 3_000);
    assert_linear("unclosed emphasis", |n| "**a ".repeat(n), 4_000);
    assert_linear(
        "closers with no opener of their kind",
        |n| format!("{}{}", "_a ".repeat(n), "a* ".repeat(n)),
        3_000,
    );
    assert_linear("display openers", |n| "$$ x\n".repeat(n), 4_000);
    assert_linear("begin lines", |n| "\\begin{aligned} x\n".repeat(n), 1_000);
    assert_linear(
        "blank lines in lists",
        |n| format!("- a{}\nb", "\n".repeat(n)),
        20_000,
    );
}

#[test]
fn a_render_stops_at_the_element_and_step_limits() {
    let many = "$x$ ".repeat(100);
    let few_nodes = Limits {
        max_nodes: 50,
        ..Limits::default()
    };
    assert_eq!(
        render_with(&many, few_nodes),
        Err(LimitError::TooManyNodes { limit: 50 })
    );
    let few_steps = Limits {
        work_per_byte: 0,
        ..Limits::default()
    };
    let long = "word ".repeat(2_000);
    assert!(matches!(
        render_with(&long, few_steps),
        Err(LimitError::TooMuchWork { .. })
    ));
    assert!(render(&long).is_ok());
}

#[test]
fn limit_errors_say_which_limit_the_text_went_past() {
    let deep = LimitError::TooDeep { limit: 40 }.to_string();
    assert!(deep.contains("more than 40 levels deep"), "{deep}");
    let long = LimitError::TooLong {
        bytes: 300_000,
        limit: 262_144,
    }
    .to_string();
    assert!(
        long.contains("300000 bytes long") && long.contains("up to 262144"),
        "{long}"
    );
}
