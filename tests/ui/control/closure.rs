//! A closure over a differentiated value passed as a value (not called in place) is rejected; the error points at the closure.
use autodiff::differentiate;

fn apply(f: impl Fn(f64) -> f64, v: f64) -> f64 {
    f(v)
}

#[differentiate]
fn f(x: f64) -> f64 {
    apply(|t: f64| t * x, 2.0)
}

fn main() {}
