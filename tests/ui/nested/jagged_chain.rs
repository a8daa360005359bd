//! Rows of different lengths go through `map` and `fold` (or `for row in x`);
//! other adapters on them are rejected.
use autodiff::differentiate;

#[differentiate(wrt(x))]
fn f(x: &[Vec<f64>], w: &[f64]) -> f64 {
    x.iter().zip(w.iter()).map(|(r, b)| r[0] * b).sum()
}

fn main() {}
