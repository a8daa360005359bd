//! Wrapping a differentiated value in `Some(..)` is rejected.
use autodiff::differentiate;

#[differentiate]
fn f(x: f64) -> f64 {
    Some(x).unwrap() * 2.0
}

fn main() {}
