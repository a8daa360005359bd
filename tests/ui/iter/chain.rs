//! A `for` over `chain` of two iterators is rejected; the error points at the iterator.
use autodiff::differentiate;

#[differentiate]
fn f(x: &[f64], y: &[f64]) -> f64 {
    let mut s = 0.0;
    for p in x.iter().chain(y.iter()) {
        s += p * p;
    }
    s
}

fn main() {}
