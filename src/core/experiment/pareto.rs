//! The Pareto front of accuracy against cost: the configs no other config beats on both.

use serde::{Deserialize, Serialize};

use super::matrix::ConfigRow;

/// One config as the accuracy-against-cost scatter places it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ParetoPoint {
    /// The config's position in the matrix.
    pub arm: usize,
    /// Its accuracy (0 to 1).
    pub accuracy: f64,
    /// Its cost, USD.
    pub cost_usd: f64,
    /// Whether no other config is at least as accurate for at most the cost while better on
    /// one of the two.
    pub on_front: bool,
}

/// The points of `rows` that have both an accuracy and a cost, each marked on or off the
/// front, in row order.
pub fn pareto_front(rows: &[ConfigRow]) -> Vec<ParetoPoint> {
    let placed: Vec<(usize, f64, f64)> = rows
        .iter()
        .enumerate()
        .filter_map(|(i, row)| Some((i, row.accuracy?.rate, row.cost_usd?)))
        .collect();
    placed
        .iter()
        .map(|&(arm, accuracy, cost_usd)| {
            let dominated = placed.iter().any(|&(other, acc, cost)| {
                other != arm
                    && acc >= accuracy
                    && cost <= cost_usd
                    && (acc > accuracy || cost < cost_usd)
            });
            ParetoPoint {
                arm,
                accuracy,
                cost_usd,
                on_front: !dominated,
            }
        })
        .collect()
}
