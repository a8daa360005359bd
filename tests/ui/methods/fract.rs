//! `fract` on a differentiated value is rejected; the error points at the method name and lists what is supported.
use autodiff::differentiate;

#[differentiate]
fn f(x: f64) -> f64 {
    x.fract() * 2.0
}

fn main() {}
