//! Buffers hold the function's float type: a buffer of `f32` values in an `f64`
//! function, and an `f32` value stored into an `f64` buffer, are errors (all
//! reported in one build).
use autodiff::differentiate;

#[differentiate]
fn filled(x: f64) -> f64 {
    let b = vec![x as f32; 3];
    b[0] as f64
}

#[differentiate]
fn literal(x: f64) -> f64 {
    let mut b = [0.0f32; 2];
    b[1] = x as f32;
    b[1] as f64
}

#[differentiate]
fn stored(x: f64, w: &[f64]) -> f64 {
    let mut b = vec![0.0; w.len()];
    let h = (x as f32).sin();
    b[0] = h;
    b[0] as f64 * w[0]
}

fn main() {}
