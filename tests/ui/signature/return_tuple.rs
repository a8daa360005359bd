//! A function returning a tuple is rejected; the error points at the return type.
use autodiff::differentiate;

#[differentiate]
fn f(x: f64) -> (f64, f64) {
    (x, x * x)
}

fn main() {}
