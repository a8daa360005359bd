//! Storing into an element of an array parameter is rejected; the error points at the parameter.
use autodiff::differentiate;

#[differentiate]
fn f(mut w: [f64; 3], x: f64) -> f64 {
    w[0] = x * 2.0;
    w[0] + w[1]
}

fn main() {}
