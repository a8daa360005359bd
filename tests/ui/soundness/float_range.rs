//! A range of differentiated values is rejected.
use autodiff::differentiate;

#[differentiate]
fn f(x: f64) -> f64 {
    if (0.0..x).contains(&1.0) { x } else { 2.0 * x }
}

fn main() {}
