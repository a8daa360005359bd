//! `order = 2` computes on dual numbers, which do not cast between float types:
//! a cast of a differentiated value is rejected there.
use autodiff::differentiate;

#[differentiate(order = 2)]
fn f(x: f64) -> f64 {
    let h = (x as f32).sin();
    h as f64 * x
}

fn main() {}
