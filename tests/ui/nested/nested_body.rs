//! A function calling generated derivatives (nested differentiation) takes its
//! inputs flat.
use autodiff::differentiate;

#[differentiate]
fn g(x: f64) -> f64 {
    x * x * x
}

#[differentiate]
fn h(m: &[[f64; 2]]) -> f64 {
    let (_, d) = g_grad(m[0][0]);
    d * m[0][1]
}

fn main() {}
