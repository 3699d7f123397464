//! The accuracy-against-cost scatter of an experiment's configs: where each config falls, and
//! the Pareto front drawn through the configs no other beats on both.

use crate::core::experiment::matrix::ConfigRow;
use crate::core::experiment::pareto::ParetoPoint;

use super::scale::ValueAxis;

/// One config placed on the scatter.
#[derive(Debug, Clone, PartialEq)]
pub struct ScatterMark {
    /// The config's position in the matrix.
    pub arm: usize,
    /// The config's label.
    pub label: String,
    /// The config's hash.
    pub config_hash: String,
    /// Accuracy, 0 to 1.
    pub accuracy: f64,
    /// Cost, USD.
    pub cost_usd: f64,
    /// Whether it is on the Pareto front.
    pub on_front: bool,
    /// Horizontal position in the plot, from its left edge.
    pub x: f64,
    /// Vertical position in the plot, from its top edge (accuracy 1 at the top).
    pub y: f64,
}

/// The scatter of a matrix, placed in a plot `width` × `height`.
#[derive(Debug, Clone, PartialEq)]
pub struct Scatter {
    /// The cost axis (horizontal), from $0.
    pub cost_axis: ValueAxis,
    /// The accuracy axis (vertical), 0 to 1 in fifths.
    pub accuracy_axis: ValueAxis,
    /// The configs that have both an accuracy and a cost, in matrix order.
    pub marks: Vec<ScatterMark>,
    /// The configs left out (no checked answer or no known cost), by label.
    pub unplaced: Vec<String>,
    /// The front's path (`M x y L x y …`) through its configs by rising cost; empty without
    /// any.
    pub front_path: String,
}

impl Scatter {
    /// Places the `pareto` points of `rows` (from [`pareto_front`]) in a plot `width` ×
    /// `height`.
    ///
    /// [`pareto_front`]: crate::core::experiment::pareto::pareto_front
    pub fn of(rows: &[ConfigRow], pareto: &[ParetoPoint], width: f64, height: f64) -> Scatter {
        let largest_cost = pareto
            .iter()
            .map(|p| p.cost_usd)
            .filter(|c| c.is_finite())
            .fold(0.0, f64::max);
        let cost_axis = ValueAxis::up_to(largest_cost, 5);
        let accuracy_axis = ValueAxis {
            max: 1.0,
            step: 0.2,
        };
        let marks: Vec<ScatterMark> = pareto
            .iter()
            .filter_map(|p| {
                let row = rows.get(p.arm)?;
                Some(ScatterMark {
                    arm: p.arm,
                    label: row.label.clone(),
                    config_hash: row.config_hash.clone(),
                    accuracy: p.accuracy,
                    cost_usd: p.cost_usd,
                    on_front: p.on_front,
                    x: cost_axis.position(p.cost_usd, width),
                    y: height - accuracy_axis.position(p.accuracy, height),
                })
            })
            .collect();
        let unplaced = rows
            .iter()
            .enumerate()
            .filter(|(i, _)| !marks.iter().any(|m| m.arm == *i))
            .map(|(_, r)| r.label.clone())
            .collect();
        let mut front: Vec<&ScatterMark> = marks.iter().filter(|m| m.on_front).collect();
        front.sort_by(|a, b| a.cost_usd.total_cmp(&b.cost_usd));
        let front_path = front
            .iter()
            .enumerate()
            .map(|(i, m)| format!("{}{:.2} {:.2}", if i == 0 { "M" } else { " L" }, m.x, m.y))
            .collect();
        Scatter {
            cost_axis,
            accuracy_axis,
            marks,
            unplaced,
            front_path,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::experiment::pareto::pareto_front;
    use crate::core::stats::Proportion;

    fn row(label: &str, correct: usize, of: usize, cost: Option<f64>) -> ConfigRow {
        ConfigRow {
            label: label.into(),
            config_hash: format!("h{label}"),
            batch_id: format!("b{label}"),
            runs: of,
            completed: of,
            accuracy: Proportion::new(correct, of),
            mean_judge_score: None,
            verifier_pass_rate: None,
            mean_iterations: None,
            total_tokens: 0,
            cost_usd: cost,
            cost_complete: true,
            correct_per_usd: None,
            latency_p50_ms: None,
            latency_p90_ms: None,
            paid_calls: 0,
            reused_calls: 0,
        }
    }

    #[test]
    fn configs_are_placed_by_cost_and_accuracy_and_the_front_runs_by_cost() {
        let rows = vec![
            row("cheap", 5, 10, Some(0.1)),
            row("dominated", 4, 10, Some(0.3)),
            row("best", 9, 10, Some(0.4)),
            row("unpriced", 7, 10, None),
        ];
        let scatter = Scatter::of(&rows, &pareto_front(&rows), 200.0, 100.0);
        // Costs up to 0.4 on five ticks: steps of 0.1, top 0.4.
        assert_eq!(scatter.cost_axis.max, 0.4);
        let by_label = |l: &str| scatter.marks.iter().find(|m| m.label == l).unwrap();
        let cheap = by_label("cheap");
        assert!((cheap.x - 50.0).abs() < 1e-9 && (cheap.y - 50.0).abs() < 1e-9);
        let best = by_label("best");
        assert!((best.x - 200.0).abs() < 1e-9 && (best.y - 10.0).abs() < 1e-9);
        assert!(cheap.on_front && best.on_front && !by_label("dominated").on_front);
        assert_eq!(scatter.unplaced, ["unpriced"]);
        assert_eq!(scatter.front_path, "M50.00 50.00 L200.00 10.00");
    }

    #[test]
    fn nothing_placed_draws_no_front() {
        let rows = vec![row("a", 0, 0, None)];
        let scatter = Scatter::of(&rows, &pareto_front(&rows), 200.0, 100.0);
        assert!(scatter.marks.is_empty());
        assert_eq!(scatter.front_path, "");
        assert_eq!(scatter.unplaced, ["a"]);
    }
}
