//! A function returning `()` is rejected; the error points at its name.
use autodiff::differentiate;

#[differentiate]
fn f(x: f64) {
    let _ = x * x;
}

fn main() {}
