//! A whole row of a nested buffer cannot be assigned at once.
use autodiff::differentiate;

#[differentiate]
fn f(mut m: [[f64; 2]; 2]) -> f64 {
    m[1] = [1.0, 2.0];
    m[0][0] * m[1][1]
}

fn main() {}
