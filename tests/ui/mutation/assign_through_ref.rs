//! Assigning through a `&mut` of a differentiated value is rejected; the error points at the borrow.
use autodiff::differentiate;

#[differentiate]
fn f(x: f64) -> f64 {
    let mut y = x;
    let r = &mut y;
    *r = x * x;
    y
}

fn main() {}
