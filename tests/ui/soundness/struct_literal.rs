//! A struct built from differentiated values is rejected.
use autodiff::differentiate;

struct P {
    a: f64,
}

#[differentiate]
fn f(x: f64) -> f64 {
    let p = P { a: x };
    p.a * 2.0
}

fn main() {}
