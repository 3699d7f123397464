//! The DOM of a rich-text tree, built node by node.
//!
//! Every element name and attribute name below is a constant, and every attribute value comes
//! from the tree's enums (or is a [`WebUrl`], which only holds `http(s):` addresses): model text
//! reaches the page only as text nodes. Nothing is ever parsed as HTML.
//!
//! The nodes are made by Leptos's own DOM functions (`Dom`), which every page already calls:
//! calling browser APIs from here instead would add imports, and their glue, to the code every
//! visit loads first.

use std::sync::Arc;

use leptos::tachys::renderer::dom::Dom;
use web_sys::Element;

use crate::app::richtext::{
    Block, ColumnAlign, Document, Inline, Math, MathNode, MathSpan, Operator, Table, TableKind,
    WebUrl,
};

/// The MathML namespace: elements created in it are drawn as math (MathML Core).
const MATHML: &str = "http://www.w3.org/1998/Math/MathML";

/// What a rich-text container shows.
#[derive(Debug, Clone)]
pub struct Content {
    /// The parsed text.
    pub document: Arc<Document>,
}

/// Fills `container`, a new empty element, with `content`'s DOM (the `use:fill` directive of
/// the rich-text component, which builds the container once and never refills it).
pub fn fill(container: Element, content: Content) {
    blocks(&container, &content.document.blocks);
}

fn html(parent: &Element, tag: &'static str) -> Element {
    let element = Dom::create_element(tag, None);
    Dom::insert_node(parent, &element, None);
    element
}

fn mathml(parent: &Element, tag: &'static str) -> Element {
    let element = Dom::create_element(tag, Some(MATHML));
    Dom::insert_node(parent, &element, None);
    element
}

/// `text` as a text node: the only way model text enters the page.
fn text(parent: &Element, text: &str) {
    Dom::insert_node(parent, &Dom::create_text_node(text), None);
}

// ── Markdown ────────────────────────────────────────────────────────────────────────────────

fn blocks(parent: &Element, blocks: &[Block]) {
    for block in blocks {
        self::block(parent, block);
    }
}

fn block(parent: &Element, block: &Block) {
    match block {
        Block::Paragraph(content) => inlines(&html(parent, "p"), content),
        Block::Heading { level, content } => {
            // The step card's own headings are h3 and h4: a reply's headings sit below.
            let heading = html(parent, if level.get() == 1 { "h5" } else { "h6" });
            Dom::set_attribute(&heading, "class", heading_class(level.get()));
            inlines(&heading, content);
        }
        Block::CodeBlock { code, .. } => text(&html(&html(parent, "pre"), "code"), code),
        Block::List { start, items } => {
            let list = match start {
                Some(start) => {
                    let list = html(parent, "ol");
                    if *start != 1 {
                        Dom::set_attribute(&list, "start", &start.to_string());
                    }
                    list
                }
                None => html(parent, "ul"),
            };
            for item in items {
                blocks(&html(&list, "li"), item);
            }
        }
        Block::Quote(inner) => blocks(&html(parent, "blockquote"), inner),
        Block::Math(span) => {
            let wrapper = html(parent, "div");
            Dom::set_attribute(&wrapper, "class", "rt-math-block");
            math_span(&wrapper, span);
        }
        Block::Rule => {
            html(parent, "hr");
        }
    }
}

fn inlines(parent: &Element, inlines: &[Inline]) {
    for inline in inlines {
        self::inline(parent, inline);
    }
}

fn inline(parent: &Element, inline: &Inline) {
    match inline {
        Inline::Text(content) => text(parent, content),
        Inline::Emphasis(content) => inlines(&html(parent, "em"), content),
        Inline::Strong(content) => inlines(&html(parent, "strong"), content),
        Inline::Code(code) => text(&html(parent, "code"), code),
        Inline::Link { content, url } => link(parent, content, url),
        Inline::Math(span) => math_span(parent, span),
        Inline::LineBreak => {
            html(parent, "br");
        }
    }
}

/// A link to a web address, with the address shown when the link's text is not the address
/// itself: a model's link never hides where it goes.
fn link(parent: &Element, content: &[Inline], url: &WebUrl) {
    let anchor = html(parent, "a");
    Dom::set_attribute(&anchor, "href", url.as_str());
    Dom::set_attribute(&anchor, "rel", "noopener noreferrer nofollow");
    Dom::set_attribute(&anchor, "referrerpolicy", "no-referrer");
    Dom::set_attribute(&anchor, "target", "_blank");
    inlines(&anchor, content);
    let says_address = matches!(content, [Inline::Text(t)] if t == url.as_str());
    if !says_address {
        let address = html(parent, "span");
        Dom::set_attribute(&address, "class", "rt-url");
        text(&address, &format!(" ({})", url.as_str()));
    }
}

// ── MathML ──────────────────────────────────────────────────────────────────────────────────

fn math_span(parent: &Element, span: &MathSpan) {
    match span {
        MathSpan::Rendered(formula) => math(parent, formula),
        MathSpan::Failed {
            source,
            display,
            error,
        } => {
            let kept = html(parent, if *display { "pre" } else { "code" });
            Dom::set_attribute(&kept, "class", "rt-math-failed");
            Dom::set_attribute(&kept, "title", &format!("Not drawn as math: {error}"));
            text(&kept, source);
        }
    }
}

fn math(parent: &Element, formula: &Math) {
    let element = mathml(parent, "math");
    if formula.display {
        Dom::set_attribute(&element, "display", "block");
    }
    math_nodes(&element, &formula.content);
}

fn math_nodes(parent: &Element, nodes: &[MathNode]) {
    for node in nodes {
        math_node(parent, node);
    }
}

fn math_node(parent: &Element, node: &MathNode) {
    match node {
        MathNode::Row(children) => math_nodes(&mathml(parent, "mrow"), children),
        MathNode::Ident {
            text: name,
            upright,
        } => {
            let mi = mathml(parent, "mi");
            if *upright {
                Dom::set_attribute(&mi, "mathvariant", "normal");
            }
            text(&mi, name);
        }
        MathNode::Number(number) => text(&mathml(parent, "mn"), number),
        MathNode::Operator(operator) => self::operator(parent, operator),
        MathNode::Text(words) => text(&mathml(parent, "mtext"), words),
        MathNode::Space(space) => {
            Dom::set_attribute(&mathml(parent, "mspace"), "width", space.em())
        }
        MathNode::Fraction {
            numerator,
            denominator,
            bar,
            display,
        } => {
            let fraction = mathml(parent, "mfrac");
            if !bar {
                Dom::set_attribute(&fraction, "linethickness", "0");
            }
            if let Some(display) = display {
                Dom::set_attribute(&fraction, "displaystyle", flag(*display));
            }
            math_node(&fraction, numerator);
            math_node(&fraction, denominator);
        }
        MathNode::Sqrt(base) => math_node(&mathml(parent, "msqrt"), base),
        MathNode::Root { base, index } => {
            let root = mathml(parent, "mroot");
            math_node(&root, base);
            math_node(&root, index);
        }
        MathNode::Scripts { base, sub, sup } => {
            let tag = match (sub, sup) {
                (Some(_), Some(_)) => "msubsup",
                (Some(_), None) => "msub",
                _ => "msup",
            };
            let scripts = mathml(parent, tag);
            math_node(&scripts, base);
            for script in sub.iter().chain(sup) {
                math_node(&scripts, script);
            }
        }
        MathNode::Limits {
            base,
            under,
            over,
            accent,
        } => {
            let tag = match (under, over) {
                (Some(_), Some(_)) => "munderover",
                (Some(_), None) => "munder",
                _ => "mover",
            };
            let limits = mathml(parent, tag);
            if *accent {
                Dom::set_attribute(&limits, "accent", "true");
            }
            math_node(&limits, base);
            for script in under.iter().chain(over) {
                math_node(&limits, script);
            }
        }
        MathNode::Table(table) => self::table(parent, table),
        MathNode::Boxed(inner) => {
            let boxed = mathml(parent, "menclose");
            Dom::set_attribute(&boxed, "notation", "box");
            math_node(&boxed, inner);
        }
        MathNode::Style { display, content } => {
            let style = mathml(parent, "mstyle");
            Dom::set_attribute(&style, "displaystyle", flag(*display));
            math_nodes(&style, content);
        }
        MathNode::Unknown(command) => text(&mathml(&mathml(parent, "merror"), "mtext"), command),
    }
}

fn operator(parent: &Element, operator: &Operator) {
    let mo = mathml(parent, "mo");
    if let Some(stretchy) = operator.stretchy {
        Dom::set_attribute(&mo, "stretchy", flag(stretchy));
    }
    if let Some(size) = operator.size {
        Dom::set_attribute(&mo, "minsize", size.em());
        Dom::set_attribute(&mo, "maxsize", size.em());
    }
    if operator.movable_limits {
        Dom::set_attribute(&mo, "movablelimits", "true");
    }
    text(&mo, &operator.text);
}

fn table(parent: &Element, table: &Table) {
    let mtable = mathml(parent, "mtable");
    Dom::set_attribute(&mtable, "class", table_class(&table.kind));
    for row in &table.rows {
        let mtr = mathml(&mtable, "mtr");
        for (column, cell) in row.iter().enumerate() {
            let mtd = mathml(&mtr, "mtd");
            Dom::set_attribute(&mtd, "class", align_class(table.align(column)));
            math_node(&mtd, cell);
        }
    }
}

fn flag(on: bool) -> &'static str {
    if on {
        "true"
    } else {
        "false"
    }
}

fn heading_class(level: u8) -> &'static str {
    match level {
        1 => "rt-h1",
        2 => "rt-h2",
        3 => "rt-h3",
        _ => "rt-h4",
    }
}

fn table_class(kind: &TableKind) -> &'static str {
    match kind {
        TableKind::Aligned => "rt-aligned",
        TableKind::Cases => "rt-cases",
        TableKind::Matrix | TableKind::Gathered | TableKind::Array(_) => "rt-matrix",
    }
}

fn align_class(align: ColumnAlign) -> &'static str {
    match align {
        ColumnAlign::Left => "rt-left",
        ColumnAlign::Center => "rt-center",
        ColumnAlign::Right => "rt-right",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::richtext::render;
    use wasm_bindgen_test::wasm_bindgen_test;

    /// A detached `<div>` filled with the DOM of `text`.
    fn filled(text: &str) -> Element {
        let container = web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.create_element("div").ok())
            .expect("a document to build in");
        let document = render(text).expect("renders");
        fill(
            container.clone(),
            Content {
                document: Arc::new(document),
            },
        );
        container
    }

    /// The elements under `container` that match `selector`, in document order.
    fn all(container: &Element, selector: &str) -> Vec<Element> {
        fn walk(element: &Element, selector: &str, out: &mut Vec<Element>) {
            let mut child = element.first_element_child();
            while let Some(current) = child {
                if current.matches(selector).expect("a valid selector") {
                    out.push(current.clone());
                }
                walk(&current, selector, out);
                child = current.next_element_sibling();
            }
        }
        let mut out = Vec::new();
        walk(container, selector, &mut out);
        out
    }

    fn attribute(element: &Element, name: &str) -> Option<String> {
        element.get_attribute(name)
    }

    #[wasm_bindgen_test]
    fn math_elements_are_created_in_the_mathml_namespace() {
        let container = filled(r"$\frac{1}{2}$ and $\boxed{42}$");
        let fractions = all(&container, "mfrac");
        assert_eq!(fractions.len(), 1);
        assert_eq!(fractions[0].namespace_uri().as_deref(), Some(MATHML));
        let numbers: Vec<String> = all(&container, "mfrac > mn")
            .iter()
            .map(|n| n.text_content().unwrap_or_default())
            .collect();
        assert_eq!(numbers, ["1", "2"]);
        let boxed = all(&container, "menclose");
        assert_eq!(boxed.len(), 1);
        assert_eq!(attribute(&boxed[0], "notation").as_deref(), Some("box"));
        assert_eq!(boxed[0].text_content().as_deref(), Some("42"));
        // Markdown's elements are HTML.
        let paragraph = all(&container, "p");
        assert_eq!(
            paragraph[0].namespace_uri().as_deref(),
            Some("http://www.w3.org/1999/xhtml")
        );
    }

    #[wasm_bindgen_test]
    fn attributes_come_from_the_tree() {
        let container = filled(
            "$$\\begin{aligned} a &= \\left( b \\right) \\\\ \\mathrm{d}x &= \\sum_i \\hat{y} \\end{aligned}$$",
        );
        let math = all(&container, "math");
        assert_eq!(attribute(&math[0], "display").as_deref(), Some("block"));
        let table = all(&container, "mtable");
        assert_eq!(attribute(&table[0], "class").as_deref(), Some("rt-aligned"));
        let cells: Vec<Option<String>> = all(&container, "mtr:first-child > mtd")
            .iter()
            .map(|c| attribute(c, "class"))
            .collect();
        assert_eq!(cells, [Some("rt-right".into()), Some("rt-left".into())]);
        let fences: Vec<Option<String>> = all(&container, "mo[stretchy]")
            .iter()
            .map(|m| attribute(m, "stretchy"))
            .collect();
        // \left( and \right) stretch; the hat keeps its size.
        assert_eq!(
            fences,
            [
                Some("true".into()),
                Some("true".into()),
                Some("false".into())
            ]
        );
        let upright: Vec<String> = all(&container, "mi[mathvariant=normal]")
            .iter()
            .map(|m| m.text_content().unwrap_or_default())
            .collect();
        assert_eq!(upright, ["d"]);
        assert_eq!(all(&container, "munder").len(), 1);
        assert_eq!(
            attribute(&all(&container, "mover")[0], "accent").as_deref(),
            Some("true")
        );
    }

    #[wasm_bindgen_test]
    fn a_web_link_shows_its_address_and_opens_apart() {
        let container = filled("[the source](https://example.org/x) and <https://example.org/y>");
        let anchors = all(&container, "a");
        assert_eq!(anchors.len(), 2);
        assert_eq!(
            attribute(&anchors[0], "href").as_deref(),
            Some("https://example.org/x")
        );
        assert_eq!(
            attribute(&anchors[0], "rel").as_deref(),
            Some("noopener noreferrer nofollow")
        );
        assert_eq!(attribute(&anchors[0], "target").as_deref(), Some("_blank"));
        let shown: Vec<String> = all(&container, ".rt-url")
            .iter()
            .map(|s| s.text_content().unwrap_or_default())
            .collect();
        // The second link's text is its address already.
        assert_eq!(shown, [" (https://example.org/x)"]);
    }

    #[wasm_bindgen_test]
    fn hostile_text_builds_only_text_and_whitelisted_elements() {
        let hostile = "<script>alert(1)</script> <img src=x onerror=alert(1)> \
            [x](javascript:alert(1)) <javascript:alert(1)> $\\href{javascript:alert(1)}{y}$";
        let container = filled(hostile);
        assert!(all(&container, "script, img, iframe").is_empty());
        assert!(all(&container, "a").is_empty());
        assert_eq!(
            all(&container, "merror")[0].text_content().as_deref(),
            Some("\\href")
        );
        let text = container.text_content().unwrap_or_default();
        assert!(text.contains("<script>alert(1)</script>"), "{text}");
        assert!(text.contains("[x](javascript:alert(1))"), "{text}");
    }

    #[wasm_bindgen_test]
    fn a_broken_formula_is_kept_as_written_with_its_reason_as_a_title() {
        let container = filled(r"$\frac{1}{2$");
        let kept = all(&container, "code.rt-math-failed");
        assert_eq!(kept.len(), 1);
        assert_eq!(kept[0].text_content().as_deref(), Some(r"\frac{1}{2"));
        let title = attribute(&kept[0], "title").unwrap_or_default();
        assert!(title.starts_with("Not drawn as math: "), "{title}");
    }
}
