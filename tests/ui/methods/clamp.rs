//! `clamp` on a differentiated value is rejected; the error points at the method name and lists what is supported.
use autodiff::differentiate;

#[differentiate]
fn f(x: f64) -> f64 {
    x.clamp(0.0, 1.0) * 2.0
}

fn main() {}
