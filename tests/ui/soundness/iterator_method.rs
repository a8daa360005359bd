//! An iterator chain over a differentiated buffer is rejected at its first iterator method (never a silent zero gradient).
use autodiff::differentiate;

#[differentiate]
fn f(x: &[f64]) -> f64 {
    x.iter().map(|v| v * v).sum::<f64>()
}

fn main() {}
