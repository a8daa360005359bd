//! A `&Vec<f64>` parameter is rejected with a pointer to `&[f64]`; the error points at the type.
use autodiff::differentiate;

#[differentiate]
fn f(w: &Vec<f64>) -> f64 {
    w[0] * w[1]
}

fn main() {}
