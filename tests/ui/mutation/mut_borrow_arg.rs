//! Passing `&mut x` of a differentiated value is rejected; the error points at the borrow.
use autodiff::differentiate;

fn bump(v: &mut f64) {
    *v += 1.0;
}

#[differentiate]
fn f(x: f64) -> f64 {
    let mut y = x * 2.0;
    bump(&mut y);
    y
}

fn main() {}
