//! Calling a local closure with a differentiated value is rejected.
use autodiff::differentiate;

#[differentiate]
fn f(x: f64) -> f64 {
    let c = |v: f64| v * 2.0;
    c(x)
}

fn main() {}
