//! A function returning a tuple that is not all floats of one type is rejected; the error points at the return type.
use autodiff::differentiate;

#[differentiate]
fn f(x: f64) -> (f64, usize) {
    (x, 2)
}

fn main() {}
