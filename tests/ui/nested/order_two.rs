//! Second order over a nested buffer is not built yet.
use autodiff::differentiate;

#[differentiate(order = 2)]
fn f(m: [[f64; 2]; 2]) -> f64 {
    m[0][0] * m[1][1] - m[0][1] * m[1][0]
}

fn main() {}
