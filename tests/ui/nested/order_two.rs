//! Second order reads a nested buffer through its flat buffer; it cannot pass
//! it whole to a call yet.
use autodiff::differentiate;

#[differentiate(order = 2)]
fn g(m: &[[f64; 2]]) -> f64 {
    m[0][0] * m[0][1]
}

#[differentiate(order = 2)]
fn f(m: &[[f64; 2]]) -> f64 {
    g(m) * m[1][1]
}

fn main() {}
