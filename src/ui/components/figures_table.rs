//! The tables of figures on the Costs and Batch pages: a scrolling wrapper, a `costs-table`
//! whose header names each column, numeric columns aligned right, and the rows the caller gives.

use leptos::prelude::*;

/// One column of a [`FiguresTable`].
#[derive(Debug, Clone, Copy)]
pub struct Column {
    /// Its heading.
    pub heading: &'static str,
    /// Whether it holds numbers (aligned right).
    pub numeric: bool,
}

/// A text column.
pub const fn text(heading: &'static str) -> Column {
    Column {
        heading,
        numeric: false,
    }
}

/// A numeric column.
pub const fn num(heading: &'static str) -> Column {
    Column {
        heading,
        numeric: true,
    }
}

/// A table of figures.
#[component]
pub fn FiguresTable(
    /// The columns, in order.
    columns: &'static [Column],
    /// The table's `data-testid`, if tests read it.
    #[prop(optional)]
    testid: Option<&'static str>,
    /// The table's bodies (`<tbody>`s).
    children: Children,
) -> impl IntoView {
    let headings = columns
        .iter()
        .map(|c| {
            view! { <th scope="col" class=c.numeric.then_some("num")>{c.heading}</th> }
        })
        .collect_view();
    view! {
        <div class="table-wrap">
            <table class="costs-table" data-testid=testid>
                <thead>
                    <tr>{headings}</tr>
                </thead>
                {children()}
            </table>
        </div>
    }
}
