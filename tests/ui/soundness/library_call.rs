//! A library function the macro cannot see into (`std::mem::replace`) is rejected.
use autodiff::differentiate;

#[differentiate]
fn f(x: f64) -> f64 {
    std::convert::identity(x) * 2.0
}

fn main() {}
