//! A nested array return type is rejected; the error points at the return type.
use autodiff::differentiate;

#[differentiate]
fn f(x: f64) -> [[f64; 2]; 2] {
    [[x, x], [x, x]]
}

fn main() {}
