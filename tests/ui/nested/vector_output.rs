//! A vector-valued function reads a nested buffer through its flat buffer; it
//! cannot pass it whole to a call yet.
use autodiff::differentiate;

#[differentiate]
fn g(m: &[[f64; 2]]) -> f64 {
    m[0][0] * m[0][1]
}

#[differentiate]
fn f(m: &[[f64; 2]]) -> [f64; 2] {
    [g(m), m[0][1]]
}

fn main() {}
