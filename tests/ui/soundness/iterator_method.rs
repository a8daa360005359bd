//! An iterator adapter outside the supported ones (`filter`) over a differentiated buffer is rejected at the first such method (never a silent zero gradient).
use autodiff::differentiate;

#[differentiate]
fn f(x: &[f64]) -> f64 {
    x.iter().filter(|v| **v > 0.0).map(|v| v * v).sum::<f64>()
}

fn main() {}
