//! A method that mutates a local float buffer would leave its shadow behind: rejected.
use autodiff::differentiate;

#[differentiate]
fn f(x: f64) -> f64 {
    let mut b = vec![0.0; 2];
    b[0] = x;
    b.swap(0, 1);
    b[1] * 3.0
}

fn main() {}
