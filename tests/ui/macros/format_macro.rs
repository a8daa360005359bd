//! A macro other than `vec!` taking a differentiated value is rejected; the error points at the macro's name.
use autodiff::differentiate;

#[differentiate]
fn f(x: f64) -> f64 {
    println!("{}", x);
    x * x
}

fn main() {}
