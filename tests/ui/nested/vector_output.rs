//! A vector-valued function takes its inputs flat.
use autodiff::differentiate;

#[differentiate]
fn f(m: &[[f64; 2]]) -> [f64; 2] {
    [m[0][0] * m[0][1], m[0][1]]
}

fn main() {}
