//! A function without any float parameter is rejected; the error points at its name.
use autodiff::differentiate;

#[differentiate]
fn f(n: usize) -> f64 {
    n as f64
}

fn main() {}
