//! A `return` inside a closure would return from the function once the closure is inlined: rejected (local closures and iterator chains).
use autodiff::differentiate;

#[differentiate]
fn f(x: f64, w: &[f64]) -> f64 {
    let g = |v: f64| {
        if v > 0.0 {
            return v;
        }
        -v
    };
    let s = w.iter().map(|v| {
        if *v > 1.0 {
            return 1.0;
        }
        *v
    }).sum::<f64>();
    g(x) + s
}

fn main() {}
