//! An `async fn` is rejected; the error points at `async`.
use autodiff::differentiate;

#[differentiate]
async fn f(x: f64) -> f64 {
    x * x
}

fn main() {}
