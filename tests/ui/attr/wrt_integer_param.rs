//! `wrt` naming a `usize` parameter is rejected; the error points at the name.
use autodiff::differentiate;

#[differentiate(wrt(x, n))]
fn f(x: f64, n: usize) -> f64 {
    x * n as f64
}

fn main() {}
