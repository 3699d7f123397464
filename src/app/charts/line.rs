//! The line over time: where a moment falls on the time axis, and the path drawn as steps.

/// Where time `t` falls between `first` and `last` on a `width` wide axis (the middle when
/// every point is at the same time, or when the times are not finite numbers).
pub fn x_of(t: f64, first: f64, last: f64, width: f64) -> f64 {
    let x = (t - first) / (last - first);
    if last > first && x.is_finite() {
        x.clamp(0.0, 1.0) * width
    } else {
        width / 2.0
    }
}

/// The step path through `points` (already in plot coordinates): across, then up.
pub fn step_path(points: &[(f64, f64)]) -> String {
    let mut d = String::new();
    for (i, (x, y)) in points.iter().enumerate() {
        if i == 0 {
            d.push_str(&format!("M{x:.2} {y:.2}"));
        } else {
            d.push_str(&format!("H{x:.2}V{y:.2}"));
        }
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_line_steps_across_then_up() {
        assert_eq!(
            step_path(&[(0.0, 10.0), (5.0, 4.0), (9.5, 1.25)]),
            "M0.00 10.00H5.00V4.00H9.50V1.25"
        );
        assert_eq!(step_path(&[]), "");
        assert_eq!(x_of(15.0, 10.0, 20.0, 100.0), 50.0);
        assert_eq!(x_of(7.0, 7.0, 7.0, 100.0), 50.0, "one moment: the middle");
    }
}
