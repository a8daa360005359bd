//! Rows of different lengths are iterated with `for row in x`, not a chain.
use autodiff::differentiate;

#[differentiate]
fn f(x: &[Vec<f64>]) -> f64 {
    x.iter().map(|r| r[0] * r[0]).sum()
}

fn main() {}
