//! A `move` closure of differentiated values is rejected: inlined at the call, it would read them as they are then.
use autodiff::differentiate;

#[differentiate]
fn f(x: f64) -> f64 {
    let c = move |v: f64| v * x;
    c(3.0)
}

fn main() {}
