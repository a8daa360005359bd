//! `wrt` given twice is rejected; the error points at the second `wrt`.
use autodiff::differentiate;

#[differentiate(wrt(x), wrt(y))]
fn f(x: f64, y: f64) -> f64 {
    x * y
}

fn main() {}
