//! Casting a differentiated value to another float type is rejected (one float type per function).
use autodiff::differentiate;

#[differentiate]
fn f(x: f64) -> f64 {
    let y = x as f32;
    x * y as f64
}

fn main() {}
