//! A call argument whose type the macro cannot see (a `const` of another item) must be bound with its type first.
use autodiff::differentiate;

const SCALE: f64 = 2.0;

#[differentiate]
fn g(a: f64, b: f64) -> f64 {
    a * b
}

#[differentiate]
fn f(x: f64) -> f64 {
    g(SCALE, x)
}

fn main() {}
