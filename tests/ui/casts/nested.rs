//! A function calling generated derivatives (nested differentiation) runs on
//! dual numbers, where `x as f32` would read the value and drop the derivative:
//! rejected (it used to compile and give half the derivative here).
use autodiff::differentiate;

#[differentiate(order = 2)]
fn g(x: f64) -> f64 {
    x * x
}

#[differentiate]
fn f(x: f64) -> f64 {
    let h = x as f32;
    g_grad(h as f64).1 * x
}

fn main() {}
