//! A differentiated value used as an index is rejected; the error points at the index expression.
use autodiff::differentiate;

#[differentiate]
fn f(x: f64, w: &[f64]) -> f64 {
    w[x as usize] * x
}

fn main() {}
