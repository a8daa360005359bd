//! An `unsafe` block initialising a `let` from a differentiated value is rejected, not treated as a constant.
use autodiff::differentiate;

#[differentiate]
fn f(x: f64) -> f64 {
    let y = unsafe { x * x };
    y
}

fn main() {}
