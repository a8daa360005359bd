//! A nested buffer parameter is read by element, by row, by `iter()`, by its
//! length, or passed whole to a differentiated function: not bound again.
use autodiff::differentiate;

#[differentiate]
fn f(m: &[[f64; 2]]) -> f64 {
    let n = m;
    n[0][0]
}

fn main() {}
