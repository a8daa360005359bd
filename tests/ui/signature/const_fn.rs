//! A `const fn` is rejected; the error points at `const`.
use autodiff::differentiate;

#[differentiate]
const fn f(x: f64) -> f64 {
    x
}

fn main() {}
