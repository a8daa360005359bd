//! A field of a tuple of differentiated values is rejected.
use autodiff::differentiate;

#[differentiate]
fn f(x: f64) -> f64 {
    let t = 2.0 * x;
    (t, 1.0).0
}

fn main() {}
