//! Where an `f32` value cannot go in an `f64` function: a buffer annotated as
//! `Vec<f32>`, a reassigned `f32` parameter, the returned value.
use autodiff::differentiate;

#[differentiate]
fn annotated_buffer(x: f64) -> f64 {
    let mut b: Vec<f32> = vec![0.0; 3];
    b[0] = x as f32;
    b[0] as f64
}

#[differentiate]
fn reassigned_param(x: f64, mut s: f32) -> f64 {
    s = x as f32;
    s as f64
}

fn main() {}
