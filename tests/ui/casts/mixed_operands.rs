//! An operation on an `f32` and an `f64` value (which rustc rejects too) is
//! reported by the macro at the operation.
use autodiff::differentiate;

#[differentiate]
fn f(x: f64) -> f64 {
    let h = x as f32;
    let y = h * x;
    y as f64
}

fn main() {}
