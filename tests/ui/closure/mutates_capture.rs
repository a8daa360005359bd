//! A local closure that changes what it captures is rejected (it is inlined where it is called).
use autodiff::differentiate;

#[differentiate]
fn f(x: f64) -> f64 {
    let mut s = 0.0;
    let mut add = |v: f64| s += v * x;
    add(2.0);
    s
}

fn main() {}
