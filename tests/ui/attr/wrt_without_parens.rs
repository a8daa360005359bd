//! `wrt = x` instead of `wrt(x)` is rejected; the error points at `wrt`.
use autodiff::differentiate;

#[differentiate(wrt = x)]
fn f(x: f64) -> f64 {
    x * x
}

fn main() {}
