//! A differentiated call takes the function's float type: an `f32` value passed
//! to it is an error that says to cast it back.
use autodiff::differentiate;

#[differentiate]
fn g(v: f64) -> f64 {
    v * v
}

#[differentiate]
fn f(x: f64) -> f64 {
    let h = x as f32 * 2.0;
    g(h)
}

fn main() {}
