use autodiff::{differentiate, Differentiable};

#[derive(Clone, Differentiable)]
struct Line {
    a: f64,
    b: f64,
}

#[differentiate(order = 2, wrt(p))]
fn f(p: &Line, x: f64) -> f64 {
    (p.a * x + p.b) * (p.a * x + p.b)
}

fn main() {}
