//! A `&mut f64` parameter is rejected with a pointer to the supported input and output forms; the error points at the type.
use autodiff::differentiate;

#[differentiate]
fn f(w: &mut f64, x: f64) -> f64 {
    *w = x * 2.0;
    x
}

fn main() {}
