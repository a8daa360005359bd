//! An `f32` parameter in a function returning `f64` is rejected; the error points at the parameter's type.
use autodiff::differentiate;

#[differentiate]
fn f(x: f64, y: f32) -> f64 {
    x * y as f64
}

fn main() {}
