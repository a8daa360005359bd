//! `match` on a differentiated value is rejected; the error points at `match`.
use autodiff::differentiate;

#[differentiate]
fn f(x: f64, n: usize) -> f64 {
    match n {
        0 => x,
        _ => 2.0 * x,
    }
}

fn main() {}
