//! An array literal of differentiated values is a local buffer when bound by
//! `let`; in an expression it is rejected.
use autodiff::differentiate;

#[differentiate]
fn f(x: f64) -> f64 {
    [x, 2.0 * x][0] * 2.0
}

fn main() {}
