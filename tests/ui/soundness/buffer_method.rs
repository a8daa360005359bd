//! A method of a float buffer other than `len` is rejected; the error names it.
use autodiff::differentiate;

#[differentiate]
fn f(x: &[f64]) -> f64 {
    *x.first().unwrap() * 2.0
}

fn main() {}
