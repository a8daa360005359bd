//! An array literal of differentiated values passed to a call is rejected with a hint.
use autodiff::differentiate;

#[differentiate]
fn sum(w: &[f64]) -> f64 {
    w[0] + w[1]
}

#[differentiate]
fn f(x: f64) -> f64 {
    sum(&[x, x * x])
}

fn main() {}
