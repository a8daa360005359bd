//! A `&mut [f64]` parameter is rejected with a pointer to `&[f64]`; the error points at the type.
use autodiff::differentiate;

#[differentiate]
fn f(w: &mut [f64], x: f64) -> f64 {
    w[0] = x * 2.0;
    w[0]
}

fn main() {}
