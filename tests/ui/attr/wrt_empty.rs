//! An empty `wrt()` is rejected; the error points at `wrt`.
use autodiff::differentiate;

#[differentiate(wrt())]
fn f(x: f64) -> f64 {
    x * x
}

fn main() {}
