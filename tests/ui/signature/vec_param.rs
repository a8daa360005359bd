//! A `&mut Vec<f64>` parameter is rejected with a pointer to the supported forms; the error points at the type.
use autodiff::differentiate;

#[differentiate]
fn f(w: &mut Vec<f64>) -> f64 {
    w[0] * w[1]
}

fn main() {}
