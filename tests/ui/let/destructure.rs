//! Destructuring a differentiated value other than a tuple (an array pattern) in a `let` is rejected; the error points at the pattern.
use autodiff::differentiate;

#[differentiate]
fn f(x: f64) -> f64 {
    let [s, c] = [x * 2.0, x * 3.0];
    s * c
}

fn main() {}
