//! `wrt` naming a parameter the function does not have is rejected; the error points at the name.
use autodiff::differentiate;

#[differentiate(wrt(x, z))]
fn f(x: f64, y: f64) -> f64 {
    x * y
}

fn main() {}
