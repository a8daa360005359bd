//! A field or index of a differentiated float is rejected (floats have neither).
use autodiff::differentiate;

#[differentiate]
fn f(x: f64) -> f64 {
    x.0 + x.re + x[0]
}

fn main() {}
