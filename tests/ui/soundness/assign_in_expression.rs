//! An assignment to a float variable inside an expression copied through as passive code is rejected.
use autodiff::differentiate;

#[differentiate]
fn f(x: f64) -> f64 {
    let mut s = 0.0;
    let n = {
        s = x * x;
        3
    };
    s * n as f64
}

fn main() {}
