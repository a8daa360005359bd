//! Calling a local closure that computes something other than a float (a tuple) from differentiated values is rejected.
use autodiff::differentiate;

#[differentiate]
fn f(x: f64) -> f64 {
    let c = |v: f64| (v, 2.0 * v);
    c(x).1
}

fn main() {}
