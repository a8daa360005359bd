//! A construct the classifier cannot tell anything about (`&raw const x`) is rejected when it reads a differentiated value.
use autodiff::differentiate;

#[differentiate]
fn f(x: f64) -> f64 {
    let p = &raw const x;
    x
}

fn main() {}
