//! The marks each chart draws, as the pages build them: a bar, a point of a line, a column
//! split into segments. Values are `None` when unknown (drawn empty and written `unknown`,
//! never 0); texts are the exact values as the table and the readout write them.

/// One row of a bar chart.
#[derive(Debug, Clone, PartialEq)]
pub struct Bar {
    /// What the bar is (a model string, an agent).
    pub label: String,
    /// Its value; `None` when unknown (drawn empty and written `unknown`, never 0).
    pub value: Option<f64>,
    /// The exact value as the table and the readout write it (`0.012345`, `12,345`).
    pub text: String,
    /// Something to add in the readout and the table (`2 calls at an unknown price`).
    pub note: Option<String>,
    /// Its palette colour (0 for every bar of a single series; an agent's rank to colour
    /// agents as everywhere else).
    pub color: usize,
}

/// One point of the line.
#[derive(Debug, Clone, PartialEq)]
pub struct Point {
    /// When, in epoch milliseconds.
    pub time_ms: f64,
    /// The value then.
    pub value: f64,
    /// What the point is (a run id, a day).
    pub label: String,
    /// The exact value as the table and the readout write it.
    pub text: String,
    /// Something to add in the readout and the table (`1 run of unknown cost so far`).
    pub note: Option<String>,
}

/// One series' part of a column.
#[derive(Debug, Clone, PartialEq)]
pub struct Segment {
    /// The series (an agent).
    pub series: String,
    /// Its value; `None` when unknown (not drawn, written `unknown`).
    pub value: Option<f64>,
    /// The exact value as the table and the readout write it.
    pub text: String,
}

/// One column.
#[derive(Debug, Clone, PartialEq)]
pub struct Stack {
    /// The category (`Round 1`, `Judge`).
    pub label: String,
    /// Its parts, bottom first.
    pub segments: Vec<Segment>,
    /// The column's total as text (`0.012345`, or with `at least` when a part is unknown).
    pub total_text: String,
    /// The sum of the known parts.
    pub total: f64,
}
