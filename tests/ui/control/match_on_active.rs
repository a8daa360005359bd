//! A `match` on a differentiated float with a literal pattern is rejected: a float is matched with `_`, a name and guards.
use autodiff::differentiate;

#[differentiate]
fn f(x: f64) -> f64 {
    match x {
        0.0 => 1.0,
        a if a > 1.0 => a * a,
        a => a,
    }
}

fn main() {}
