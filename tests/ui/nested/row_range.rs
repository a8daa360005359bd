//! A range of rows of a nested buffer is not a buffer the macro can read.
use autodiff::differentiate;

#[differentiate]
fn g(m: &[[f64; 2]]) -> f64 {
    m[0][0]
}

#[differentiate]
fn f(m: &[[f64; 2]]) -> f64 {
    g(&m[1..]) * m[0][1]
}

fn main() {}
