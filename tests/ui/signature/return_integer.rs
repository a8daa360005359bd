//! A function returning an integer is rejected; the error points at the return type.
use autodiff::differentiate;

#[differentiate]
fn f(x: f64) -> i32 {
    x as i32
}

fn main() {}
