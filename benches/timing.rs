//! Timing helpers the benches share: one measurement, and the median of several.

use std::time::Instant;

/// Seconds `run` takes.
pub fn time(run: impl FnOnce()) -> f64 {
    let s = Instant::now();
    run();
    s.elapsed().as_secs_f64()
}

/// The median of `t` (not empty).
pub fn median(mut t: Vec<f64>) -> f64 {
    t.sort_by(|a, b| a.total_cmp(b));
    t[t.len() / 2]
}
