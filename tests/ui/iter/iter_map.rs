//! A `for` over an iterator adapter outside the supported ones (`filter`) is rejected; the error points at the iterator.
use autodiff::differentiate;

#[differentiate]
fn f(x: &[f64]) -> f64 {
    let mut s = 0.0;
    for v in x.iter().filter(|t| **t > 0.0) {
        s += v;
    }
    s
}

fn main() {}
