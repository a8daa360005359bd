//! A `match` initialising a `let` from a differentiated value is rejected, not treated as a constant.
use autodiff::differentiate;

#[differentiate]
fn f(x: f64, n: usize) -> f64 {
    let a = match n {
        0 => x,
        _ => 1.0,
    };
    a * 3.0
}

fn main() {}
