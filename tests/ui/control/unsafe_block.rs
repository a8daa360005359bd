//! An `unsafe` block computing the result is rejected; the error points at `unsafe`.
use autodiff::differentiate;

unsafe fn scale(v: f64) -> f64 {
    v * 2.0
}

#[differentiate]
fn f(x: f64) -> f64 {
    unsafe { scale(x) * x }
}

fn main() {}
