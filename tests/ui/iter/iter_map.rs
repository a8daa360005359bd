//! A `for` over `x.iter().map(..)` is rejected; the error points at the iterator.
use autodiff::differentiate;

#[differentiate]
fn f(x: &[f64]) -> f64 {
    let mut s = 0.0;
    for v in x.iter().map(|t| t * 2.0) {
        s += v;
    }
    s
}

fn main() {}
