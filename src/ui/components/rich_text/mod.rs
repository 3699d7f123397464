//! Model text as the reader wants it: formatted (Markdown and LaTeX math, drawn as HTML and
//! MathML) or as written, with a toggle whose choice each page remembers.
//!
//! The parsing is `app::richtext` (pure, tested natively); this module only builds the DOM of
//! its tree ([`dom`]) and holds the choice. A text the parser will not format (past a length,
//! depth or size limit) is shown as written, with a note that says why.

mod dom;

use std::collections::BTreeMap;
use std::sync::Arc;

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::app::richtext;
use crate::ui::components::notice::WarningText;
use crate::ui::persist::{self, PersistError, TEXT_VIEW_KEY};

use dom::{fill, Content};

/// How model text is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TextView {
    /// Markdown and math drawn.
    #[default]
    Formatted,
    /// The text exactly as the model wrote it.
    Raw,
}

/// The text view of one page, for every [`RichText`] under it; remembered in `localStorage`
/// per page, so the Run page and a run's page each keep their own.
#[derive(Debug, Clone, Copy)]
pub struct TextViewChoice {
    /// The page's name in the stored choices (`run`, `run-detail`).
    page: &'static str,
    view: RwSignal<TextView>,
    /// Why the choice could not be read or remembered.
    problem: RwSignal<Option<TextViewProblem>>,
}

/// Why a page's text view could not be read or kept.
#[derive(Debug, thiserror::Error)]
enum TextViewProblem {
    /// The stored choices did not load; the page shows formatted text.
    #[error("{0}")]
    Unreadable(PersistError),
    /// The new choice holds on this page but was not stored.
    #[error("The text view is switched on this page, but could not be remembered: {0}")]
    NotRemembered(PersistError),
}

/// The views remembered, by page.
type Remembered = BTreeMap<String, TextView>;

/// What the stored choice is called in messages about it.
const WHAT: &str = "text view choice";

impl TextViewChoice {
    /// Reads the choice remembered for `page` and provides it to the components below.
    pub fn provide(page: &'static str) -> Self {
        let (view, problem) = match persist::load_json::<Remembered>(WHAT, TEXT_VIEW_KEY) {
            Ok(remembered) => (
                remembered
                    .and_then(|r| r.get(page).copied())
                    .unwrap_or_default(),
                None,
            ),
            Err(error) => (
                TextView::default(),
                Some(TextViewProblem::Unreadable(error)),
            ),
        };
        let choice = TextViewChoice {
            page,
            view: RwSignal::new(view),
            problem: RwSignal::new(problem),
        };
        provide_context(choice);
        choice
    }

    /// The view now.
    pub fn view(&self) -> Signal<TextView> {
        self.view.into()
    }

    /// Switches the view and remembers it for the page.
    pub fn toggle(&self) {
        let next = match self.view.get_untracked() {
            TextView::Formatted => TextView::Raw,
            TextView::Raw => TextView::Formatted,
        };
        self.view.set(next);
        let saved = persist::load_json::<Remembered>(WHAT, TEXT_VIEW_KEY)
            .map(Option::unwrap_or_default)
            .and_then(|mut remembered| {
                remembered.insert(self.page.to_string(), next);
                persist::save_json(WHAT, TEXT_VIEW_KEY, &remembered)
            });
        self.problem
            .set(saved.err().map(TextViewProblem::NotRemembered));
    }
}

/// The raw-text toggle of a page's texts (`data-testid="text-view-toggle"`).
#[component]
pub fn TextViewToggle(
    /// The page's choice.
    choice: TextViewChoice,
) -> impl IntoView {
    let raw = move || choice.view.get() == TextView::Raw;
    view! {
        <div class="text-view-bar">
            <button
                type="button"
                class="btn btn-sm"
                data-testid="text-view-toggle"
                aria-pressed=move || if raw() { "true" } else { "false" }
                title="Show replies exactly as the model wrote them, without Markdown or math"
                on:click=move |_| choice.toggle()
            >
                "Raw text"
            </button>
            {move || {
                choice
                    .problem
                    .with(|problem| problem.as_ref().map(ToString::to_string))
                    .map(|message| view! { <WarningText message=message/> })
            }}
        </div>
    }
}

/// A model's text: formatted, or as written when the page's [`TextViewChoice`] says so (or the
/// text is past the formatter's limits).
///
/// The formatted DOM is built once, when the card is, and hidden while the raw text shows:
/// switching views rebuilds nothing, and the container is never refilled.
#[component]
pub fn RichText(
    /// The text as the model wrote it.
    #[prop(into)]
    text: String,
) -> impl IntoView {
    let view = use_context::<TextViewChoice>().map(|choice| choice.view());
    let (document, note) = match richtext::render(&text) {
        Ok(document) => (document, None),
        Err(limit) => (
            Default::default(),
            Some(format!("Shown as written: {limit}.")),
        ),
    };
    // Past a limit there is nothing formatted to show: the raw text stays, with the note.
    let formatted = note.is_none();
    let raw = move || !formatted || view.is_some_and(|v| v.get() == TextView::Raw);
    let content = Content {
        document: Arc::new(document),
    };
    view! {
        <div class="rich-text" data-testid="rich-text" hidden=raw use:fill=content></div>
        {move || raw().then(|| view! { <p class="step-text" data-testid="raw-text">{text.clone()}</p> })}
        {note.map(|note| view! { <p class="rich-text-note" data-testid="rich-text-note">{note}</p> })}
    }
}
